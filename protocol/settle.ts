/**
 * The settle decision: from what happened to a delivery, its attempt number and the retry policy,
 * to what is published (confirmed first) and what becomes of the delivery. Pure.
 */

import { eventProblems, type WorkerEventOut } from './events.ts';
import {
  base64Length,
  capMessages,
  DEFAULT_LIMITS,
  type Limits,
  SHORT_STRING_MAX_BYTES,
  utf8Bytes,
} from './limits.ts';
import { RESERVED_HEADER_PREFIX } from './names.ts';
import type { NewRequest } from './request-event.ts';
import type { Response } from './response.ts';

/** A handler's verdict as plain data (the sdk's Outcome has this shape). */
export type Verdict =
  | {
      readonly status: 'SUCCESS';
      readonly content: Uint8Array | undefined;
      /** The content already in Base64 (encoded off the main thread); wins over `content`. */
      readonly contentBase64?: Uint8Array | undefined;
      readonly headers: Readonly<Record<string, unknown>>;
      /** New requests for the Worker Manager, published before the response. */
      readonly requests?: readonly NewRequest[];
      /** Events for other REGARDS services, published first. */
      readonly events?: readonly WorkerEventOut[];
    }
  | { readonly status: 'INVALID_CONTENT' | 'ERROR'; readonly messages: readonly string[] };

export type Happening =
  /** The handler (or the input validation in front of it) gave a verdict. */
  | { readonly kind: 'verdict'; readonly verdict: Verdict }
  /**
   * Failed for an undetermined reason: the handler threw, timed out, or returned something that is
   * not a Result; or its answer could not be published (refused or unroutable).
   */
  | {
      readonly kind: 'failure';
      readonly cause: FailureCause;
      readonly message: string;
      readonly stacktrace: string;
    }
  /** Delivered again without having been settled: the process that had it died, or lost its channel. */
  | { readonly kind: 'redelivered' }
  /** The request cannot be answered (no request id or tenant). */
  | { readonly kind: 'undecodable'; readonly reason: string };

export type FailureCause = 'threw' | 'timeout' | 'not-a-result' | 'not-published' | 'thread-died';

/** Every way a delivery can end, for logs and spans. */
export type Ending =
  | 'success'
  | 'invalid-content'
  | 'error'
  | 'retry'
  | 'dead-letter'
  | 'undecodable'
  | 'unconfirmed'
  | 'rejected'
  | 'abandoned';

export interface RetryPolicy {
  /** Deliveries before an undetermined failure is dead-lettered. */
  readonly maxAttempts: number;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
}

export type Decision =
  | {
      readonly action: 'reply';
      readonly ending: 'success' | 'invalid-content' | 'error';
      readonly response: Response;
      /** Published before the response, each confirmed. */
      readonly requests: readonly NewRequest[];
      /** Published first, each confirmed and routed. */
      readonly events: readonly WorkerEventOut[];
    }
  | {
      readonly action: 'retry';
      readonly ending: 'retry';
      readonly attempt: number;
      readonly delayMs: number;
      readonly reason: string;
    }
  | {
      readonly action: 'dead-letter';
      readonly ending: 'dead-letter' | 'undecodable';
      readonly message: string;
      readonly stacktrace: string;
    };

/** Said of a delivery that RabbitMQ hands over again: the host never requeues one itself. */
export const REDELIVERED_REASON =
  'delivered again by RabbitMQ before it was settled: the process or channel that held it stopped ' +
  '(crash, lost connection, consumer timeout or drain deadline)';

/**
 * @param attempt the attempt this delivery was (1 for the first)
 */
export function settle(
  happening: Happening,
  attempt: number,
  policy: RetryPolicy,
  limits: Limits = DEFAULT_LIMITS,
): Decision {
  switch (happening.kind) {
    case 'verdict':
      return reply(happening.verdict, limits);
    case 'undecodable':
      return {
        action: 'dead-letter',
        ending: 'undecodable',
        message: happening.reason,
        stacktrace: happening.reason,
      };
    case 'redelivered':
      return retryOrDeadLetter(attempt, policy, REDELIVERED_REASON, '');
    case 'failure':
      return retryOrDeadLetter(
        attempt,
        policy,
        `${describe(happening.cause)}: ${happening.message}`,
        happening.stacktrace,
      );
  }
}

function describe(cause: FailureCause): string {
  if (cause === 'timeout') return 'handler timed out';
  if (cause === 'not-a-result') return 'handler returned no Result';
  if (cause === 'not-published') return 'its answer could not be published';
  if (cause === 'thread-died') return "the handler's thread died";
  return 'handler threw';
}

function retryOrDeadLetter(
  attempt: number,
  policy: RetryPolicy,
  reason: string,
  stacktrace: string,
): Decision {
  if (attempt < policy.maxAttempts) {
    return {
      action: 'retry',
      ending: 'retry',
      attempt: attempt + 1,
      delayMs: backoff(attempt, policy),
      reason,
    };
  }
  const message = `failed after ${attempt} attempt${attempt === 1 ? '' : 's'}: ${reason}`;
  return { action: 'dead-letter', ending: 'dead-letter', message, stacktrace: stacktrace || message };
}

