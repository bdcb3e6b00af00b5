/**
 * Handlers in worker threads (`isolation: 'thread'`, the default): one pool per worker type, one
 * request per thread at a time, at most `size` threads. The main thread keeps the broker, heartbeats
 * and health; a handler that burns CPU only slows its own thread. At the time limit the handler's
 * ctx.signal is aborted and it gets a grace to clean up; a thread still busy after it is terminated,
 * and so is the memory it held. A thread that dies (out of memory, an uncaught error, process.exit)
 * is replaced. Its threads are thread.ts's; tests give it their own, and its timings.
 */
import type { DecodedRequest, Happening } from '../../protocol/index.ts';
import {
  ABORT_GRACE_MS,
  type ExecuteOptions,
  type Executor,
  failure,
  thrown,
  timedOut,
  underTimeLimit,
} from '../delivery/process.ts';
import type { HostLogger } from '../telemetry/log.ts';
import { inHandlerSpan } from '../telemetry/tracing.ts';
import { type PoolThread, startHandlerThread, type ThreadEnd, type ThreadOptions } from './thread.ts';
import { busyClock } from './thread-messages.ts';

/**
 * A thread idle this long is ended, so that what its requests allocated goes back to the system; the
 * next request starts a new one (some 30 to 60 ms, the bundle's import included).
 */
export const THREAD_IDLE_MS = 5_000;

/**
 * A new thread is started, one at a time, when a request has found no idle thread and waited this
 * long, and a thread has been running one handler as long (by the thread's own account, not counting
 * the time its answer waits for the main thread): slow or CPU-bound handlers get a thread each, up to
 * the size, while quick ones, which keep their threads busy for a moment each, are served by the
 * threads there are. Counting the wait alone grew the pool to four threads for a handler of 0.1 ms on
 * a busy machine (its requests waited for the CPU and the main thread, not for a thread), and each
 * thread added CPU per message and memory (a thread costs some 50 ms of CPU to start and ~15 MB while
 * it lives, and does not give it all back when it ends). 50 ms rather than 5: a new thread's first
 * requests run cold code (compilation, the schema's first parse) for several ms each, which looked like
 * a slow handler, so a burst of quick requests still grew the pool in one run in two (saturation at
 * prefetch 10, 4 rounds: 12 OS threads in every round and a 131-135 MB peak, against 12-13 threads and
 * 130-153 MB at 5 ms). A slow handler waits 45 ms more for its second thread.
 */
export const GROW_AFTER_MS = 50;

/** A thread's CPU wait looked at longer ago than this tells nothing about now: it is looked at afresh. */
const CPU_WAIT_STALE_MS = 200;

export interface PoolOptions extends ThreadOptions {
  /** Threads at most: requests beyond wait for one. */
  readonly size: number;
  readonly log: HostLogger;
  /** THREAD_IDLE_MS, GROW_AFTER_MS and ABORT_GRACE_MS unless given. */
  readonly idleMs?: number;
  readonly growAfterMs?: number;
  readonly graceMs?: number;
  /** Starts a thread (a real one unless given). */
  readonly startThread?: (options: ThreadOptions) => PoolThread;
  /**
   * A thread could not start: the bundle on disk no longer loads (changed since it was checked, or
   * removed).
   */
  readonly onBroken?: (reason: string) => void;
}

export interface Pool extends Executor {
  /** Threads alive now. */
  threads(): number;
  /** Ends every thread (what they run is abandoned). */
  close(): Promise<void>;
}

export function startPool(options: PoolOptions): Pool {
  // No thread until a request comes (whether the bundle loads was checked: bundles/load-check.ts).
  const pool = new ThreadPool(options);
  return {
    execute: (request, run) => inHandlerSpan(options, request.attempt, () => pool.execute(request, run)),
    threads: () => pool.all.size,
    close: () => pool.close(),
  };
}

