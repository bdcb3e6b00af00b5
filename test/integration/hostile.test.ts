/**
 * Hostile sizes on the real broker: every request ends in exactly one response or one DLQ entry,
 * never in a requeue loop, and one bad request costs the others nothing.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { DEAD_LETTER_EXCHANGE, DEAD_LETTER_QUEUE } from '../../protocol/index.ts';
import type { Received } from './helpers/broker.ts';
import { behaveSuite } from './helpers/host.ts';

const { type, broker, responses, deadLetters, host } = await behaveSuite('hostile', {
  WORKER_MAX_ATTEMPTS: '2',
  WORKER_MAX_MESSAGE_BYTES: '65536',
  WORKER_TENANT: 'PROJECT1',
});
/** Deliveries RabbitMQ dead-lettered through regards.DLX (rejected). */
const rejected = await broker.observe(DEAD_LETTER_EXCHANGE, DEAD_LETTER_QUEUE);

let counter = 0;
const nextId = () => `${type}-${++counter}`;
const forRequest = (requestId: string) => (message: Received) =>
  message.headers['regards.request.id'] === requestId;
const settledLines = (requestId: string | undefined) =>
  host.lines.map((line) => JSON.parse(line)).filter((l) => l.msg === 'settled' && l.requestId === requestId);

/** Waits for the first answer, then a little more, and returns every answer seen for the request. */
async function answersTo(requestId: string) {
  const [first] = await responses.waitFor(forRequest(requestId), 1, 15_000);
  await sleep(500);
  return {
    first,
    responses: (await responses.drain()).filter(forRequest(requestId)),
    deadLetters: (await deadLetters.drain()).filter(forRequest(requestId)),
  };
}

describe('a header of 65 KB', () => {
  // It fits the client's table as sent, but not with the headers a copy of the request adds.
  const big = 'h'.repeat(65_000);

  it('without a tenant: one DLQ entry, the big header left out and named, no loop', async () => {
    const requestId = nextId();
    await broker.publishRequest(type, {
      requestId,
      body: { action: 'succeed' },
      headers: { 'regards.tenant': '', 'x-big': big },
    });
    const [dead] = await deadLetters.waitFor(forRequest(requestId), 1, 15_000);
    await sleep(1_000);
    expect((await deadLetters.drain()).filter(forRequest(requestId))).toHaveLength(1);
    expect(dead?.headers).toMatchObject({
      'x-regards-worker-dropped-headers': 'x-big',
      'x-exception-message': 'cannot answer a request without header regards.tenant',
    });
    expect(dead?.headers['x-big']).toBeUndefined();
    expect(settledLines(undefined).length).toBeLessThanOrEqual(2);
  });

  it('with a handler that throws: retried, then one DLQ entry and no response', async () => {
    const requestId = nextId();
    await broker.publishRequest(type, { requestId, body: { action: 'throw' }, headers: { 'x-big': big } });
    const [dead] = await deadLetters.waitFor(forRequest(requestId), 1, 15_000);
    await sleep(1_000);
    expect(dead?.headers['x-exception-message']).toMatch(/^failed after 2 attempts: handler threw/);
    expect((await deadLetters.drain()).filter(forRequest(requestId))).toHaveLength(1);
    expect((await responses.drain()).filter(forRequest(requestId))).toHaveLength(0);
    expect(settledLines(requestId).map((l) => l.outcome)).toEqual(['retry', 'dead-letter']);
  });
});

describe('sizes the wire caps', () => {
  it('a request id of 400 bytes is answered once, the header whole', async () => {
    const requestId = `${nextId()}-${'é'.repeat(200)}`;
    await broker.publishRequest(type, { requestId, body: { action: 'succeed' } });
    const answers = await answersTo(requestId);
    expect(answers.first?.json).toMatchObject({ status: 'SUCCESS' });
    expect(answers.responses).toHaveLength(1);
    expect(answers.deadLetters).toHaveLength(0);
    expect(settledLines(requestId).map((l) => l.outcome)).toEqual(['success']);
  });

  it('a result over the largest message is answered ERROR, and the requests beside it lose nothing', async () => {
    const bigId = nextId();
    const others = [nextId(), nextId(), nextId()];
    for (const requestId of others)
      await broker.publishRequest(type, { requestId, body: { action: 'sleep', ms: 300, content: 'fine' } });
    await broker.publishRequest(type, { requestId: bigId, body: { action: 'big', bytes: 100_000 } });
    const answers = await answersTo(bigId);
    expect(answers.first?.json).toEqual({
      status: 'ERROR',
      messages: [expect.stringMatching(/^the result is too large: .* over the limit of 65536 bytes/)],
    });
    expect(answers.responses).toHaveLength(1);
    for (const requestId of others) {
      const [response] = await responses.waitFor(forRequest(requestId), 1, 10_000);
      expect(response?.json).toMatchObject({ status: 'SUCCESS' });
      expect(settledLines(requestId)).toMatchObject([{ outcome: 'success', attempt: 1 }]);
    }
  });

  it('a hundred thousand messages are answered as a bounded list', async () => {
    const requestId = nextId();
    await broker.publishRequest(type, { requestId, body: { action: 'many-invalid', bytes: 100_000 } });
    const { first } = await answersTo(requestId);
    const messages = (first?.json as { messages: string[] } | undefined)?.messages ?? [];
    expect(messages).toHaveLength(50);
    expect(messages.at(-1)).toBe('… and 99951 more');
    expect(first?.body.byteLength).toBeLessThan(20_000);
  });

  it('a body over the limit is answered INVALID_CONTENT naming the limit', async () => {
    const requestId = nextId();
    await broker.publishRequest(type, {
      requestId,
      body: { action: 'succeed', content: 'x'.repeat(1_100_000) },
    });
    const { first } = await answersTo(requestId);
    expect(first?.json).toEqual({
      status: 'INVALID_CONTENT',
      messages: [
        expect.stringMatching(
          /^body is \d+ bytes, over the limit of 1048576 bytes \(WORKER_MAX_BODY_BYTES\)$/,
        ),
      ],
    });
  });
});

describe('when no copy of a request can be made', () => {
  it('it is rejected onto regards.DLX, whole, and not redelivered', async () => {
    // The 5 identity headers plus 65,000 bytes of request id fit the client's table, but not with
    // the exception headers a dead-letter copy needs.
    const requestId = `${nextId()}-${'r'.repeat(65_000)}`;
    await broker.publishRequest(type, {
      requestId,
      body: { action: 'succeed' },
      headers: { 'regards.tenant': '' },
    });
    const [dead] = await rejected.waitFor(forRequest(requestId), 1, 15_000);
    await sleep(1_000);
    expect(dead?.headers['regards.request.id']).toBe(requestId);
    expect((await rejected.drain()).filter(forRequest(requestId))).toHaveLength(1);
  });
});
