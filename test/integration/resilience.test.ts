import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DEAD_LETTER_QUEUE,
  HEARTBEAT_EXCHANGE,
  REDELIVERED_REASON,
  RESPONSE_EXCHANGE,
  requestQueueName,
} from '../../protocol/index.ts';
import {
  connectTestBroker,
  type Observer,
  type Received,
  rabbitmqctl,
  type TestBroker,
  uniqueType,
} from './helpers/broker.ts';
import { buildBehave, spawnHost, startTestHost, waitUntil } from './helpers/host.ts';

let broker: TestBroker;
let responses: Observer;
let deadLetters: Observer;

beforeEach(async () => {
  broker = await connectTestBroker();
  responses = await broker.observe(RESPONSE_EXCHANGE);
  deadLetters = await broker.observe(DEAD_LETTER_QUEUE, '');
});
afterEach(async () => {
  await broker.close();
});

const requestIdOf = (message: Received) => String(message.headers['regards.request.id']);
const isTerminal = (message: Received) =>
  (message.json as { status?: string } | undefined)?.status !== 'RUNNING';

/** Collects every terminal answer (response or dead-letter) for these requests, and counts. */
function answersFor(requestIds: readonly string[]) {
  const collect = async () => {
    // drain() returns everything received so far: count from scratch.
    const counts = new Map(requestIds.map((id) => [id, 0]));
    const answers = [...(await responses.drain()).filter(isTerminal), ...(await deadLetters.drain())];
    for (const answer of answers) {
      const id = requestIdOf(answer);
      if (counts.has(id)) counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    const lost = requestIds.filter((id) => counts.get(id) === 0);
    const duplicates = [...counts.values()].reduce((sum, n) => sum + Math.max(0, n - 1), 0);
    return { lost, duplicates, answered: requestIds.length - lost.length };
  };
  /** Collects until every request has an answer, or the timeout. */
  const settled = async (timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    let result = await collect();
    while (result.lost.length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      result = await collect();
    }
    return result;
  };
  return { collect, settled };
}

async function publishMany(type: string, count: number, body: unknown): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, i) => `${type}-${i}`);
  for (const requestId of ids) await broker.publishRequest(type, { requestId, body });
  return ids;
}

describe('a request that kills the process every time', () => {
  it('ends in the DLQ after the maximum of deliveries, not in a loop', async () => {
    const type = uniqueType('crash');
    broker.forget(type);
    const bundles = await buildBehave(type);
    await broker.declareAsManager(type);
    await broker.publishRequest(type, { requestId: `${type}-1`, body: { action: 'kill' } });
    let crashes = 0;
    for (let run = 0; run < 5; run += 1) {
      const child = spawnHost(bundles, { WORKER_MAX_ATTEMPTS: '2' });
      const code = await Promise.race([
        child.exited,
        deadLetters.waitFor((m) => requestIdOf(m) === `${type}-1`, 1, 15_000).then(() => 'dead'),
      ]);
      if (code === 'dead') {
        child.process.kill('SIGKILL');
        await child.exited;
        break;
      }
      expect(code).toBeNull(); // killed by a signal
      crashes += 1;
    }
    expect(crashes).toBe(2);
    const [dead] = await deadLetters.waitFor((m) => requestIdOf(m) === `${type}-1`);
    expect(String(dead?.headers['x-exception-message'])).toBe(
      `failed after 2 attempts: ${REDELIVERED_REASON}`,
    );
  });
});

describe('the broker closing the connection mid-stream', () => {
  it('reconnects, resumes, and every request ends with one terminal answer; none lost', async () => {
    const type = uniqueType('close');
    broker.forget(type);
    const host = await startTestHost(await buildBehave(type), { WORKER_PREFETCH: '10' });
    try {
      const ids = await publishMany(type, 300, { action: 'sleep', ms: 5 });
      const answers = answersFor(ids);
      await waitUntil(async () => (await answers.collect()).answered >= 30, 20_000, '30 answers');
      await rabbitmqctl('close_all_connections', 'integration test: broker closes connections');
      await waitUntil(() => !host.isReady(), 5_000, 'readiness to drop');
      await waitUntil(() => host.isReady(), 30_000, 'the adapter to reconnect');
      const result = await answers.settled(45_000);
      console.log(
        `connection closed mid-stream: ${ids.length} requests, ${result.lost.length} lost, ${result.duplicates} duplicates`,
      );
      expect(result.lost).toEqual([]);
      expect(host.lines.some((line) => line.includes('disconnected from the broker'))).toBe(true);
      // A lost connection is not a lost channel: nothing to reopen, nothing said about it.
      expect(host.lines.filter((line) => line.includes('reopening'))).toEqual([]);
    } finally {
      await host.stop();
    }
  });
});

