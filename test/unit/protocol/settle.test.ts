import { describe, expect, it } from 'vitest';
import {
  backoff,
  checkAdditionalHeaders,
  type Happening,
  type RetryPolicy,
  settle,
  withTraceContext,
} from '../../../protocol/index.ts';

const policy: RetryPolicy = { maxAttempts: 3, backoffBaseMs: 1000, backoffMaxMs: 5000 };
const content = new Uint8Array([1, 2]);
const threw: Happening = {
  kind: 'failure',
  cause: 'threw',
  message: 'boom',
  stacktrace: 'Error: boom\n    at h',
};

// One test per row of the settle table (../shared/architecture.md). Rows about the broker
// (publish not confirmed, shutdown in flight) are in test/unit/adapter/consumer.test.ts.
describe('the settle table', () => {
  it('handler returned success → SUCCESS with content and additionalHeaders incl. trace context, then ack', () => {
    const success = {
      kind: 'verdict',
      verdict: { status: 'SUCCESS', content, headers: { step: '1' } },
    } as const;
    const decision = settle(success, 1, policy);
    expect(decision).toEqual({
      action: 'reply',
      ending: 'success',
      response: { status: 'SUCCESS', messages: [], content, additionalHeaders: { step: '1' } },
      requests: [],
      events: [],
    });
    if (decision.action !== 'reply') return;
    expect(withTraceContext(decision.response, { traceparent: '00-abc-def-01' }).additionalHeaders).toEqual({
      step: '1',
      traceparent: '00-abc-def-01',
    });
    const error = { status: 'ERROR' as const, messages: ['x'] };
    expect(withTraceContext(error, { traceparent: 't' })).toBe(error);
  });

  it('success without headers sends no additionalHeaders', () => {
    const decision = settle(
      { kind: 'verdict', verdict: { status: 'SUCCESS', content: undefined, headers: {} } },
      1,
      policy,
    );
    expect(decision).toEqual({
      action: 'reply',
      ending: 'success',
      response: { status: 'SUCCESS', messages: [], content: undefined },
      requests: [],
      events: [],
    });
  });

  it('input failed the schema (or is not JSON) → INVALID_CONTENT with the issues, then ack', () => {
    const decision = settle(
      { kind: 'verdict', verdict: { status: 'INVALID_CONTENT', messages: ['path: Required'] } },
      1,
      policy,
    );
    expect(decision).toEqual({
      action: 'reply',
      ending: 'invalid-content',
      response: { status: 'INVALID_CONTENT', messages: ['path: Required'] },
      requests: [],
      events: [],
    });
  });

  it('handler returned error(...) → ERROR with its messages, then ack', () => {
    const decision = settle(
      { kind: 'verdict', verdict: { status: 'ERROR', messages: ['a', 'b'] } },
      2,
      policy,
    );
    expect(decision).toEqual({
      action: 'reply',
      ending: 'error',
      response: { status: 'ERROR', messages: ['a', 'b'] },
      requests: [],
      events: [],
    });
  });

  it.each(['threw', 'timeout', 'not-a-result', 'not-published'] as const)(
    '%s with attempts left → no response, retry later with backoff',
    (cause) => {
      const decision = settle({ ...threw, cause }, 2, policy);
      expect(decision).toMatchObject({ action: 'retry', ending: 'retry', attempt: 3, delayMs: 2000 });
    },
  );

  it('threw with no attempts left → dead-letter with the stack trace', () => {
    expect(settle(threw, 3, policy)).toEqual({
      action: 'dead-letter',
      ending: 'dead-letter',
      message: 'failed after 3 attempts: handler threw: boom',
      stacktrace: 'Error: boom\n    at h',
    });
  });

  it('timed out with no attempts left → dead-letter', () => {
    const decision = settle(
      { kind: 'failure', cause: 'timeout', message: 'no result after 10 ms', stacktrace: '' },
      3,
      policy,
    );
    expect(decision).toMatchObject({
      action: 'dead-letter',
      message: 'failed after 3 attempts: handler timed out: no result after 10 ms',
    });
  });

  it('missing request id or tenant → dead-letter with the reason, no response', () => {
    expect(settle({ kind: 'undecodable', reason: 'no id' }, 1, policy)).toEqual({
      action: 'dead-letter',
      ending: 'undecodable',
      message: 'no id',
      stacktrace: 'no id',
    });
  });

  it('redelivered without being settled → counts as a failed attempt (a crash loop ends in the DLQ)', () => {
    expect(settle({ kind: 'redelivered' }, 1, policy)).toMatchObject({ action: 'retry', attempt: 2 });
    expect(settle({ kind: 'redelivered' }, 3, policy)).toMatchObject({
      action: 'dead-letter',
      message: expect.stringContaining('delivered again by RabbitMQ before it was settled'),
    });
  });

  it('with maxAttempts 1 a failure is dead-lettered at once', () => {
    expect(settle(threw, 1, { ...policy, maxAttempts: 1 })).toMatchObject({
      action: 'dead-letter',
      message: expect.stringMatching(/after 1 attempt:/),
    });
  });
});

describe('additionalHeaders from handlers', () => {
  it.each([
    [{ 'regards.tenant': 'other' }, 'additional header regards.tenant is refused'],
    [{ 'Regards.Request.Id': 'x' }, 'additional header Regards.Request.Id is refused'],
    [{ n: 1 }, 'additional header n is refused: its value must be a string, not number'],
    [{ '': 'x' }, 'additional header with an empty name is refused'],
  ])('refuses %j: the request ends in ERROR naming the key', (headers, message) => {
    const decision = settle({ kind: 'verdict', verdict: { status: 'SUCCESS', content, headers } }, 1, policy);
    expect(decision).toMatchObject({ action: 'reply', ending: 'error', response: { status: 'ERROR' } });
    expect(decision.action === 'reply' && decision.response.messages[0]).toContain(message);
  });

  it('accepts plain string headers', () => {
    expect(checkAdditionalHeaders({ 'x-step': 'a', product: 'b' })).toBeUndefined();
  });
});

describe('backoff', () => {
  it('doubles from the base and stops at the cap', () => {
    expect([1, 2, 3, 4, 5].map((attempt) => backoff(attempt, policy))).toEqual([
      1000, 2000, 4000, 5000, 5000,
    ]);
    expect(backoff(10_000, policy)).toBe(5000);
  });
});
