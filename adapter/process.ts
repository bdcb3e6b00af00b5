/**
 * One delivery, from bytes to a settle decision: decode, then the bundle's run() (input validation and
 * handler) under a time limit, then the pure settle table. No broker here: the consumer carries the
 * decision out on RabbitMQ, and `invoke` prints it.
 */
import {
  type Decision,
  type DecodedRequest,
  type Delivery,
  decode,
  type FailureCause,
  type Happening,
  type RetryPolicy,
  settle,
} from '../protocol/index.ts';
import type { EncodedRequest, Outcome, WorkerDefinition } from '../sdk/index.ts';
import type { HostLogger } from './log.ts';
import { inHandlerSpan } from './tracing.ts';

export interface ProcessOptions {
  readonly timeoutMs: number;
  readonly policy: RetryPolicy;
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
  /** New requests a successful handler issued, to publish before the response. */
  readonly newRequests: readonly EncodedRequest[];
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
    return { decision: settle(happening, 1, options.policy), request: undefined, newRequests: [], happening };
  }
  const { request } = decoded;
  const ran: Ran = delivery.redelivered
    ? { happening: { kind: 'redelivered' } }
    : await run(worker, request, options);
  const decision = settle(ran.happening, request.attempt, options.policy);
  const newRequests =
    decision.ending === 'success' && ran.outcome?.status === 'SUCCESS' ? ran.outcome.requests : [];
  return { decision, request, newRequests, happening: ran.happening };
}

interface Ran {
  readonly happening: Happening;
  readonly outcome?: Outcome;
}

class Timeout extends Error {
  readonly code = 'TIMEOUT';
}

async function run(worker: WorkerDefinition, request: DecodedRequest, options: ProcessOptions): Promise<Ran> {
  const controller = new AbortController();
  const onStop = () => controller.abort(options.stop?.reason);
  options.stop?.addEventListener('abort', onStop, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const timeout = new Timeout(`no result after ${options.timeoutMs} ms`);
      controller.abort(timeout);
      reject(timeout);
    }, options.timeoutMs);
  });
  try {
    const ctx = {
      signal: controller.signal,
      log: options.log.child({ requestId: request.requestId, attempt: request.attempt }),
      progress: (message: string) => options.progress(request, String(message)),
    };
    const running = inHandlerSpan(worker.type, request.attempt, () => worker.run(request, ctx));
    // A handler still running after its time limit may reject later: that must not go unhandled.
    running.catch(() => undefined);
    const outcome = await Promise.race([running, limit]);
    return { happening: { kind: 'verdict', verdict: outcome }, outcome };
  } catch (cause) {
    return { happening: failure(cause) };
  } finally {
    clearTimeout(timer);
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