/** A request waiting for a thread, with its timer to grow the pool. */
interface Waiter {
  readonly take: (thread: PoolThread) => void;
  readonly since: number;
  grow: NodeJS.Timeout | undefined;
}

class ThreadPool {
  readonly all = new Set<PoolThread>();
  readonly #idle: PoolThread[] = [];
  /** The threads that have a request (running it, or answered and not yet read). */
  readonly #busy = new Set<PoolThread>();
  /** Requests waiting for a thread, first come first served. */
  readonly #waiting: Waiter[] = [];
  /** Threads started for waiting requests and not ready yet: the pool grows by one at a time. */
  #starting = 0;
  #closed = false;
  #sequence = 0;
  /** Each busy thread's time waiting for a CPU when it was last looked at (see #starved). */
  readonly #cpuWaitSeen = new WeakMap<PoolThread, { at: number; waitedMs: number }>();
  readonly #options: PoolOptions;
  readonly #idleMs: number;
  readonly #growAfterMs: number;
  readonly #graceMs: number;

  constructor(options: PoolOptions) {
    this.#options = options;
    this.#idleMs = options.idleMs ?? THREAD_IDLE_MS;
    this.#growAfterMs = options.growAfterMs ?? GROW_AFTER_MS;
    this.#graceMs = options.graceMs ?? ABORT_GRACE_MS;
  }

