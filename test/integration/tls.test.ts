/**
 * amqps:// against a real TLS listener: a RabbitMQ node of this file's own (the shared broker is never
 * reconfigured), asking every client for a certificate its CA signed. The host verifies the broker's
 * certificate against AMQP_CA_FILE and shows its own (AMQP_CERT_FILE, AMQP_KEY_FILE); anything that does
 * not verify stops it at start with exit code 3 and says why, never a fallback to no verification.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../adapter/config.ts';
import { RESPONSE_EXCHANGE } from '../../protocol/index.ts';
import { connectTestBroker, type TestBroker, uniqueType } from './helpers/broker.ts';
import { type Certificates, makeCertificates } from './helpers/certificates.ts';
import { buildBehave, type Env, spawnHost, startTestHost } from './helpers/host.ts';
import { type PrivateBroker, startPrivateBroker } from './helpers/private-broker.ts';
import { needs, OPENSSL, RABBITMQ_SERVER } from './helpers/requirements.ts';

const ready = await needs('the TLS tests', [OPENSSL, RABBITMQ_SERVER]);

let node: PrivateBroker;
let certs: Certificates;
let broker: TestBroker;
let bundles: string;
const type = uniqueType('tls');

beforeAll(async () => {
  if (!ready) return;
  node = await startPrivateBroker({
    label: 'tls',
    extraPorts: ['tls'],
    files: async (dir) => {
      certs = await makeCertificates(dir);
    },
    config: (ports, dir) => [
      `listeners.ssl.local = 127.0.0.1:${ports.tls}`,
      `ssl_options.cacertfile = ${join(dir, 'ca.pem')}`,
      `ssl_options.certfile = ${join(dir, 'server.pem')}`,
      `ssl_options.keyfile = ${join(dir, 'server.key')}`,
      'ssl_options.verify = verify_peer',
      'ssl_options.fail_if_no_peer_cert = true',
    ],
  });
  broker = await connectTestBroker(node.url);
  broker.forget(type);
  bundles = await buildBehave(type);
}, 120_000);
afterAll(async () => {
  await broker?.close();
  await node?.stop();
}, 60_000);

const tlsUrl = (host = '127.0.0.1') => `amqps://guest:guest@${host}:${node.ports.tls}`;
const mutual = (): Env => ({
  AMQP_URL: tlsUrl(),
  AMQP_CA_FILE: certs.ca,
  AMQP_CERT_FILE: certs.clientCert,
  AMQP_KEY_FILE: certs.clientKey,
});

describe.runIf(ready)('a host with the CA, its certificate and its key', () => {
  it('connects over TLS and answers requests', async () => {
    const instanceId = `it-tls-${type}`;
    const host = await startTestHost(bundles, { ...mutual(), WORKER_INSTANCE_ID: instanceId });
    try {
      const responses = await broker.observe(RESPONSE_EXCHANGE);
      await broker.publishRequest(type, { requestId: `${type}-1`, body: { action: 'succeed' } });
      const [answer] = await responses.waitFor(
        (m) =>
          m.headers['regards.request.id'] === `${type}-1` &&
          (m.json as { status?: string })?.status === 'SUCCESS',
      );
      expect(answer).toBeDefined();
      // The broker's side of it: the host's connection is TLS, with the client certificate shown.
      const connections = await node.ctl('list_connections', 'client_properties', 'ssl', 'peer_cert_subject');
      const line = connections.split('\n').find((l) => l.includes(`regards-worker ${instanceId}`));
      expect(line).toMatch(/\btrue\b/);
      expect(line).toContain('CN=client');
    } finally {
      await host.stop();
    }
  });

  it('verifies the broker by name too: localhost is in its certificate', async () => {
    const host = await startTestHost(bundles, { ...mutual(), AMQP_URL: tlsUrl('localhost') });
    await host.stop();
  });
});

describe.runIf(ready)('a TLS connection that cannot be trusted stops the host at start, exit 3', () => {
  const refusedWith = async (env: Env, reason: RegExp) => {
    const child = spawnHost(bundles, env);
    const code = await Promise.race([
      child.exited,
      new Promise<string>((resolve) => setTimeout(() => resolve('still running'), 20_000)),
    ]);
    if (code === 'still running') child.process.kill('SIGKILL');
    expect(code).toBe(3);
    expect(child.output()).toMatch(/"msg":"cannot start"/);
    expect(child.output()).toMatch(reason);
  };

  it('the broker certificate signed by another CA', async () => {
    await refusedWith(
      { ...mutual(), AMQP_CA_FILE: certs.otherCa },
      /TLS certificate does not verify against the trusted CAs \(AMQP_CA_FILE\): SELF_SIGNED_CERT_IN_CHAIN/,
    );
  });

  it("no CA file: Node's own list does not know the test CA", async () => {
    const { AMQP_CA_FILE: _, ...withoutCa } = mutual();
    await refusedWith(withoutCa, /does not verify against the trusted CAs/);
  });

  it('no client certificate, where the broker asks for one', async () => {
    await refusedWith(
      { AMQP_URL: tlsUrl(), AMQP_CA_FILE: certs.ca },
      /the broker refused the TLS handshake .*CERTIFICATE_REQUIRED/,
    );
  });

  it('a client certificate the broker does not trust', async () => {
    await refusedWith(
      { ...mutual(), AMQP_CERT_FILE: certs.otherCa, AMQP_KEY_FILE: certs.otherKey },
      /the broker refused the TLS handshake .*BAD_CERTIFICATE/,
    );
  });

  it('amqps:// to a plain AMQP port', async () => {
    await refusedWith(
      { ...mutual(), AMQP_URL: tlsUrl().replace(String(node.ports.tls), String(node.ports.amqp)) },
      /the TLS handshake failed \(is the port a TLS listener\?\)/,
    );
  });
});

describe.runIf(ready)('TLS settings that cannot be right are refused before connecting', () => {
  const problemOf = (env: Env) => {
    try {
      loadConfig(env);
      return 'accepted';
    } catch (error) {
      return (error as Error).message;
    }
  };

  it('with an amqp:// URL, where they would be ignored', () => {
    expect(problemOf({ ...mutual(), AMQP_URL: node.url })).toContain(
      'AMQP_CA_FILE, AMQP_CERT_FILE, AMQP_KEY_FILE set, but the broker URL is not amqps://',
    );
  });

  it('a certificate without its key', () => {
    const { AMQP_KEY_FILE: _, ...withoutKey } = mutual();
    expect(problemOf(withoutKey)).toContain('AMQP_CERT_FILE and AMQP_KEY_FILE go together');
  });

  it("a key that is not the certificate's", () => {
    expect(problemOf({ ...mutual(), AMQP_KEY_FILE: certs.otherKey })).toContain(
      'is not the key of the certificate in AMQP_CERT_FILE',
    );
  });

  it('files that do not hold what their names say, or cannot be read', () => {
    const problem = problemOf({
      ...mutual(),
      AMQP_CA_FILE: certs.clientKey,
      AMQP_CERT_FILE: join(node.dir, 'missing.pem'),
    });
    expect(problem).toContain(`AMQP_CA_FILE: ${certs.clientKey} does not hold a PEM certificate`);
    expect(problem).toContain(`AMQP_CERT_FILE: cannot read ${join(node.dir, 'missing.pem')} (ENOENT)`);
    // The key's content is never part of a message.
    expect(problem).not.toContain('PRIVATE KEY');
  });

  it("an amqps:// URL alone is fine: verified against Node's CA list", () => {
    expect(loadConfig({ AMQP_URL: 'amqps://user:pw@broker.example:5671' }).tls).toEqual({});
  });
});
