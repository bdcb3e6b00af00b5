/**
 * The host's configuration, from the environment, validated before any connection. The variable
 * names are a contract with operators' deployments: never rename one.
 */
import { createPrivateKey, randomUUID, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import * as z from 'zod';
import { DEFAULT_LIMITS, type Limits } from '../protocol/index.ts';
import { DEFAULT_SETTINGS, SETTING_VARIABLES, type Settings } from '../sdk/settings.ts';
import { didYouMean } from './nearest-name.ts';

export const DEFAULTS = Object.freeze({
  AMQP_URL: 'amqp://guest:guest@127.0.0.1:5672',
  WORKER_BUNDLES: 'dist',
  WORKER_HEARTBEAT_SECONDS: 10,
  WORKER_TENANT: 'default',
  WORKER_DRAIN_SECONDS: 30,
  WORKER_HEALTH_PORT: 8080,
  WORKER_RETRY_BASE_SECONDS: 1,
  WORKER_RETRY_MAX_SECONDS: 60,
  WORKER_LOG_LEVEL: 'info',
  WORKER_MAX_BODY_BYTES: DEFAULT_LIMITS.maxBodyBytes,
  WORKER_MAX_MESSAGE_BYTES: DEFAULT_LIMITS.maxMessageBytes,
  WORKER_RECONNECT_MAX_SECONDS: 5,
  WORKER_IO_STALL_SECONDS: 15,
  WORKER_METRICS: 'on',
});

const integer = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const seconds = (min: number, max: number) => z.coerce.number().min(min).max(max);

/** AMQP_URL holds one URL, or the URLs of a cluster's nodes separated by commas. */
export const splitUrls = (value: string): string[] =>
  value
    .split(',')
    .map((url) => url.trim())
    .filter((url) => url !== '');

const schemeOf = (url: string) => (URL.canParse(url) ? new URL(url).protocol : '');

const amqpUrl = z
  .string()
  .refine(
    (value) =>
      splitUrls(value).length > 0 && splitUrls(value).every((url) => /^amqps?:$/.test(schemeOf(url))),
    {
      message: 'must be an amqp:// or amqps:// URL, or several separated by commas (the nodes of a cluster)',
    },
  )
  .refine((value) => new Set(splitUrls(value).map(schemeOf)).size === 1, {
    message: 'the nodes of a cluster are all amqp:// or all amqps://',
  });

const schema = z.strictObject({
  AMQP_URL: amqpUrl.default(DEFAULTS.AMQP_URL),
  // Secrets as files, the orchestrators' convention (a mounted Secret): read once, at start.
  AMQP_URL_FILE: z.string().min(1).optional(),
  AMQP_PASSWORD_FILE: z.string().min(1).optional(),
  // TLS (amqps:// URLs): the CA that signed the broker's certificate; a client certificate and key for mutual TLS.
  AMQP_CA_FILE: z.string().min(1).optional(),
  AMQP_CERT_FILE: z.string().min(1).optional(),
  AMQP_KEY_FILE: z.string().min(1).optional(),
  WORKER_BUNDLES: z.string().min(1).default(DEFAULTS.WORKER_BUNDLES),
  // The types to serve of the manifest's, comma-separated; the others' bundles need not be there.
  WORKER_TYPES: z
    .string()
    .transform((list) =>
      list
        .split(',')
        .map((type) => type.trim())
        .filter((type) => type !== ''),
    )
    .optional(),
  // The manager forgets a type 60 s after its last heartbeat.
  WORKER_HEARTBEAT_SECONDS: seconds(0.05, 50).default(DEFAULTS.WORKER_HEARTBEAT_SECONDS),
  WORKER_TENANT: z.string().min(1).default(DEFAULTS.WORKER_TENANT),
  WORKER_INSTANCE_ID: z.string().min(1).max(255).optional(),
  WORKER_DRAIN_SECONDS: seconds(0, 3600).default(DEFAULTS.WORKER_DRAIN_SECONDS),
  WORKER_HEALTH_PORT: integer(0, 65535).default(DEFAULTS.WORKER_HEALTH_PORT),
  WORKER_RETRY_BASE_SECONDS: seconds(0.001, 3600).default(DEFAULTS.WORKER_RETRY_BASE_SECONDS),
  WORKER_RETRY_MAX_SECONDS: seconds(0.001, 86400).default(DEFAULTS.WORKER_RETRY_MAX_SECONDS),
  WORKER_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  WORKER_MAX_BODY_BYTES: integer(1, 512 * 1024 * 1024).default(DEFAULTS.WORKER_MAX_BODY_BYTES),
  // RabbitMQ caps max_message_size at 512 MiB.
  WORKER_MAX_MESSAGE_BYTES: integer(64 * 1024, 512 * 1024 * 1024).default(DEFAULTS.WORKER_MAX_MESSAGE_BYTES),
  WORKER_RECONNECT_MAX_SECONDS: seconds(0.1, 300).default(DEFAULTS.WORKER_RECONNECT_MAX_SECONDS),
  WORKER_IO_STALL_SECONDS: seconds(0.1, 600).default(DEFAULTS.WORKER_IO_STALL_SECONDS),
  WORKER_METRICS: z.enum(['on', 'off']).default('on'),
  // The defaults of the per-worker settings (sdk/settings.ts), each read in its own unit.
  ...Object.fromEntries(SETTING_VARIABLES.map(({ variable, schema }) => [variable, schema])),
});

export const CONFIG_VARIABLES = Object.freeze(Object.keys(schema.shape));

/** PEM texts for an amqps:// connection; absent ones fall back to Node's defaults (its CA list, no client certificate). */
export interface TlsFiles {
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
}

export interface Config {
  /** One broker, or the nodes of a cluster, tried in turn. */
  readonly amqpUrls: readonly string[];
  /** Set for an amqps:// URL; the broker's certificate is always verified. */
  readonly tls: TlsFiles | undefined;
  readonly bundles: string;
  /** The worker types to serve; all of the manifest's when undefined. */
  readonly types: readonly string[] | undefined;
  /** The settings of the workers whose definition does not set them. */
  readonly settings: Settings;
  readonly heartbeatMs: number;
  readonly tenant: string;
  readonly instanceId: string;
  readonly drainMs: number;
  readonly healthPort: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
  readonly limits: Limits;
  /** The longest wait between two attempts to reach the broker. */
  readonly reconnectMaxMs: number;
  /** /livez fails when a file operation has not answered for this long. */
  readonly ioStallMs: number;
  /** GET /metrics served (and prom-client loaded). */
  readonly metrics: boolean;
}

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
}

