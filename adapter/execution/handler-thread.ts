/**
 * The entry of a handler's worker thread: loads one bundle, then runs the requests the pool hands
 * it, one at a time, and posts back plain data (the bundle's Outcome, or the error it threw). Its
 * log lines and RUNNING updates go to the main thread, which owns the broker.
 */
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { capMessages } from '../../protocol/limits.ts';
import { base64Bytes } from '../../protocol/response.ts';
import type { Context, LogFields, RawRequest } from '../../sdk/index.ts';
import { importVerified } from '../bundles/file.ts';
import { busyClock, type FromThread, HANDLER_THREAD_NICE, type ToThread } from './thread-messages.ts';
import { thrownError } from './thrown.ts';

const port = parentPort;
if (port === null) throw new Error('handler-thread.ts runs as a worker thread');
const post = (message: FromThread, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

/** This thread's own id (Linux), or undefined elsewhere. */
const tid = ownThreadId();
lowerOwnPriority();

function ownThreadId(): number | undefined {
  try {
    return Number(readlinkSync('/proc/thread-self').split('/').at(-1));
  } catch {
    return undefined;
  }
}

function lowerOwnPriority(): void {
  if (tid === undefined) return; // Elsewhere, handlers run at the host's priority.
  try {
    // setpriority on a thread's id changes this thread alone.
    setPriority(tid, Math.min(19, getPriority(tid) + HANDLER_THREAD_NICE));
  } catch {
    // Not allowed here: handlers run at the host's priority.
  }
}

// The bundle alone, if its bytes are still the ones the host verified (a new version may have been
// written over it since); its definition's type is checked by the pool.
const { bundlePath, sha256, busy } = workerData as {
  bundlePath: string;
  sha256: string;
  busy: SharedArrayBuffer;
};
/** Since when this thread has been running a handler, or 0 (see BUSY_BYTES). */
const runningSince = new Float64Array(busy);
const definition = await importVerified(bundlePath, sha256);
const aborts = new Map<number, AbortController>();
const progressSent = new Map<number, () => void>();
let progressSeq = 0;

port.on('message', (message: ToThread) => {
  switch (message.kind) {
    case 'run':
      void run(message.id, message.request);
      return;
    case 'abort':
      aborts.get(message.id)?.abort(new Error(message.reason));
      return;
    case 'progress-sent':
      progressSent.get(message.seq)?.();
      progressSent.delete(message.seq);
      return;
  }
});
post({ kind: 'ready', type: definition.type, tid });

async function run(id: number, request: RawRequest): Promise<void> {
  const controller = new AbortController();
  aborts.set(id, controller);
  runningSince[0] = busyClock();
  const log = (level: 'debug' | 'info' | 'warn' | 'error') => (text: string, fields?: LogFields) =>
    post({ kind: 'log', id, level, message: String(text), fields: plainFields(fields) });
  const ctx: Context = {
    signal: controller.signal,
    log: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
    progress: (text) =>
      new Promise<void>((resolve) => {
        progressSeq += 1;
        progressSent.set(progressSeq, resolve);
        post({ kind: 'progress', id, seq: progressSeq, message: String(text) });
      }),
  };
  try {
    const outcome = await definition.run(request, ctx);
    if (outcome.status === 'SUCCESS' && outcome.content !== undefined) {
      // Encoded here, off the main thread, which then only copies the bytes into the response; moved,
      // not copied (base64Bytes gives them a memory of their own).
      const contentBase64 = base64Bytes(outcome.content);
      end({ kind: 'done', id, outcome: { ...outcome, content: undefined }, contentBase64 }, [
        contentBase64.buffer as ArrayBuffer,
      ]);
    } else if (outcome.status !== 'SUCCESS') {
      // Bounded here: a hundred thousand messages never cross to the main thread.
      end({
        kind: 'done',
        id,
        outcome: { ...outcome, messages: capMessages(outcome.messages) },
        contentBase64: undefined,
      });
    } else end({ kind: 'done', id, outcome, contentBase64: undefined });
  } catch (cause) {
    const error = thrownError(cause);
    const code = (error as { code?: unknown }).code;
    end({
      kind: 'threw',
      id,
      error: {
        message: error.message,
        stack: error.stack ?? `${error.name}: ${error.message}`,
        code: typeof code === 'string' ? code : undefined,
      },
    });
  } finally {
    aborts.delete(id);
  }
}

/** Posts how a request ended; from then on this thread is free. */
function end(message: FromThread, transfer: ArrayBuffer[] = []): void {
  runningSince[0] = 0;
  post(message, transfer);
}

/** Log fields as data a message can carry (errors as plain objects, anything else as text). */
function plainFields(fields: LogFields | undefined): LogFields | undefined {
  if (fields === undefined) return undefined;
  try {
    return structuredClone(fields);
  } catch {
    return Object.fromEntries(
      Object.entries(fields).map(([key, value]) => [
        key,
        value instanceof Error
          ? { name: value.name, message: value.message, stack: value.stack }
          : String(value),
      ]),
    );
  }
}
