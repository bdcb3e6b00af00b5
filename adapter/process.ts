/**
 * One delivery, from bytes to a settle decision: decode, then the bundle's run() (input validation and
 * handler) under a time limit, then the pure settle table. No broker here: the consumer carries the
 * decision out on RabbitMQ, and `invoke` prints it.
 */
import {
  bodyTooLarge,
  type Decision,
  type DecodedRequest,
  type Delivery,
  decode,
  type FailureCause,
  type Happening,
  type Limits,
  type RetryPolicy,
  settle,
} from '../protocol/index.ts';
import type { Outcome, WorkerDefinition } from '../sdk/index.ts';
import type { HostLogger } from './log.ts';
import { inHandlerSpan } from './tracing.ts';

export interface ProcessOptions {
  readonly timeoutMs: number;
  readonly policy: RetryPolicy;
  readonly limits: Limits;
  /** Aborted when the host gives up on in-flight work (end of drain); handlers see it through ctx.signal. */
  readonly stop?: AbortSignal;
  /** The handler's ctx.log is a child of it carrying the request id and attempt. */
  readonly log: HostLogger;
  /** Publishes a RUNNING response for this request. */
  readonly progress: (request: DecodedRequest, message: string) => Promise<void>;
}

export interface Processed {
  readonly decision: Decision;
  /** Undefined when the delivery could not be decoded. */
  readonly request: DecodedRequest | undefined;
  readonly happening: Happening;
}

export async function processDelivery(
  worker: WorkerDefinition,
  delivery: Delivery,
  options: ProcessOptions,
): Promise<Processed> {
  const decoded = decode(delivery);
  if (!decoded.ok) {
    const happening: Happening = { kind: 'undecodable', reason: decoded.reason };
    return { decision: settle(happening, 1, options.policy, options.limits), request: undefined, happening };
  }
  const { request } = decoded;
  const tooLarge = bodyTooLarge(delivery.body.byteLength, options.limits);
  const happening: Happening = delivery.redelivered
    ? { kind: 'redelivered' }
    : tooLarge !== undefined
      ? { kind: 'verdict', verdict: { status: 'INVALID_CONTENT', messages: [tooLarge] } }
      : await run(worker, request, options);
  return { decision: settle(happening, request.attempt, options.policy, options.limits), request, happening };
}

/**
 * How long a handler may take, after its signal was aborted at the time limit, to leave things as
 * it found them (remove a partial output, say) before the delivery is settled.
 */
export const ABORT_GRACE_MS = 2_000;

class Timeout extends Error {
  readonly code = 'TIMEOUT';
}

async function run(
  worker: WorkerDefinition,
  request: DecodedRequest,
  options: ProcessOptions,
): Promise<Happening> {
  const controller = new AbortController();
  const onStop = () => controller.abort(options.stop?.reason);
  options.stop?.addEventListener('abort', onStop, { once: true });
  const ctx = {
    signal: controller.signal,
    log: options.log.child({ requestId: request.requestId, attempt: request.attempt }),
    progress: (message: string) => options.progress(request, String(message)),
  };
  let running: Promise<unknown> | undefined;
  const timers: NodeJS.Timeout[] = [];
  const after = (ms: number) => new Promise<void>((resolve) => timers.push(setTimeout(resolve, ms)));
  try {
    running = inHandlerSpan(worker.type, request.attempt, () => worker.run(request, ctx));
    // A handler still running after its time limit may reject later: that must not go unhandled.
    running.catch(() => undefined);
    const timedOut = Symbol('timed out');
    const outcome = await Promise.race([running, after(options.timeoutMs).then(() => timedOut)]);
    if (outcome !== timedOut) return { kind: 'verdict', verdict: outcome as Outcome };
    const timeout = new Timeout(`no result after ${options.timeoutMs} ms`);
    controller.abort(timeout);
    // Give it a moment to clean up after itself before the request goes elsewhere.
    await Promise.race([running.catch(() => undefined), after(ABORT_GRACE_MS)]);
    return failure(timeout);
  } catch (cause) {
    return failure(cause);
  } finally {
    for (const timer of timers) clearTimeout(timer);
    options.stop?.removeEventListener('abort', onStop);
  }
}

function failure(cause: unknown): Happening {
  const error = cause instanceof Error ? cause : new Error(`non-error thrown: ${safeString(cause)}`);
  const code = (error as { code?: unknown }).code;
  const kind: FailureCause =
    error instanceof Timeout ? 'timeout' : code === 'NOT_A_RESULT' ? 'not-a-result' : 'threw';
  return {
    kind: 'failure',
    cause: kind,
    message: error.message,
    stacktrace: error.stack ?? `${error.name}: ${error.message}`,
  };
}

function safeString(value: unknown): string {
  try {
    return typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  } catch {
    return Object.prototype.toString.call(value);
  }
}
