/**
 * What an operator meets at start: a refused login or a missing vhost is said as the broker said it,
 * and stops the host with its own exit code instead of retrying for ever; every replica's connection
 * carries its instance id, so that the broker's management UI tells them apart.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AMQP_URL, connectTestBroker, rabbitmqctl, type TestBroker, uniqueType } from './helpers/broker.ts';
import { buildBehave, spawnHost, waitUntil } from './helpers/host.ts';

let broker: TestBroker;
let bundles: string;
const type = uniqueType('refusals');

beforeAll(async () => {
  broker = await connectTestBroker();
  broker.forget(type);
  bundles = await buildBehave(type);
});
afterAll(() => broker?.close());

describe('regards-worker start against a broker that refuses it', () => {
  it.each([
    [
      'a wrong password',
      AMQP_URL.replace(/:\/\/([^:]+):[^@]*@/, '://$1:not-the-password@'),
      /ACCESS.REFUSED/,
    ],
    [
      'a vhost that does not exist',
      `${AMQP_URL.replace(/\/$/, '')}/no-such-vhost-${randomUUID()}`,
      /refused the connection: virtual host no-such-vhost-/,
    ],
  ])('%s: says what the broker answered and exits 3', async (_, url, answer) => {
    const child = spawnHost(bundles, { AMQP_URL: url });
    const code = await Promise.race([
      child.exited,
      new Promise<string>((resolve) => setTimeout(() => resolve('still running'), 20_000)),
    ]);
    if (code === 'still running') child.process.kill('SIGKILL');
    expect(code).toBe(3);
    expect(child.output()).toMatch(/"msg":"cannot start".*the broker refused the connection/);
    expect(child.output()).toMatch(answer);
    expect(child.output()).not.toContain('not-the-password');
  });
});

describe('the connection name', () => {
  it('carries the instance id', async () => {
    const instanceId = `it-instance-${randomUUID().slice(0, 8)}`;
    const child = spawnHost(bundles, { WORKER_INSTANCE_ID: instanceId });
    try {
      await waitUntil(() => child.output().includes('"msg":"started"'), 20_000, 'the host');
      const { stdout } = await rabbitmqctl('list_connections', 'client_properties');
      expect(stdout).toContain(`regards-worker ${instanceId}`);
    } finally {
      child.process.kill('SIGTERM');
      await child.exited;
    }
  });
});
