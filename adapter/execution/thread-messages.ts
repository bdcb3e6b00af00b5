/** What the pool and a handler thread say to each other: plain data only. */
import type { LogFields, Outcome, RawRequest } from '../../sdk/index.ts';

export type ToThread =
  | { readonly kind: 'run'; readonly id: number; readonly request: RawRequest }
  /** The time limit or the drain deadline: the handler's ctx.signal is aborted with this reason. */
  | { readonly kind: 'abort'; readonly id: number; readonly reason: string }
  | { readonly kind: 'progress-sent'; readonly seq: number };

export type FromThread =
  /** The bundle is loaded: the thread can take requests. `tid`: its id in the OS (Linux), to read its scheduling. */
  | { readonly kind: 'ready'; readonly type: string; readonly tid: number | undefined }
  /** A success's content comes as Base64 bytes (`contentBase64`), encoded in the thread. */
  | {
      readonly kind: 'done';
      readonly id: number;
      readonly outcome: Outcome;
      readonly contentBase64: Uint8Array | undefined;
    }
  | {
      readonly kind: 'threw';
      readonly id: number;
      readonly error: { readonly message: string; readonly stack: string; readonly code: string | undefined };
    }
  | {
      readonly kind: 'log';
      readonly id: number;
      readonly level: 'debug' | 'info' | 'warn' | 'error';
      readonly message: string;
      readonly fields: LogFields | undefined;
    }
  | { readonly kind: 'progress'; readonly id: number; readonly seq: number; readonly message: string };

/**
 * What a thread's `busy` memory (a SharedArrayBuffer, one Float64 slot) holds: since when it has been
 * running a request's handler, in ms on the clock of `busyClock`, or 0 between requests. The pool reads
 * it without a message: a thread that has answered is free, whether or not the main thread has read
 * the answer yet.
 */
export const BUSY_BYTES = 8;

/** A millisecond clock all threads of the process share (each thread's performance.now() has its own origin). */
export function busyClock(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * How much lower than the host's own thread a handler thread runs (a nice value, Linux). When handlers
 * keep every core busy, the main thread (the broker's socket, acks, heartbeats, /livez) still runs
 * first: a burst of the largest inputs on two cores once held /livez for over a second at equal priority.
 */
export const HANDLER_THREAD_NICE = 10;