/** Variables whose empty value would quietly mean another broker or other credentials: refused. */
const NEVER_EMPTY = ['AMQP_URL', 'AMQP_URL_FILE', 'AMQP_PASSWORD_FILE'];
/** What Kubernetes sets for a Service named `amqp` (AMQP_SERVICE_HOST, AMQP_PORT_5672_TCP...): not ours. */
const KUBERNETES_SERVICE_LINK = /^AMQP_(SERVICE_|PORT($|_))/;

/**
 * Reads the variables this host knows from `env`. Unknown WORKER_* and AMQP_* variables are refused
 * (with the nearest known name), so that a misspelt name does not silently fall back to a default; so
 * are an empty AMQP_URL, AMQP_URL_FILE or AMQP_PASSWORD_FILE.
 */
export function loadConfig(
  env: Readonly<Record<string, string | undefined>>,
  readSecret: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): Config {
  const known: Record<string, string> = {};
  const problems: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (value === '') {
      // Set but empty: where a default would connect elsewhere, or with other credentials, say so.
      if (NEVER_EMPTY.includes(name))
        problems.push(
          `${name}: set but empty (unset it to use ${name === 'AMQP_URL' ? DEFAULTS.AMQP_URL.replace(/:[^:@/]*@/, ':***@') : 'no file'})`,
        );
      continue;
    }
    if (CONFIG_VARIABLES.includes(name)) known[name] = value;
    else if (name.startsWith('WORKER_') || (name.startsWith('AMQP_') && !KUBERNETES_SERVICE_LINK.test(name)))
      problems.push(
        `${name}: unknown variable${didYouMean(name, CONFIG_VARIABLES)} (known: ${CONFIG_VARIABLES.join(', ')})`,
      );
  }
  const secret = (name: string): string | undefined => {
    const path = known[name];
    if (path === undefined) return undefined;
    try {
      // A file's last line break is not part of the secret.
      const value = readSecret(path).replace(/\r?\n$/, '');
      if (value === '') problems.push(`${name}: ${path} is empty`);
      return value;
    } catch (error) {
      problems.push(`${name}: cannot read ${path} (${(error as { code?: string }).code ?? 'error'})`);
      return undefined;
    }
  };
  if (known.AMQP_URL !== undefined && known.AMQP_URL_FILE !== undefined)
    problems.push('AMQP_URL and AMQP_URL_FILE are both set: set one of them');
  const urlFromFile = secret('AMQP_URL_FILE');
  if (urlFromFile !== undefined) known.AMQP_URL = urlFromFile;
  const password = secret('AMQP_PASSWORD_FILE');
  const parsed = schema.safeParse(known);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${issue.path.join('.')}: ${issue.message}`);
  }
  const tls = tlsFiles(known, secret, problems);
  if (problems.length > 0 || !parsed.success)
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  const c = parsed.data;
  return {
    amqpUrls: splitUrls(c.AMQP_URL).map((url) =>
      password === undefined ? url : withPassword(url, password),
    ),
    tls,
    bundles: c.WORKER_BUNDLES,
    types: c.WORKER_TYPES,
    settings: {
      ...DEFAULT_SETTINGS,
      ...Object.fromEntries(
        SETTING_VARIABLES.map(({ name, variable }) => [name, (c as Record<string, unknown>)[variable]]),
      ),
    },
    heartbeatMs: Math.round(c.WORKER_HEARTBEAT_SECONDS * 1000),
    tenant: c.WORKER_TENANT,
    instanceId: c.WORKER_INSTANCE_ID ?? `${hostname()}-${randomUUID()}`,
    drainMs: Math.round(c.WORKER_DRAIN_SECONDS * 1000),
    healthPort: c.WORKER_HEALTH_PORT,
    retryBaseMs: Math.round(c.WORKER_RETRY_BASE_SECONDS * 1000),
    retryMaxMs: Math.round(c.WORKER_RETRY_MAX_SECONDS * 1000),
    logLevel: c.WORKER_LOG_LEVEL,
    limits: { maxBodyBytes: c.WORKER_MAX_BODY_BYTES, maxMessageBytes: c.WORKER_MAX_MESSAGE_BYTES },
    reconnectMaxMs: Math.round(c.WORKER_RECONNECT_MAX_SECONDS * 1000),
    ioStallMs: Math.round(c.WORKER_IO_STALL_SECONDS * 1000),
    metrics: c.WORKER_METRICS === 'on',
  };
}

/**
 * Reads and checks the TLS files: each must hold what its name says, the key must match the certificate,
 * and they apply to amqps:// alone (set with an amqp:// URL, they would be ignored: refused instead).
 */
function tlsFiles(
  known: Readonly<Record<string, string>>,
  secret: (name: string) => string | undefined,
  problems: string[],
): TlsFiles | undefined {
  const secure = splitUrls(known.AMQP_URL ?? DEFAULTS.AMQP_URL).every((url) => schemeOf(url) === 'amqps:');
  const names = ['AMQP_CA_FILE', 'AMQP_CERT_FILE', 'AMQP_KEY_FILE'] as const;
  const set = names.filter((name) => known[name] !== undefined);
  if (!secure) {
    if (set.length > 0) problems.push(`${set.join(', ')} set, but the broker URL is not amqps://`);
    return undefined;
  }
  if ((known.AMQP_CERT_FILE === undefined) !== (known.AMQP_KEY_FILE === undefined))
    problems.push('AMQP_CERT_FILE and AMQP_KEY_FILE go together: set both, or neither');
  const check = (name: (typeof names)[number], parse: (pem: string) => unknown, what: string) => {
    const pem = secret(name);
    if (pem === undefined) return undefined;
    try {
      parse(pem);
      return pem;
    } catch {
      problems.push(`${name}: ${known[name]} does not hold ${what}`);
      return undefined;
    }
  };
  const ca = check('AMQP_CA_FILE', (pem) => new X509Certificate(pem), 'a PEM certificate');
  const cert = check('AMQP_CERT_FILE', (pem) => new X509Certificate(pem), 'a PEM certificate');
  const key = check('AMQP_KEY_FILE', (pem) => createPrivateKey(pem), 'a PEM private key (unencrypted)');
  if (
    cert !== undefined &&
    key !== undefined &&
    !new X509Certificate(cert).checkPrivateKey(createPrivateKey(key))
  )
    problems.push(
      `AMQP_KEY_FILE: ${known.AMQP_KEY_FILE} is not the key of the certificate in AMQP_CERT_FILE`,
    );
  return { ...(ca && { ca }), ...(cert && { cert }), ...(key && { key }) };
}

/** The URL with its password replaced (AMQP_PASSWORD_FILE). */
function withPassword(url: string, password: string): string {
  const parsed = new URL(url);
  parsed.password = encodeURIComponent(password);
  return parsed.toString();
}

/** The URL with its password hidden, for logs. */
export function redactUrl(url: string): string {
  if (!URL.canParse(url)) return '(unparseable URL)';
  const parsed = new URL(url);
  if (parsed.password !== '') parsed.password = '***';
  return parsed.toString();
}
