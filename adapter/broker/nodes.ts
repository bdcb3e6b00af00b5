/**
 * Which node of the broker to connect to, and when not to try again: the cluster's nodes handed to
 * amqplib's recovery in turn, and the refusals (credentials, virtual host, TLS) that no retry mends.
 */

/**
 * The broker refused this host's login or virtual host, or the two sides refused each other's TLS
 * certificate: retrying would not help.
 */
export class BrokerRefused extends Error {
  readonly code = 'BROKER_REFUSED';
}

/**
 * What a refusal looks like: the broker's 403 for the credentials; for the vhost (530, or 403 without
 * permission) the client reports only that the connection was closed instead of opened.
 */
const REFUSED = /ACCESS[-_]REFUSED|NOT[-_]ALLOWED|Expected ConnectionOpenOk; got <ConnectionClose/;

/**
 * What a TLS failure looks like: Node names a certificate that does not verify by OpenSSL's verify code
 * (SELF_SIGNED_CERT_IN_CHAIN, CERT_HAS_EXPIRED, ERR_TLS_CERT_ALTNAME_INVALID...); an alert the broker
 * sent (it refused our certificate, or has none to ask for) or a handshake gone wrong is ERR_SSL_*.
 */
const UNTRUSTED = /CERT|UNABLE_TO_|SELF_SIGNED|ALTNAME/;
const TLS_FAILED = /^ERR_SSL_/;

/** Why the first connection can never succeed as configured, or undefined when a retry may help. */
export function refusalOf(error: Error & { code?: unknown }, url: string): string | undefined {
  const code = typeof error.code === 'string' ? error.code : '';
  if (TLS_FAILED.test(code)) {
    const alert = /ALERT/.test(code)
      ? 'the broker refused the TLS handshake (a client certificate missing or not trusted: AMQP_CERT_FILE, AMQP_KEY_FILE)'
      : 'the TLS handshake failed (is the port a TLS listener?)';
    return `${alert}: ${code}`;
  }
  if (UNTRUSTED.test(code))
    return `the broker's TLS certificate does not verify against the trusted CAs (AMQP_CA_FILE): ${code}: ${error.message}`;
  if (!REFUSED.test(error.message)) return undefined;
  const vhost = decodeURIComponent(new URL(url).pathname.slice(1)) || '/';
  const what = /ConnectionOpenOk/.test(error.message)
    ? `virtual host ${vhost} (it does not exist, or the user may not use it)`
    : 'login';
  return `the broker refused the connection: ${what}: ${error.message}`;
}

/** The URL to log: no user, no password. */
export function redactedNode(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
}

/**
 * What amqplib is given to connect to a cluster. Its recovery reconnects to the very URL it was given,
 * so for several nodes it gets a URL object (the shape amqplib reads field by field at every attempt)
 * whose fields are those of the next node in turn: reading `protocol`, the first field amqplib reads of
 * an attempt, moves to the next node. One node: its URL string, as is.
 */
export function clusterNodes(urls: readonly string[]): { url: string | object; current(): string } {
  const [first] = urls;
  if (first === undefined) throw new Error('no broker URL');
  if (urls.length === 1) return { url: first, current: () => first };
  const nodes = urls.map((url) => {
    const parsed = new URL(url);
    const query = (name: string) => {
      const value = parsed.searchParams.get(name);
      return value === null ? undefined : Number(value);
    };
    return {
      url,
      fields: {
        protocol: parsed.protocol.replace(/:$/, ''),
        hostname: parsed.hostname.replace(/^\[|\]$/g, ''),
        port: parsed.port === '' ? undefined : Number(parsed.port),
        // amqplib decodes these from a URL string, not from an object: given decoded.
        username: decodeURIComponent(parsed.username),
        password: decodeURIComponent(parsed.password),
        vhost: parsed.pathname.slice(1),
        heartbeat: query('heartbeat'),
        frameMax: query('frameMax'),
        channelMax: query('channelMax'),
        locale: parsed.searchParams.get('locale') ?? undefined,
      } as Record<string, unknown>,
    };
  });
  let next = 0;
  let current = nodes[0] as (typeof nodes)[number];
  const url: Record<string, unknown> = {};
  for (const key of Object.keys(current.fields)) {
    Object.defineProperty(url, key, {
      enumerable: true,
      get: () => {
        if (key === 'protocol') {
          current = nodes[next] as (typeof nodes)[number];
          next = (next + 1) % nodes.length;
        }
        return current.fields[key];
      },
    });
  }
  return { url, current: () => current.url };
}
