/**
 * The pool of handler threads, with threads of the test's own (no bundle, no worker_threads): it
 * grows one thread at a time when requests wait, hands a freed thread to the next request, ends a
 * thread left idle, replaces one that dies mid-request, and holds each request to its time limit.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ExecuteOptions } from '../../../adapter/delivery/process.ts';
import { type Pool, startPool } from '../../../adapter/execution/pool.ts';
import type { Job, PoolThread } from '../../../adapter/execution/thread.ts';
import { busyClock, type ToThread } from '../../../adapter/execution/thread-messages.ts';
import { createLogger } from '../../../adapter/telemetry/log.ts';
import type { DecodedRequest, Happening } from '../../../protocol/index.ts';
import { rawRequest } from '../../helpers/requests.ts';

/** A thread the test drives: it answers, throws or dies when told. */
class FakeThread implements PoolThread {
  readonly ready: Promise<void>;
  readonly gone: Promise<void>;
  exited = false;
  terminated = false;
  idleTimer: NodeJS.Timeout | undefined;
  job: Job | undefined;
  request: DecodedRequest | undefined;
  /** Since when it runs its request (busyClock), as a real thread tells it. */
  since: number | undefined;
  readonly posted: ToThread[] = [];
  private leave: () => void = () => undefined;
  private readonly onAbort: ((thread: FakeThread) => void) | undefined;

  constructor(onAbort?: (thread: FakeThread) => void, cannotStart?: string) {
    this.onAbort = onAbort;
    this.ready = cannotStart === undefined ? Promise.resolve() : Promise.reject(new Error(cannotStart));
    this.ready.catch(() => undefined);
    this.gone = new Promise((resolve) => {
      this.leave = resolve;
    });
    if (cannotStart !== undefined) this.die(cannotStart);
  }

  run(job: Job, request: DecodedRequest): void {
    if (this.exited) {
      job.end({ kind: 'died', reason: 'it had ended' });
      return;
    }
    this.job = job;
    this.request = request;
    this.since = busyClock();
  }

  runningSince(): number | undefined {
    return this.since;
  }

  /** Its time waiting for a CPU, as Linux tells it: unknown unless the test says. */
  cpuWaitMs: (() => number) | undefined;

  waitedForCpuMs(): number | undefined {
    return this.cpuWaitMs?.();
  }

  finished(): void {
    this.job = undefined;
  }

  post(message: ToThread): void {
    this.posted.push(message);
    if (message.kind === 'abort') this.onAbort?.(this);
  }

  async terminate(): Promise<void> {
    this.terminated = true;
    this.die('terminated');
  }

  answer(content = 'ok'): void {
    this.since = undefined;
    this.job?.end({
      kind: 'done',
      outcome: {
        status: 'SUCCESS',
        content: new TextEncoder().encode(content),
        headers: {},
        messages: [],
        requests: [],
        events: [],
      },
      contentBase64: undefined,
    });
  }

  die(reason: string): void {
    if (this.exited) return;
    this.exited = true;
    this.job?.end({ kind: 'died', reason });
    this.job = undefined;
    this.leave();
  }
}

const quiet = createLogger('error', () => undefined);
let pools: Pool[] = [];
afterEach(async () => {
  await Promise.all(pools.map((pool) => pool.close()));
  pools = [];
});

function pool(
  options: {
    size?: number;
    idleMs?: number;
    growAfterMs?: number;
    onAbort?: (thread: FakeThread) => void;
    /** The threads that cannot start, by their order of starting. */
    cannotStart?: (nth: number) => string | undefined;
  } = {},
) {
  const threads: FakeThread[] = [];
  const started = startPool({
    type: 'fake',
    bundlePath: '',
    sha256: '',
    memoryMb: 64,
    size: options.size ?? 4,
    log: quiet,
    idleMs: options.idleMs ?? 60_000,
    growAfterMs: options.growAfterMs ?? 5,
    graceMs: 30,
    startThread: () => {
      const thread = new FakeThread(options.onAbort, options.cannotStart?.(threads.length));
      threads.push(thread);
      return thread;
    },
  });
  pools.push(started);
  return { pool: started, threads };
}

let counter = 0;
function request(): DecodedRequest {
  counter += 1;
  return rawRequest({}, { requestId: `r${counter}` });
}

const run = (timeoutMs = 60_000): ExecuteOptions => ({ timeoutMs, log: quiet, progress: async () => {} });
const until = async (condition: () => boolean) => {
  for (let i = 0; i < 400 && !condition(); i += 1) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(condition()).toBe(true);
};
const verdictOf = (happening: Happening) =>
  happening.kind === 'verdict' ? happening.verdict.status : happening;

