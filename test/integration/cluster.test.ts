/**
 * A RabbitMQ cluster of two nodes started by this file (private names, ports and folders; the shared
 * broker is left alone), the host given both URLs in AMQP_URL. Classic queues live on one node: the
 * queues are declared on the first node, and the host connects to the second one first.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESPONSE_EXCHANGE, workerTopology } from '../../protocol/index.ts';
import { connectTestBroker, type Observer, type TestBroker, uniqueType } from './helpers/broker.ts';
import { buildBehave, startTestHost, waitUntil } from './helpers/host.ts';
import { type PrivateBroker, startCluster } from './helpers/private-broker.ts';
import { needs, RABBITMQ_SERVER } from './helpers/requirements.ts';

const ready = await needs('the cluster tests', [RABBITMQ_SERVER]);

let cluster: Awaited<ReturnType<typeof startCluster>>;
let a: PrivateBroker;
let b: PrivateBroker;
/** The test's connections: to the queues' node, and to the other. */
let onA: TestBroker;
let onB: TestBroker;

beforeAll(async () => {
  if (!ready) return;
  cluster = await startCluster('cluster');
  a = cluster.first;
  b = cluster.second;
  onA = await connectTestBroker(a.url);
  onB = await connectTestBroker(b.url);
}, 180_000);
afterAll(async () => {
  await onA?.close().catch(() => undefined);
  await onB?.close().catch(() => undefined);
  await cluster?.stop();
}, 60_000);

/** A type whose queues (request and retry) live on node A. */
async function typeOnA(label: string): Promise<{ type: string; bundles: string }> {
  const type = uniqueType(label);
  await onA.declareAsManager(type);
  await onA.declare(workerTopology([type]));
  return { type, bundles: await buildBehave(type) };
}

async function publish(broker: TestBroker, type: string, from: number, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = from; i < from + count; i += 1) {
    ids.push(`${type}-${i}`);
    await broker.publishRequest(type, { requestId: `${type}-${i}`, body: { action: 'succeed' } });
  }
  return ids;
}

async function answered(observer: Observer, ids: readonly string[], timeoutMs = 30_000): Promise<string[]> {
  const answers = await observer.waitFor(
    (m) => ids.includes(String(m.headers['regards.request.id'])),
    ids.length,
    timeoutMs,
  );
  return [...new Set(answers.map((m) => String(m.headers['regards.request.id'])))].sort();
}

const port = (node: PrivateBroker) => `127.0.0.1:${node.ports.amqp}`;
const connectedTo = (lines: readonly string[]) =>
  lines
    .filter((line) => line.includes('"msg":"connected"'))
    .map((line) => /"node":"amqp:\/\/([^/"]+)/.exec(line)?.[1]);

describe.runIf(ready)('the node the host is connected to stops', () => {
  it('moves to the other node, and answers every request published meanwhile', async () => {
    const { type, bundles } = await typeOnA('moves');
    const responses = await onA.observe(RESPONSE_EXCHANGE);
    const host = await startTestHost(bundles, {
      AMQP_URL: `${b.url},${a.url}`,
      WORKER_RECONNECT_MAX_SECONDS: '0.5',
    });
    try {
      expect(connectedTo(host.lines)).toEqual([port(b)]);
      const before = await publish(onA, type, 0, 20);
      expect(await answered(responses, before)).toEqual([...before].sort());
      await b.ctl('stop_app');
      const meanwhile = await publish(onA, type, 20, 50);
      expect(await answered(responses, meanwhile)).toEqual([...meanwhile].sort());
      expect(connectedTo(host.lines)).toEqual([port(b), port(a)]);
    } finally {
      await host.stop();
      await b.ctl('start_app');
      await b.ctl('await_startup', '--timeout', '60');
    }
  });
});

describe.runIf(ready)("the request queue's own node stops", () => {
  it('keeps retrying, not ready and not spinning, then resumes when the node is back', async () => {
    const { type, bundles } = await typeOnA('home');
    const responses = await onB.observe(RESPONSE_EXCHANGE);
    const host = await startTestHost(bundles, {
      AMQP_URL: `${b.url},${a.url}`,
      WORKER_RECONNECT_MAX_SECONDS: '0.5',
    });
    try {
      const before = await publish(onA, type, 0, 5);
      expect(await answered(responses, before)).toEqual([...before].sort());
      await a.ctl('stop_app');
      await waitUntil(() => !host.isReady(), 10_000, 'readiness to drop');
      const linesBefore = host.lines.length;
      await new Promise((resolve) => setTimeout(resolve, 5_000));
      expect(host.isReady()).toBe(false);
      // Backoff up to 0.5 s: some ten attempts in 5 s, not thousands.
      const attempts = host.lines.slice(linesBefore).filter((line) => line.includes('retrying')).length;
      expect(attempts).toBeGreaterThan(0);
      expect(attempts).toBeLessThan(40);
      await a.ctl('start_app');
      await a.ctl('await_startup', '--timeout', '60');
      await waitUntil(() => host.isReady(), 30_000, 'consuming again');
      const after = await publish(onA, type, 5, 5);
      expect(await answered(responses, after)).toEqual([...after].sort());
    } finally {
      await host.stop();
    }
  });
});