describe('SIGTERM mid-stream', () => {
  it('finishes and acks in-flight requests, exits 0, and leaves the rest to the next instance', async () => {
    const type = uniqueType('term');
    broker.forget(type);
    const bundles = await buildBehave(type);
    await broker.declareAsManager(type);
    const ids = await publishMany(type, 100, { action: 'sleep', ms: 30 });
    const answers = answersFor(ids);
    const child = spawnHost(bundles, { WORKER_PREFETCH: '5', WORKER_DRAIN_SECONDS: '10' });
    await waitUntil(async () => (await answers.collect()).answered >= 20, 20_000, '20 answers');
    child.process.kill('SIGTERM');
    expect(await child.exited).toBe(0);
    expect(child.output()).toMatch(/"msg":"draining"/);
    expect(child.output()).toMatch(/"msg":"stopped"/);
    const beforeExit = (await answers.collect()).answered;
    const next = await startTestHost(bundles);
    try {
      const result = await answers.settled(30_000);
      console.log(
        `SIGTERM mid-stream: ${ids.length} requests, ${beforeExit} answered by the first instance, ${result.lost.length} lost, ${result.duplicates} duplicates`,
      );
      expect(beforeExit).toBeGreaterThanOrEqual(20);
      expect(beforeExit).toBeLessThan(ids.length);
      expect(result.lost).toEqual([]);
      // A graceful stop acks everything it answered: nothing is answered twice.
      expect(result.duplicates).toBe(0);
    } finally {
      await next.stop();
    }
  });

  it('a second signal exits at once, leaving in-flight requests unacked for redelivery', async () => {
    const type = uniqueType('term2');
    broker.forget(type);
    const bundles = await buildBehave(type);
    await broker.declareAsManager(type);
    await broker.publishRequest(type, { requestId: `${type}-slow`, body: { action: 'sleep', ms: 60_000 } });
    const child = spawnHost(bundles, { WORKER_DRAIN_SECONDS: '60' });
    await waitUntil(() => child.output().includes('"msg":"started"'), 15_000, 'the child to start');
    await new Promise((resolve) => setTimeout(resolve, 300));
    child.process.kill('SIGTERM');
    await waitUntil(() => child.output().includes('"msg":"draining"'), 5_000, 'draining');
    child.process.kill('SIGTERM');
    expect(await child.exited).toBe(130);
    // Unacked, so back in the queue for the next instance.
    const next = await startTestHost(bundles, { WORKER_MAX_ATTEMPTS: '1' });
    try {
      const [dead] = await deadLetters.waitFor((m) => requestIdOf(m) === `${type}-slow`, 1, 15_000);
      expect(dead?.headers['x-exception-message']).toBe(`failed after 1 attempt: ${REDELIVERED_REASON}`);
    } finally {
      await next.stop();
    }
  });
});

describe('the broker cancels the consumer', () => {
  it('stops that type heartbeats and readiness at once, declares the queue again and serves', async () => {
    const type = uniqueType('cancel');
    broker.forget(type);
    const heartbeats = await broker.observe(HEARTBEAT_EXCHANGE);
    const ofType = (message: Received) => (message.json as { type?: string } | undefined)?.type === type;
    const host = await startTestHost(await buildBehave(type));
    try {
      await heartbeats.waitFor(ofType, 2);
      await broker.deleteQueue(requestQueueName(type));
      await waitUntil(() => !host.isReady(), 2_000, 'readiness to drop');
      const silentFrom = (await heartbeats.drain()).length;
      await new Promise((resolve) => setTimeout(resolve, 600));
      // Heartbeats every 0.2 s before; none while the type is not consumed.
      expect((await heartbeats.drain()).slice(silentFrom).filter(ofType)).toEqual([]);
      expect(host.lines.some((line) => line.includes('the broker cancelled the consumer'))).toBe(true);

      await waitUntil(() => host.isReady(), 10_000, 'consuming again');
      await broker.declareAsManager(type);
      const ids = await publishMany(type, 20, { action: 'succeed' });
      const result = await answersFor(ids).settled(20_000);
      expect(result.lost).toEqual([]);
      expect(result.duplicates).toBe(0);
      expect((await heartbeats.waitFor(ofType, silentFrom + 1)).length).toBeGreaterThan(0);
    } finally {
      await host.stop();
    }
  });
});