  async execute(request: DecodedRequest, run: ExecuteOptions): Promise<Happening> {
    // A thread that could not start is handed over all the same: its run() fails the request.
    const thread = await this.#acquire();
    this.#busy.add(thread);
    this.#sequence += 1;
    const id = this.#sequence;
    const ended = new Promise<ThreadEnd>((end) => thread.run({ id, options: run, end }, request));
    const abort = (reason: string) => thread.post({ kind: 'abort', id, reason });
    const onStop = () => abort('the host is stopping');
    run.stop?.addEventListener('abort', onStop, { once: true });
    try {
      const ran = await underTimeLimit(
        ended,
        run.timeoutMs,
        () => abort(`time limit of ${run.timeoutMs} ms`),
        this.#graceMs,
      );
      if (!('late' in ran)) return happening(ran.ended);
      if (ran.late !== undefined && ran.late.kind !== 'died') return timedOut(run.timeoutMs);
      // Still running (a loop that never yields, say): the thread goes, and its memory with it.
      await thread.terminate();
      return timedOut(run.timeoutMs, ', thread terminated');
    } finally {
      run.stop?.removeEventListener('abort', onStop);
      this.#release(thread);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.all].map((thread) => thread.terminate()));
  }

  #spawn(): PoolThread {
    const thread = (this.#options.startThread ?? startHandlerThread)(this.#options);
    thread.ready.catch((error: Error) => {
      if (!this.#closed) this.#options.onBroken?.(error.message);
    });
    this.all.add(thread);
    void thread.gone.then(() => {
      this.all.delete(thread);
      const at = this.#idle.indexOf(thread);
      if (at >= 0) this.#idle.splice(at, 1);
    });
    return thread;
  }

  #acquire(): Promise<PoolThread> {
    for (let thread = this.#idle.pop(); thread !== undefined; thread = this.#idle.pop()) {
      clearTimeout(thread.idleTimer);
      if (!thread.exited) return Promise.resolve(thread);
    }
    return new Promise((resolve) => {
      const waiter: Waiter = { take: resolve, since: busyClock(), grow: undefined };
      this.#waiting.push(waiter);
      // No thread at all (none yet, or the last one ended): one is started for the line at once.
      if (this.all.size === 0) return this.#grow();
      waiter.grow = setTimeout(() => {
        waiter.grow = undefined;
        this.#grow();
      }, this.#growAfterMs);
    });
  }

  /**
   * One more thread, if none is starting already, once the first in line has waited GROW_AFTER_MS and
   * a thread has been running one handler as long, unless the running threads are starved of CPU;
   * asked again when that would be due. (Timers run on a
   * millisecond clock: one set for GROW_AFTER_MS may fire a fraction of a millisecond early, hence the
   * millisecond of slack.)
   */
  #grow(): void {
    const first = this.#waiting[0];
    if (this.#closed || this.#starting > 0 || this.all.size >= this.#options.size || first === undefined)
      return;
    if (this.all.size === 0) return void this.#startFor();
    const now = busyClock();
    let longest = now;
    for (const thread of this.#busy) longest = Math.min(longest, thread.runningSince() ?? now);
    let due = Math.max(first.since, longest) + this.#growAfterMs;
    if (now >= due - 1) {
      if (!this.#starved(now)) return void this.#startFor();
      due = now + this.#growAfterMs; // looked at again after as long
    }
    if (first.grow === undefined)
      first.grow = setTimeout(() => {
        first.grow = undefined;
        this.#grow();
      }, due - now);
  }

  /**
   * Whether the threads running a handler are mostly waiting for a CPU rather than running it (or
   * awaiting its I/O): then every core is taken, and one more thread would only wait as well, while it
   * costs memory and CPU to start. On a busy machine a quick handler's thread is often preempted
   * mid-request and so looked held: the pool grew to three or four threads for a handler of 0.1 ms.
   * Judged over the time since the threads were last looked at; a first look is not enough to judge.
   */
  #starved(now: number): boolean {
    let watched = 0;
    let waited = 0;
    let firstLook = false;
    for (const thread of this.#busy) {
      if (thread.runningSince() === undefined) continue;
      const waitedMs = thread.waitedForCpuMs();
      if (waitedMs === undefined) return false; // the OS does not say: the running time decides
      const seen = this.#cpuWaitSeen.get(thread);
      this.#cpuWaitSeen.set(thread, { at: now, waitedMs });
      if (seen === undefined || now - seen.at > CPU_WAIT_STALE_MS) firstLook = true;
      else {
        watched += now - seen.at;
        waited += waitedMs - seen.waitedMs;
      }
    }
    return watched > 0 ? waited >= watched / 2 : firstLook;
  }

  /** Gives `thread` to the first request in line; true if there was one. */
  #handOver(thread: PoolThread): boolean {
    const next = this.#waiting.shift();
    if (next === undefined) return false;
    clearTimeout(next.grow);
    next.take(thread);
    return true;
  }

  #release(thread: PoolThread): void {
    thread.finished();
    this.#busy.delete(thread);
    if (this.#closed) return;
    if (thread.exited) {
      // Its place goes to a fresh thread for whoever waits.
      if (this.#waiting.length > 0) this.#startFor();
      return;
    }
    if (this.#handOver(thread)) return;
    this.#idle.push(thread);
    thread.idleTimer = setTimeout(() => this.#recycle(thread), this.#idleMs);
    thread.idleTimer.unref();
  }

  /**
   * A fresh thread for the requests in line; one that cannot start is handed over all the same, and
   * fails the request it gets (see execute()).
   */
  #startFor(): void {
    const thread = this.#spawn();
    this.#starting += 1;
    void thread.ready
      .catch(() => undefined)
      .then(() => {
        this.#starting -= 1;
        if (!this.#handOver(thread) && !thread.exited) this.#release(thread);
        this.#grow();
      });
  }

  /** An idle thread is ended: its memory goes back, and a request after a quiet spell starts a new one. */
  #recycle(thread: PoolThread): void {
    const at = this.#idle.indexOf(thread);
    if (at < 0) return;
    this.#idle.splice(at, 1);
    void thread.terminate();
  }
}

/** What a thread's end means for the request it ran. */
function happening(end: ThreadEnd): Happening {
  if (end.kind === 'done') {
    const verdict =
      end.outcome.status === 'SUCCESS' ? { ...end.outcome, contentBase64: end.contentBase64 } : end.outcome;
    return { kind: 'verdict', verdict };
  }
  if (end.kind === 'threw') return thrown(end.error);
  return failure('thread-died', end.reason, `the handler's thread died: ${end.reason}`);
}
