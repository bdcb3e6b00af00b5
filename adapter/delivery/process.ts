/**
 * One delivery, from bytes to a settle decision: decode, then the handler (input validation
 * included) through an Executor, inline or in a thread, then the pure settle table. No broker
 * here: the consumer carries the decision out on RabbitMQ, and `invoke` prints it.
 */
import { randomUUID } from 'node:crypto';
import {
  bodyTooLarge,
  type Decision,
  type DecodedRequest,
  type Delivery,
  decode,
  encodeDeadLetter,
  encodeDispatch,
  encodeEvent,
  encodeNewRequest,
  encodeResponse,
  encodeRetry,
  type FailureCause,
  type Happening,
  type Limits,
  type OutgoingMessage,
  type RetryPolicy,
  retryQueueName,
  settle,
} from '../../protocol/index.ts';
import type { WorkerDefinition } from '../../sdk/index.ts';
import { DEFAULT_SETTINGS, resolveSettings } from '../../sdk/settings.ts';
import { DEFAULTS } from '../config.ts';
import type { HostLogger } from '../telemetry/log.ts';

/** Runs a request's handler, wherever it runs, and tells what happened. Never rejects. */
export interface Executor {
  execute(request: DecodedRequest, options: ExecuteOptions): Promise<Happening>;
  /** The handler threads it holds now (none when handlers run inline). */
  threads?(): number;
}

export interface ExecuteOptions {
  readonly timeoutMs: number;
  /** Aborted when the host gives up on in-flight work (end of drain); handlers see it through ctx.signal. */
  readonly stop?: AbortSignal | undefined;
  /** The handler's ctx.log: its lines carry the request id and attempt. */
  readonly log: HostLogger;
  /** Publishes a RUNNING response for this request. */
  readonly progress: (message: string) => Promise<void>;
}

/**
 * How long a handler may take, after its signal was aborted at the time limit, to leave things as
 * it found them (remove a partial output, say) before the delivery is settled.
 */
export const ABORT_GRACE_MS = 2_000;

export interface ProcessOptions {
  readonly timeoutMs: number;
  readonly policy: RetryPolicy;
  readonly limits: Limits;
  readonly stop?: AbortSignal;
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
  executor: Executor,
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
      : await executor.execute(request, {
          timeoutMs: options.timeoutMs,
          stop: options.stop,
          log: options.log.child({ requestId: request.requestId, attempt: request.attempt }),
          progress: (message) => options.progress(request, String(message)),
        });
  return { decision: settle(happening, request.attempt, options.policy, options.limits), request, happening };
}

/**
 * What the host publishes for a processed delivery, in its order: the events, the new requests, then
 * the response; or the copy for a retry, or the dead-letter (none when the copy cannot be made to fit:
 * the delivery is then rejected onto the dead-letter exchange as it is).
 */
export function publications(
  workerType: string,
  delivery: Delivery,
  processed: Processed,
  now = new Date(),
): OutgoingMessage[] {
  const { decision, request } = processed;
  if (decision.action === 'retry') {
    const copy = encodeRetry(delivery, retryQueueName(workerType), decision.attempt, decision.delayMs);
    return copy === undefined ? [] : [copy];
  }
  if (decision.action === 'dead-letter') {
    const copy = encodeDeadLetter(delivery, decision);
    return copy === undefined ? [] : [copy];
  }
  if (request === undefined) return [];
  return [
    ...decision.events.map((event, i) => encodeEvent(request, event, i + 1, now)),
    ...decision.requests.map((newRequest, i) => encodeNewRequest(request, newRequest, i + 1)),
    encodeResponse(request, decision.response),
  ];
}

/**
 * The delivery of a request for `worker` as the Worker Manager publishes it: the identity headers
 * (a new request id, the worker's first accepted content type, `origin` as tenant, owner and
 * session), then `headers` over them.
 */
export function dispatched(
  worker: WorkerDefinition,
  body: Uint8Array,
  headers: Readonly<Record<string, string>> = {},
  origin = 'test',
): Delivery {
  const identity = {
    requestId: randomUUID(),
    tenant: origin,
    owner: origin,
    session: origin,
    contentType: worker.accepts[0] ?? '',
  };
  const message = encodeDispatch(identity, worker.type, body, headers);
  return {
    exchange: message.exchange,
    routingKey: message.routingKey,
    headers: message.headers,
    body: message.body,
    redelivered: false,
    priority: message.priority ?? 0,
    contentType: message.contentType,
  };
}

/** An undetermined failure. */
export function failure(cause: FailureCause, message: string, stacktrace: string): Happening {
  return { kind: 'failure', cause, message, stacktrace };
}

/** What a thrown value means: a contract error of the bundle's, or a throw of the handler's. */
export function thrown(error: { message: string; stack?: string | undefined; code?: unknown }): Happening {
  const cause: FailureCause = error.code === 'NOT_A_RESULT' ? 'not-a-result' : 'threw';
  return failure(cause, error.message, error.stack ?? error.message);
}

export function timedOut(timeoutMs: number, detail = ''): Happening {
  const message = `no result after ${timeoutMs} ms${detail}`;
  return failure('timeout', message, `TimeoutError: ${message}`);
}

/**
 * A handler's run under its time limit: what it ended with, or, past the limit, `abort()` called and
 * what it ended with within `graceMs` more (`late`, undefined when it is still running).
 */
export async function underTimeLimit<T>(
  running: Promise<T>,
  timeoutMs: number,
  abort: () => void,
  graceMs = ABORT_GRACE_MS,
): Promise<{ readonly ended: T } | { readonly late: T | undefined }> {
  const limit = delay(timeoutMs);
  try {
    const ended = await Promise.race([running.then((value) => ({ value })), limit.done]);
    if (ended !== undefined) return { ended: ended.value };
  } finally {
    limit.cancel();
  }
  abort();
  const grace = delay(graceMs);
  try {
    // Past the limit, a rejection is as good as no answer.
    const late = await Promise.race([
      running.then(
        (value) => ({ value }),
        () => undefined,
      ),
      grace.done,
    ]);
    return { late: late?.value };
  } finally {
    grace.cancel();
  }
}

/** A never-rejecting timer promise and its cancel. */
export function delay(ms: number): { done: Promise<void>; cancel: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const done = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return { done, cancel: () => clearTimeout(timer) };
}

/**
 * How a host with no configuration of its own handles a definition's requests (`invoke`,
 * `regards-worker/testing`): the definition's time limit and attempts, else the defaults.
 */
export function unconfiguredHandling(definition: Pick<WorkerDefinition, 'timeoutMs' | 'maxAttempts'>) {
  return {
    timeoutMs: resolveSettings(definition, DEFAULT_SETTINGS).timeoutMs,
    policy: {
      maxAttempts: resolveSettings(definition, DEFAULT_SETTINGS).maxAttempts,
      backoffBaseMs: DEFAULTS.WORKER_RETRY_BASE_SECONDS * 1000,
      backoffMaxMs: DEFAULTS.WORKER_RETRY_MAX_SECONDS * 1000,
    },
    limits: {
      maxBodyBytes: DEFAULTS.WORKER_MAX_BODY_BYTES,
      maxMessageBytes: DEFAULTS.WORKER_MAX_MESSAGE_BYTES,
    },
  };
}