/** Exponential: base, 2 × base, 4 × base... capped. */
export function backoff(attempt: number, policy: RetryPolicy): number {
  return Math.min(policy.backoffMaxMs, policy.backoffBaseMs * 2 ** Math.min(attempt - 1, 30));
}

function reply(verdict: Verdict, limits: Limits): Decision {
  if (verdict.status !== 'SUCCESS') return answer(verdict.status, verdict.messages);
  const problem = checkAdditionalHeaders(verdict.headers) ?? checkSizes(verdict, limits);
  if (problem !== undefined) return answer('ERROR', [problem]);
  const denied = (verdict.events ?? []).flatMap((event, i) =>
    eventProblems(event).map((p) => `event ${i + 1} (${event.kind}) would be refused: ${p}`),
  );
  if (denied.length > 0) return answer('ERROR', denied);
  const additionalHeaders = verdict.headers as Record<string, string>;
  return {
    action: 'reply',
    ending: 'success',
    response: {
      status: 'SUCCESS',
      messages: [],
      content: verdict.content,
      ...(verdict.contentBase64 === undefined ? {} : { contentBase64: verdict.contentBase64 }),
      ...(Object.keys(additionalHeaders).length > 0 ? { additionalHeaders } : {}),
    },
    requests: verdict.requests ?? [],
    events: verdict.events ?? [],
  };
}

function answer(status: 'INVALID_CONTENT' | 'ERROR', messages: readonly string[]): Decision {
  const ending = status === 'ERROR' ? 'error' : 'invalid-content';
  return {
    action: 'reply',
    ending,
    response: { status, messages: capMessages(messages) },
    requests: [],
    events: [],
  };
}

/** Room for a response's status, field names and headers around its content. */
const RESPONSE_OVERHEAD_BYTES = 4_096;

/** A success whose response or new requests would exceed the largest message is answered ERROR instead. */
function checkSizes(verdict: Verdict & { status: 'SUCCESS' }, limits: Limits): string | undefined {
  const headerBytes = Object.entries(verdict.headers).reduce(
    (sum, [key, value]) => sum + utf8Bytes(key) + utf8Bytes(String(value)) + 8,
    0,
  );
  const responseBytes =
    (verdict.contentBase64?.byteLength ?? base64Length(verdict.content?.byteLength ?? 0)) +
    headerBytes +
    RESPONSE_OVERHEAD_BYTES;
  if (responseBytes > limits.maxMessageBytes) {
    return (
      `the result is too large: its response would be about ${responseBytes} bytes, over the ` +
      `limit of ${limits.maxMessageBytes} bytes (WORKER_MAX_MESSAGE_BYTES)`
    );
  }
  const event = (verdict.events ?? []).findIndex(
    (item) => item.body.byteLength + RESPONSE_OVERHEAD_BYTES > limits.maxMessageBytes,
  );
  if (event >= 0) {
    return (
      `event ${event + 1} is too large: ${verdict.events?.[event]?.body.byteLength} bytes, over ` +
      `the limit of ${limits.maxMessageBytes} bytes (WORKER_MAX_MESSAGE_BYTES)`
    );
  }
  const index = (verdict.requests ?? []).findIndex(
    (request) => request.body.byteLength + RESPONSE_OVERHEAD_BYTES > limits.maxMessageBytes,
  );
  if (index >= 0) {
    return (
      `new request ${index + 1} is too large: ${verdict.requests?.[index]?.body.byteLength} bytes, over ` +
      `the limit of ${limits.maxMessageBytes} bytes (WORKER_MAX_MESSAGE_BYTES)`
    );
  }
  return undefined;
}

/** Handlers may add string headers for the next step, never a `regards.*` one. */
export function checkAdditionalHeaders(headers: Readonly<Record<string, unknown>>): string | undefined {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase().startsWith(RESERVED_HEADER_PREFIX)) {
      return `additional header ${key} is refused: ${RESERVED_HEADER_PREFIX}* headers belong to the protocol`;
    }
    if (key.length === 0) return 'additional header with an empty name is refused';
    // The manager sends them as AMQP headers of the next step, whose names are short strings.
    if (utf8Bytes(key) > SHORT_STRING_MAX_BYTES)
      return `additional header ${key.slice(0, 64)}… is refused: its name is over ${SHORT_STRING_MAX_BYTES} bytes`;
    if (typeof value !== 'string')
      return `additional header ${key} is refused: its value must be a string, not ${typeof value}`;
  }
  return undefined;
}

/**
 * The trace context of the response's own publish, added to additionalHeaders on SUCCESS so that
 * the manager carries it into the next workflow step (it wins over a handler's header of that name).
 */
export function withTraceContext(
  response: Response,
  traceHeaders: Readonly<Record<string, string>>,
): Response {
  if (response.status !== 'SUCCESS' || Object.keys(traceHeaders).length === 0) return response;
  return { ...response, additionalHeaders: { ...response.additionalHeaders, ...traceHeaders } };
}
