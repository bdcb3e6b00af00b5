/**
 * Handlers that cannot hurt the host: they run in worker threads, so one that burns CPU, never
 * returns, allocates without bound or calls process.exit costs its own request only; heartbeats,
 * health and the other worker types go on.
 */
import { readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HANDLER_THREAD_NICE } from '../../adapter/execution/thread-messages.ts';
import type { Host } from '../../adapter/host.ts';
import { DEAD_LETTER_QUEUE, HEARTBEAT_EXCHANGE, RESPONSE_EXCHANGE } from '../../protocol/index.ts';
import {
  connectTestBroker,
  type Observer,
  type Received,
  type TestBroker,
  uniqueType,
} from './helpers/broker.ts';
import { buildBehave, spawnHost, startTestHost } from './helpers/host.ts';

let broker: TestBroker;
let host: Host & { lines: string[] };
let busy: string;
let other: string;
let responses: Observer;
let deadLetters: Observer;

beforeAll(async () => {
  busy = uniqueType('busy');
  other = uniqueType('other');
  broker = await connectTestBroker();
  for (const type of [busy, other]) broker.forget(type);
  responses = await broker.observe(RESPONSE_EXCHANGE);
  deadLetters = await broker.observe(DEAD_LETTER_QUEUE, '');
  host = await startTestHost(await buildBehave(busy, other), {
    WORKER_MAX_ATTEMPTS: '2',
    WORKER_TIMEOUT_SECONDS: '1',
    WORKER_MEMORY_MB: '64',
    WORKER_HEARTBEAT_SECONDS: '0.5',
  });
});

afterAll(async () => {
  await host?.stop();
  await broker?.close();
});

let counter = 0;
const send = async (type: string, body: unknown) => {
  const requestId = `${type}-${++counter}`;
  await broker.publishRequest(type, { requestId, body });
  return requestId;
};
const forRequest = (requestId: string) => (message: Received) =>
  message.headers['regards.request.id'] === requestId;

async function deadLetterOf(requestId: string): Promise<Received | undefined> {
  const [dead] = await deadLetters.waitFor(forRequest(requestId), 1, 30_000);
  return dead;
}

/** The host still answers a plain request of the other type (or of `type`). */
async function stillServing(type = other): Promise<void> {
  const requestId = await send(type, { action: 'succeed', content: 'still here' });
  const [response] = await responses.waitFor(forRequest(requestId), 1, 10_000);
  expect(response?.json).toMatchObject({ status: 'SUCCESS' });
}

/** The nice value of each thread of this process, by thread id (Linux: /proc/self/task/<tid>/stat). */
async function niceOfThreads(): Promise<Map<number, number>> {
  const nice = new Map<number, number>();
  for (const tid of await readdir('/proc/self/task')) {
    const stat = await readFile(`/proc/self/task/${tid}/stat`, 'utf8').catch(() => '');
    // After the command name (in parentheses), field 19 of stat is the nice value.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields.length > 16) nice.set(Number(tid), Number(fields[16]));
  }
  return nice;
}

describe('handler threads', () => {
  it.runIf(process.platform === 'linux')(
    'run below the host thread, which answers first when they keep the cores busy',
    async () => {
      // Threads start on demand: one for each type that has a request (they stay while not idle).
      await Promise.all([stillServing(busy), stillServing(other)]);
      const threads = await niceOfThreads();
      const own = threads.get(Number((await readlink('/proc/thread-self')).split('/').at(-1))) ?? 0;
      const lowered = [...threads.values()].filter(
        (nice) => nice === Math.min(19, own + HANDLER_THREAD_NICE),
      );
      // One per worker type at least, the host's own thread unchanged.
      expect(lowered.length).toBeGreaterThanOrEqual(2);
      expect(threads.get(process.pid)).toBe(own);
    },
  );
});

describe('a handler that burns CPU for 20 s', () => {
  it('leaves heartbeats on their period, /livez answering, and the other type served', async () => {
    const heartbeats = await broker.observe(HEARTBEAT_EXCHANGE);
    const ofType = (type: string) => (message: Received) =>
      (message.json as { type?: string } | undefined)?.type === type;
    await heartbeats.drain();
    const startedAt = Date.now();
    const burning = await send(busy, { action: 'spin', ms: 20_000 });
    let slowestLivez = 0;
    const served: number[] = [];
    while (Date.now() - startedAt < 19_000) {
      const t0 = performance.now();
      const livez = await fetch(`http://127.0.0.1:${host.healthPort}/livez`, {
        signal: AbortSignal.timeout(5_000),
      });
      slowestLivez = Math.max(slowestLivez, performance.now() - t0);
      expect(livez.status).toBe(200);
      const t1 = performance.now();
      await stillServing();
      served.push(performance.now() - t1);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    const beats = (await heartbeats.drain()).filter(ofType(busy));
    const times = beats.map((beat) => Date.parse((beat.json as { heartBeatDate: string }).heartBeatDate));
    const gaps = times.slice(1).map((time, i) => time - (times[i] ?? time));
    console.log(
      `CPU burn 19 s: ${beats.length} heartbeats of the busy type, longest gap ${Math.max(...gaps)} ms; ` +
        `/livez slowest ${Math.round(slowestLivez)} ms; other type answered ${served.length} times, slowest ${Math.round(Math.max(...served))} ms`,
    );
    expect(beats.length).toBeGreaterThanOrEqual(30);
    expect(Math.max(...gaps)).toBeLessThan(1_500);
    expect(slowestLivez).toBeLessThan(1_000);
    // It was past its 1 s limit long ago: terminated, retried, terminated again, dead-lettered.
    const dead = await deadLetterOf(burning);
    expect(dead?.headers['x-exception-message']).toBe(
      'failed after 2 attempts: handler timed out: no result after 1000 ms, thread terminated',
    );
  }, 60_000);
});

describe('handlers that would take the process down', () => {
  it.each([
    [
      'while (true) {}',
      { action: 'spin', ms: 0 },
      /^failed after 2 attempts: handler timed out: no result after 1000 ms, thread terminated$/,
    ],
    [
      'allocating without bound',
      { action: 'allocate' },
      /^failed after 2 attempts: the handler's thread died: it ran out of memory \(limit 64 MB\)$/,
    ],
    [
      'process.exit(3)',
      { action: 'exit' },
      /^failed after 2 attempts: the handler's thread died: it exited with code 3/,
    ],
  ])(
    '%s: dead-lettered after the last attempt, the host alive and serving',
    async (_, body, reason) => {
      const requestId = await send(busy, body);
      const dead = await deadLetterOf(requestId);
      expect(String(dead?.headers['x-exception-message'])).toMatch(reason);
      await stillServing();
      expect(host.isReady()).toBe(true);
    },
    40_000,
  );
});

describe('a bundle that does not load in its thread', () => {
  it('stops the host (exit 1) once its first thread says so, though consuming started meanwhile', async () => {
    const type = uniqueType('unloadable');
    broker.forget(type);
    const bundles = await buildBehave(type);
    // The manifest now names another type than the bundle defines: only the thread can tell.
    const manifestPath = join(bundles, 'manifest.json');
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8'));
    manifest.workers[0].type = `${type}-renamed`;
    await writeFile(manifestPath, JSON.stringify(manifest));
    broker.forget(`${type}-renamed`);
    const child = spawnHost(bundles);
    expect(await child.exited).toBe(1);
    expect(child.output()).toMatch(/"msg":"cannot start".*defines worker .*the manifest says/);
  });
});