describe('the pool of handler threads', () => {
  it('serves one request after another from its one thread', async () => {
    const { pool: p, threads } = pool();
    for (let i = 0; i < 3; i += 1) {
      const running = p.execute(request(), run());
      await until(() => threads[0]?.job !== undefined);
      threads[0]?.answer();
      expect(verdictOf(await running)).toBe('SUCCESS');
    }
    expect(threads).toHaveLength(1);
  });

  it('grows one thread at a time while requests wait, up to its size, then hands a freed thread over', async () => {
    const { pool: p, threads } = pool({ size: 3 });
    const requests = [request(), request(), request(), request()];
    const running = requests.map((r) => p.execute(r, run()));
    await until(() => threads.length === 3 && threads.every((thread) => thread.job !== undefined));
    // The fourth waits: no fourth thread, whatever the wait.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(threads).toHaveLength(3);
    expect(p.threads()).toBe(3);
    const first = threads[0];
    first?.answer();
    await until(() => first?.request === requests[3]);
    for (const thread of threads) thread.answer();
    expect((await Promise.all(running)).map(verdictOf)).toEqual(['SUCCESS', 'SUCCESS', 'SUCCESS', 'SUCCESS']);
  });

  it('does not grow while quick requests wait in line, each keeping the thread busy for a moment', async () => {
    // Each request holds the thread for about a millisecond; a hundred of them wait far longer than
    // growAfterMs in all, but no busy thread is ever on one request that long.
    const { pool: p, threads } = pool({ size: 4, growAfterMs: 50 });
    const running = Array.from({ length: 100 }, () => p.execute(request(), run()));
    const answering = setInterval(() => {
      for (const thread of threads) thread.answer();
    }, 1);
    try {
      expect((await Promise.all(running)).map(verdictOf)).toEqual(Array(100).fill('SUCCESS'));
    } finally {
      clearInterval(answering);
    }
    expect(threads).toHaveLength(1);
  });

  it('does not grow while its running thread waits for a CPU, and grows once the thread runs', async () => {
    // A thread held 5 ms by a quick handler it could not run (every core taken): another thread would
    // wait as well. Its CPU wait grows with the clock until the test lets the machine free.
    const { pool: p, threads } = pool({ size: 3, growAfterMs: 5 });
    const first = p.execute(request(), run());
    await until(() => threads[0]?.job !== undefined);
    let starvedUntil = Number.POSITIVE_INFINITY;
    const thread = threads[0] as FakeThread;
    thread.cpuWaitMs = () => Math.min(busyClock(), starvedUntil);
    const second = p.execute(request(), run());
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(threads).toHaveLength(1);
    // The machine frees: the thread is now held by its handler, not by the CPU.
    starvedUntil = busyClock();
    await until(() => threads.length === 2 && threads[1]?.job !== undefined);
    for (const each of threads) each.answer();
    expect([await first, await second].map(verdictOf)).toEqual(['SUCCESS', 'SUCCESS']);
  });

  it('fails every request waiting for a thread that cannot start, then starts afresh for the next', async () => {
    const { pool: p, threads } = pool({ cannotStart: (nth) => (nth < 2 ? 'the bundle changed' : undefined) });
    const failed = await Promise.all([p.execute(request(), run()), p.execute(request(), run())]);
    expect(failed.map((happening) => happening.kind === 'failure' && happening.cause)).toEqual([
      'thread-died',
      'thread-died',
    ]);
    const next = p.execute(request(), run());
    await until(() => threads.at(-1)?.job !== undefined);
    threads.at(-1)?.answer();
    expect(verdictOf(await next)).toBe('SUCCESS');
  });

  it('ends a thread left idle, and starts a fresh one for the next request', async () => {
    const { pool: p, threads } = pool({ idleMs: 20 });
    const running = p.execute(request(), run());
    await until(() => threads[0]?.job !== undefined);
    threads[0]?.answer();
    await running;
    await until(() => threads[0]?.terminated === true && p.threads() === 0);
    const next = p.execute(request(), run());
    await until(() => threads[1]?.job !== undefined);
    threads[1]?.answer();
    expect(verdictOf(await next)).toBe('SUCCESS');
  });

  it('fails the request of a thread that dies, and gives who waits a fresh thread', async () => {
    const { pool: p, threads } = pool({ size: 1 });
    const dying = p.execute(request(), run());
    const waiting = p.execute(request(), run());
    await until(() => threads[0]?.job !== undefined);
    threads[0]?.die('it ran out of memory (limit 64 MB)');
    expect(await dying).toMatchObject({
      kind: 'failure',
      cause: 'thread-died',
      message: 'it ran out of memory (limit 64 MB)',
    });
    await until(() => threads[1]?.job !== undefined);
    threads[1]?.answer();
    expect(verdictOf(await waiting)).toBe('SUCCESS');
  });

  it('at the time limit, aborts the handler; one that stops within the grace keeps its thread', async () => {
    const { pool: p, threads } = pool({ onAbort: (thread) => thread.answer('too late') });
    const happening = await p.execute(request(), run(20));
    expect(happening).toMatchObject({ kind: 'failure', cause: 'timeout', message: 'no result after 20 ms' });
    expect(threads[0]?.posted).toEqual([
      expect.objectContaining({ kind: 'abort', reason: 'time limit of 20 ms' }),
    ]);
    expect(threads[0]?.terminated).toBe(false);
  });

  it('terminates a thread still running after the grace', async () => {
    const { pool: p, threads } = pool();
    const happening = await p.execute(request(), run(20));
    expect(happening).toMatchObject({
      kind: 'failure',
      cause: 'timeout',
      message: 'no result after 20 ms, thread terminated',
    });
    expect(threads[0]?.terminated).toBe(true);
  });
});
