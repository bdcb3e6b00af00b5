/**
 * Generated hostile deliveries through decode → validate → handler → settle → publish: each ends
 * in exactly one terminal answer (a response, a dead-letter copy, or a rejection onto regards.DLX),
 * nothing escapes the host, and everything published fits what the wire allows.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type DeliveryPort, type Outgoing, PublishError } from '../../../adapter/broker/ports.ts';
import { handleDelivery, type WorkerRuntime } from '../../../adapter/delivery/consumer.ts';
import { inlineExecutor } from '../../../adapter/execution/inline.ts';
import { createLogger } from '../../../adapter/telemetry/log.ts';
import { NO_METRICS } from '../../../adapter/telemetry/metrics.ts';
import {
  DEAD_LETTER_QUEUE,
  type Delivery,
  HEADER_TABLE_MAX_BYTES,
  headerString,
  RESPONSE_EXCHANGE,
  SHORT_STRING_MAX_BYTES,
  STATUSES,
} from '../../../protocol/index.ts';
import behave from '../../fixtures/behave.ts';
import { encodeTable } from '../../helpers/amqp-codec.ts';

const limits = { maxBodyBytes: 32 * 1024, maxMessageBytes: 64 * 1024 };
const worker = (maxAttempts: number): WorkerRuntime => ({
  type: 'behave',
  sha256: 'b'.repeat(64),
  sdkVersion: '0.1.0',
  emits: [],
  executor: inlineExecutor(behave),
  timeoutMs: 1_000,
  prefetch: 1,
  policy: { maxAttempts, backoffBaseMs: 10, backoffMaxMs: 100 },
  limits,
});
const quiet = createLogger('error', () => undefined);

/** What the edge would refuse to send, as it would refuse it. */
function refusal(message: Outgoing): string | undefined {
  try {
    encodeTable(Buffer.alloc(HEADER_TABLE_MAX_BYTES), message.headers, 0);
  } catch (error) {
    return `headers: ${(error as Error).message}`;
  }
  if (Buffer.byteLength(message.routingKey) > SHORT_STRING_MAX_BYTES) return 'routing key over 255 bytes';
  if (message.body.byteLength > limits.maxMessageBytes) return 'message over the largest size';
  return undefined;
}

function recordingPort() {
  const published: Outgoing[] = [];
  const refused: string[] = [];
  const settlements: string[] = [];
  const port: DeliveryPort = {
    publish: async (message) => {
      const problem = refusal(message);
      if (problem !== undefined) {
        refused.push(problem);
        throw new PublishError('REFUSED', problem);
      }
      published.push(message);
    },
    ack: () => settlements.push('ack'),
    reject: () => settlements.push('reject'),
  };
  return { port, published, refused, settlements };
}

// Every kind of value a decoded AMQP header can hold, some of them huge.
const headerValue = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.integer({ min: 1, max: 70_000 }).map((n) => 'v'.repeat(n)),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.bigInt(),
  fc.constant(null),
  fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }),
  fc.array(fc.integer(), { maxLength: 5 }),
);

const protocolKey = fc.constantFrom(
  'regards.tenant',
  'regards.request.id',
  'regards.request.owner',
  'regards.request.session',
  'regards.request.content_type',
  'x-regards-worker-attempt',
  'x-original-exchange',
  'x-death',
  'traceparent',
);

const headers = fc.dictionary(
  fc.oneof(protocolKey, fc.string({ minLength: 1, maxLength: 60 })),
  headerValue,
  {
    maxKeys: 12,
  },
);

/** Usually an answerable request (its id and tenant present), as the manager sends them. */
const answerableHeaders = fc.record({
  id: fc.oneof(
    fc.string({ minLength: 1, maxLength: 20 }),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 400 }),
  ),
  tenant: fc.string({ minLength: 1, maxLength: 20 }),
  attempt: fc.oneof(
    fc.constant(undefined),
    fc.integer({ min: -5, max: 10 }).map(String),
    fc.string({ maxLength: 10 }),
  ),
  extra: headers,
});

const action = fc.record({
  action: fc.constantFrom(
    'succeed',
    'empty',
    'invalid',
    'error',
    'throw',
    'not-a-result',
    'flaky',
    'big',
    'many-invalid',
  ),
  content: fc.string({ maxLength: 200 }),
  bytes: fc.nat({ max: 100_000 }),
  headers: fc.dictionary(
    fc.string({ maxLength: 300 }),
    fc.oneof(fc.string({ maxLength: 300 }), fc.integer()),
    {
      maxKeys: 4,
    },
  ),
});

