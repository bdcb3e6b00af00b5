/**
 * One handler thread, from the main thread's side: it loads one bundle (handler-thread.ts) and runs
 * the requests the pool hands it, one at a time. With handler-thread.ts, the only file that uses
 * node:worker_threads.
 */
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { DecodedRequest } from '../../protocol/index.ts';
import type { Outcome } from '../../sdk/index.ts';
import type { ExecuteOptions } from '../delivery/process.ts';
import { BUSY_BYTES, type FromThread, type ToThread } from './thread-messages.ts';

/** The thread entry beside this file: TypeScript in the sources, JavaScript in the compiled host. */
const THREAD_ENTRY = new URL(
  import.meta.url.endsWith('.ts') ? './handler-thread.ts' : './handler-thread.mjs',
  import.meta.url,
);

/** How a request ended in its thread. */
export type ThreadEnd =
  | { readonly kind: 'done'; readonly outcome: Outcome; readonly contentBase64: Uint8Array | undefined }
  | { readonly kind: 'threw'; readonly error: { message: string; stack: string; code: string | undefined } }
  | { readonly kind: 'died'; readonly reason: string };

/** A request handed to a thread, and where its end goes. */
export interface Job {
  readonly id: number;
  readonly options: ExecuteOptions;
  readonly end: (end: ThreadEnd) => void;
}

/** One thread as the pool uses it (tests give the pool threads of their own). */
export interface PoolThread {
  /** Settles when its bundle is loaded, or rejects with why it could not start. */
  readonly ready: Promise<void>;
  /** Settles when the thread has ended, whatever the cause. */
  readonly gone: Promise<void>;
  readonly exited: boolean;
  idleTimer: NodeJS.Timeout | undefined;
  /** Since when (busyClock) the thread itself has been running a handler; undefined between requests. */
  runningSince(): number | undefined;
  /**
   * How long in all (ms) the thread has been ready to run but waiting for a CPU, or undefined where
   * the OS does not say (Linux does, in /proc). Tells a thread held by its handler from one that is
   * not running because every core is taken.
   */
  waitedForCpuMs(): number | undefined;
  /** Hands it a request: `job.end` is called once, with the outcome, the throw or its death. */
  run(job: Job, request: DecodedRequest): void;
  /** Its request is settled: what it says later about it is ignored. */
  finished(): void;
  post(message: ToThread): void;
  terminate(): Promise<void>;
}

/** What a thread of a worker type needs to start. */
export interface ThreadOptions {
  readonly type: string;
  readonly bundlePath: string;
  readonly sha256: string;
  readonly memoryMb: number;
}

/**
 * A handler thread's young generation (V8's flags give every thread the main thread's): what a request
 * allocates and drops. Saturation at prefetch 10, 3 rounds: peak RSS 143 MB with the process's 8 MB
 * semi-spaces, 139 with 6 MB in all for the thread, the CPU a message within the machine's noise.
 */
const THREAD_YOUNG_MB = 6;

export function startHandlerThread(options: ThreadOptions): PoolThread {
  return new HandlerThread(options);
}

class HandlerThread implements PoolThread {
  readonly worker: Worker;
  readonly ready: Promise<void>;
  readonly gone: Promise<void>;
  exited = false;
  idleTimer: NodeJS.Timeout | undefined;
  private job: Job | undefined;
  private lastError: Error | undefined;
  /** Why it ended, once it has. */
  private endedBecause: string | undefined;
  private readonly busy = new Float64Array(new SharedArrayBuffer(BUSY_BYTES));
  /** Its id in the OS, once it is ready (Linux). */
  private tid: number | undefined;

