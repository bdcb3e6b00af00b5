/**
 * The settle decision: from what happened to a delivery, its attempt number and the retry policy,
 * to what is published (confirmed first) and what becomes of the delivery. Pure.
 */
import { RESERVED_HEADER_PREFIX } from './names.ts';
import type { Response } from './response.ts';

/** A handler's verdict as plain data (the sdk's Outcome has this shape). */
export type Verdict =
  | {
      readonly status: 'SUCCESS';
      readonly content: Uint8Array | undefined;
      readonly headers: Readonly<Record<string, unknown>>;
    }
  | { readonly status: 'INVALID_CONTENT' | 'ERROR'; readonly messages: readonly string[] };

export type Happening =
  /** The handler (or the input validation in front of it) gave a verdict. */
  | { readonly kind: 'verdict'; readonly verdict: Verdict }
  /** Failed for an undetermined reason: the handler threw, timed out, or returned something that is not a Result. */
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

export type FailureCause = 'threw' | 'timeout' | 'not-a-result';

/** Every way a delivery can end, for logs and spans. */
export type Ending =
  | 'success'
  | 'invalid-content'
  | 'error'
  | 'retry'
  | 'dead-letter'
  | 'undecodable'
  | 'unconfirmed'
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

/**
 * @param attempt the attempt this delivery was (1 for the first)
 */
export function settle(happening: Happening, attempt: number, policy: RetryPolicy): Decision {
  switch (happening.kind) {
    case 'verdict':
      return reply(happening.verdict);
    case 'undecodable':
      return {
        action: 'dead-letter',
        ending: 'undecodable',
        message: happening.reason,
        stacktrace: happening.reason,
      };
    case 'redelivered':
      return retryOrDeadLetter(
        attempt,
        policy,
        'delivered again without being settled: the process handling it may have crashed',
        'redelivered',
      );
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

function reply(verdict: Verdict): Decision {
  if (verdict.status !== 'SUCCESS') {
    const ending = verdict.status === 'ERROR' ? 'error' : 'invalid-content';
    return { action: 'reply', ending, response: { status: verdict.status, messages: verdict.messages } };
  }
  const problem = checkAdditionalHeaders(verdict.headers);
  if (problem !== undefined)
    return { action: 'reply', ending: 'error', response: { status: 'ERROR', messages: [problem] } };
  const additionalHeaders = verdict.headers as Record<string, string>;
  return {
    action: 'reply',
    ending: 'success',
    response: {
      status: 'SUCCESS',
      messages: [],
      content: verdict.content,
      ...(Object.keys(additionalHeaders).length > 0 ? { additionalHeaders } : {}),
    },
  };
}

/** Handlers may add string headers for the next step, never a `regards.*` one. */
export function checkAdditionalHeaders(headers: Readonly<Record<string, unknown>>): string | undefined {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase().startsWith(RESERVED_HEADER_PREFIX)) {
      return `additional header ${key} is refused: ${RESERVED_HEADER_PREFIX}* headers belong to the protocol`;
    }
    if (key.length === 0) return 'additional header with an empty name is refused';
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