const deep = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small' }, fc.jsonValue(), fc.array(tie('node'), { maxLength: 3 })),
})).node;

const body = fc.oneof(
  action.map((value) => Buffer.from(JSON.stringify(value))),
  fc.uint8Array({ maxLength: 2_000 }).map((bytes) => Buffer.from(bytes)),
  fc.jsonValue().map((value) => Buffer.from(JSON.stringify(value) ?? 'null')),
  deep.map((value) => Buffer.from(JSON.stringify(value) ?? 'null')),
  fc
    .nat({ max: 60_000 })
    .map((n) => Buffer.from(JSON.stringify({ action: 'succeed', content: 'w'.repeat(n) }))),
  fc.nat({ max: 5_000 }).map((n) => Buffer.from(JSON.stringify(Array(n).fill([1])))),
  fc.nat({ max: 5_000 }).map((n) => Buffer.from('['.repeat(n) + ']'.repeat(n))),
);

const delivery = fc
  .record({
    answerable: fc.boolean(),
    ids: answerableHeaders,
    raw: headers,
    body,
    redelivered: fc.boolean(),
  })
  .map(({ answerable, ids, raw, body, redelivered }): Delivery => {
    const identity = {
      'regards.request.id': ids.id,
      'regards.tenant': ids.tenant,
      ...(ids.attempt === undefined ? {} : { 'x-regards-worker-attempt': ids.attempt }),
    };
    return {
      exchange: 'regards.worker.behave.request',
      routingKey: '#',
      headers: answerable ? { ...ids.extra, ...identity } : raw,
      body,
      redelivered,
    };
  });

/** Bytes of the request id and tenant the delivery carries, as text. */
const identityBytes = (generated: Delivery) =>
  ['regards.request.id', 'regards.tenant'].reduce(
    (sum, key) => sum + Buffer.byteLength(headerString(generated.headers?.[key]) ?? ''),
    0,
  );

const statusOf = (message: Outgoing) =>
  JSON.parse(Buffer.from(message.body).toString('utf8')).status as string;

describe('hostile deliveries, generated', () => {
  it('each ends in exactly one response, dead-letter or rejection, and what is published fits', async () => {
    await fc.assert(
      fc.asyncProperty(delivery, async (generated) => {
        const { port, published, refused, settlements } = recordingPort();
        // One attempt: every undetermined failure is terminal at once.
        const ending = await handleDelivery(worker(1), generated, port, {
          log: quiet,
          metrics: NO_METRICS,
          stop: new AbortController().signal,
        });
        const responses = published.filter((m) => m.exchange === RESPONSE_EXCHANGE);
        const terminal = responses.filter((m) => statusOf(m) !== 'RUNNING');
        const deadLetters = published.filter((m) => m.exchange === DEAD_LETTER_QUEUE);
        const answers =
          terminal.length + deadLetters.length + settlements.filter((s) => s === 'reject').length;
        expect(answers, `ending ${ending}`).toBe(1);
        expect(settlements).toHaveLength(1);
        expect(ending).not.toBe('retry');
        // Only a request whose own identity overflows a message may need the last resort.
        if (identityBytes(generated) < 8_000) {
          expect(refused).toEqual([]);
          expect(settlements).toEqual(['ack']);
        }
        for (const response of responses) {
          const json = JSON.parse(Buffer.from(response.body).toString('utf8'));
          expect(STATUSES).toContain(json.status);
          expect(json.messages.length).toBeLessThanOrEqual(50);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('with attempts left, a failure is one retry copy (never a requeue), and it fits', async () => {
    await fc.assert(
      fc.asyncProperty(delivery, async (generated) => {
        const { port, published, refused, settlements } = recordingPort();
        const ending = await handleDelivery(worker(1_000), generated, port, {
          log: quiet,
          metrics: NO_METRICS,
          stop: new AbortController().signal,
        });
        expect(settlements).toHaveLength(1);
        const copies = published.filter((m) => m.exchange === '');
        if (ending === 'retry') {
          expect(copies).toHaveLength(1);
          expect(settlements).toEqual(['ack']);
        } else expect(copies).toHaveLength(0);
        if (identityBytes(generated) < 8_000) expect(refused).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });
});