  constructor(options: ThreadOptions) {
    this.worker = new Worker(THREAD_ENTRY, {
      workerData: { bundlePath: options.bundlePath, sha256: options.sha256, busy: this.busy.buffer },
      resourceLimits: { maxOldGenerationSizeMb: options.memoryMb, maxYoungGenerationSizeMb: THREAD_YOUNG_MB },
      // A thread maps its own stack traces: the bundle's source map names the function's file and line.
      // Profiled when its process is (`--cpu-prof`, as the benchmark's BENCH_PROFILE runs the host).
      execArgv: ['--enable-source-maps', ...process.execArgv.filter((flag) => flag.startsWith('--cpu-prof'))],
      name: `handler ${options.type}`,
    });
    this.gone = new Promise((resolve) => this.worker.once('exit', () => resolve()));
    this.ready = new Promise((resolve, reject) => {
      this.worker.on('message', (message: FromThread) => {
        if (message.kind !== 'ready') return this.onMessage(message);
        this.tid = message.tid;
        if (message.type === options.type) return resolve();
        reject(
          new Error(
            `${options.bundlePath} defines worker ${message.type}, the manifest says ${options.type}`,
          ),
        );
        void this.terminate();
      });
      this.worker.on('error', (error) => {
        this.lastError = error;
      });
      this.worker.on('exit', (code) => {
        this.exited = true;
        const reason = this.deathReason(code, options.memoryMb);
        this.endedBecause = reason;
        reject(new Error(`the handler thread could not start: ${reason}`));
        this.job?.end({ kind: 'died', reason });
        this.job = undefined;
      });
    });
    this.ready.catch(() => undefined);
  }

  run(job: Job, request: DecodedRequest): void {
    if (this.exited) {
      job.end({ kind: 'died', reason: this.endedBecause ?? 'it could not start, or had ended' });
      return;
    }
    this.job = job;
    // A copy that owns its memory moves to the thread; the delivery's bytes may share a larger buffer.
    const body = new Uint8Array(request.body);
    try {
      this.post({ kind: 'run', id: job.id, request: { ...request, body } }, [body.buffer]);
    } catch (error) {
      job.end({ kind: 'died', reason: `the request could not be handed to it: ${(error as Error).message}` });
    }
  }

  finished(): void {
    this.job = undefined;
  }

  runningSince(): number | undefined {
    const since = this.busy[0] ?? 0;
    return since === 0 ? undefined : since;
  }

  waitedForCpuMs(): number | undefined {
    if (this.tid === undefined || this.exited) return undefined;
    return cpuWaitMs(this.tid);
  }

  post(message: ToThread, transfer: ArrayBuffer[] = []): void {
    if (!this.exited) this.worker.postMessage(message, transfer);
  }

  async terminate(): Promise<void> {
    this.exited = true;
    clearTimeout(this.idleTimer);
    await this.worker.terminate();
  }

  private onMessage(message: Exclude<FromThread, { kind: 'ready' }>): void {
    const job = this.job;
    if (job === undefined || message.id !== job.id) return;
    switch (message.kind) {
      case 'done':
        job.end({ kind: 'done', outcome: message.outcome, contentBase64: message.contentBase64 });
        return;
      case 'threw':
        job.end({ kind: 'threw', error: message.error });
        return;
      case 'log':
        job.options.log[message.level](message.message, message.fields);
        return;
      case 'progress':
        job.options
          .progress(message.message)
          .catch((error: Error) => job.options.log.warn('RUNNING not sent', { error: error.message }))
          .finally(() => this.post({ kind: 'progress-sent', seq: message.seq }));
        return;
    }
  }

  private deathReason(code: number, memoryMb: number): string {
    const error = this.lastError as (Error & { code?: string }) | undefined;
    if (error?.code === 'ERR_WORKER_OUT_OF_MEMORY') return `it ran out of memory (limit ${memoryMb} MB)`;
    if (error !== undefined) return `uncaught ${error.name}: ${error.message}`;
    return `it exited with code ${code} (process.exit in the handler?)`;
  }
}

/**
 * A thread's time spent runnable but waiting for a CPU, from Linux's schedstat (on-CPU ns, run-queue
 * wait ns, time slices); undefined where there is no such file.
 */
function cpuWaitMs(tid: number): number | undefined {
  try {
    const waitedNs = Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'latin1').split(' ')[1]);
    return Number.isFinite(waitedNs) ? waitedNs / 1e6 : undefined;
  } catch {
    return undefined;
  }
}
