import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { type DeliveryPort, type Outgoing, PublishError } from '../../../adapter/broker/ports.ts';
import { handleDelivery, type WorkerRuntime } from '../../../adapter/delivery/consumer.ts';
import { inlineExecutor } from '../../../adapter/execution/inline.ts';
import { createLogger } from '../../../adapter/telemetry/log.ts';
import { NO_METRICS } from '../../../adapter/telemetry/metrics.ts';
import { DEFAULT_LIMITS, type Delivery } from '../../../protocol/index.ts';
import { defineWorker, error, success } from '../../../sdk/index.ts';

/** A port that records what the consumer does, in order; `fail` may refuse a publish as the edge would. */
function recordingPort(fail: (message: Outgoing) => PublishError | undefined = () => undefined) {
  const events: string[] = [];
  const published: Outgoing[] = [];
  const port: DeliveryPort = {
    publish: async (message) => {
      events.push(`publish ${message.exchange || message.routingKey}`);
      const error = fail(message);
      if (error !== undefined) throw error;
      published.push(message);
    },
    ack: () => events.push('ack'),
    reject: () => events.push('reject'),
  };
  return { port, events, published };
}

const refuse =
  (code: PublishError['code'], exchange: string) =>
  (message: Outgoing): PublishError | undefined =>
    message.exchange === exchange ? new PublishError(code, `${code} on ${exchange}`) : undefined;

const bodyOf = (message: Outgoing | undefined) =>
  JSON.parse(new TextDecoder().decode(message?.body ?? new Uint8Array()));

const slow = defineWorker({
  type: 'unit',
  accepts: ['x'],
  input: z.object({ mode: z.enum(['ok', 'error', 'slow', 'throw', 'progress']) }),
  handler: async ({ body }, ctx) => {
    if (body.mode === 'progress') await ctx.progress('half way');
    if (body.mode === 'error') return error('known');
    if (body.mode === 'throw') throw new Error('boom');
    if (body.mode === 'slow') await new Promise((resolve) => setTimeout(resolve, 50));
    return success({
      content: 'done',
      requests: body.mode === 'ok' ? [{ contentType: 'next', body: { n: 1 } }] : [],
    });
  },
});

const worker: WorkerRuntime = {
  type: 'unit',
  sha256: 'a'.repeat(64),
  sdkVersion: '0.1.0',
  emits: [],
  executor: inlineExecutor(slow),
  timeoutMs: 1000,
  prefetch: 1,
  policy: { maxAttempts: 2, backoffBaseMs: 100, backoffMaxMs: 1000 },
  limits: DEFAULT_LIMITS,
};

function delivery(mode: string, headers: Record<string, unknown> = {}): Delivery {
  return {
    exchange: 'regards.worker.unit.request',
    routingKey: '#',
    headers: { 'regards.tenant': 'T', 'regards.request.id': 'R', ...headers },
    body: new TextEncoder().encode(JSON.stringify({ mode })),
    redelivered: false,
  };
}

const quiet = createLogger('error', () => undefined);
const deps = (stop = new AbortController().signal) => ({ log: quiet, metrics: NO_METRICS, stop });

describe('carrying a decision out, in order', () => {
  it('publishes new requests, then the response, and acks only after both are confirmed', async () => {
    const { port, events } = recordingPort();
    expect(await handleDelivery(worker, delivery('ok'), port, deps())).toBe('success');
    expect(events).toEqual([
      'publish regards.broadcast.fr.cnes.regards.modules.workermanager.amqp.events.in.RequestEvent',
      'publish regards.worker.manager.response',
      'ack',
    ]);
  });

  it('gives the handler a logger whose lines carry the request id and attempt', async () => {
    const lines: string[] = [];
    const logging = defineWorker({
      type: 'unit',
      accepts: ['x'],
      input: z.unknown(),
      handler: (_, ctx) => {
        ctx.log.info('working', { step: 1 });
        return success();
      },
    });
    const { port } = recordingPort();
    const log = createLogger('info', (line) => lines.push(line));
    await handleDelivery({ ...worker, executor: inlineExecutor(logging) }, delivery('ok'), port, {
      log,
      metrics: NO_METRICS,
      stop: new AbortController().signal,
    });
    const working = lines.map((line) => JSON.parse(line)).find((entry) => entry.msg === 'working');
    expect(working).toMatchObject({ workerType: 'unit', requestId: 'R', attempt: 1, step: 1 });
  });

  it('publishes RUNNING for progress before the final response', async () => {
    const { port, published } = recordingPort();
    await handleDelivery(worker, delivery('progress'), port, deps());
    const statuses = published.map((m) => JSON.parse(new TextDecoder().decode(m.body)).status);
    expect(statuses).toEqual(['RUNNING', 'SUCCESS']);
  });

  it('channel closed while publishing → neither ack nor reject: RabbitMQ redelivers it', async () => {
    const { port, events } = recordingPort(refuse('CHANNEL_CLOSED', 'regards.worker.manager.response'));
    expect(await handleDelivery(worker, delivery('error'), port, deps())).toBe('unconfirmed');
    expect(events).toEqual(['publish regards.worker.manager.response']);
  });

  it('response unroutable → a retry copy naming why, then ack (no requeue loop)', async () => {
    const { port, events, published } = recordingPort(
      refuse('UNROUTABLE', 'regards.worker.manager.response'),
    );
    expect(await handleDelivery(worker, delivery('error'), port, deps())).toBe('retry');
    expect(events).toEqual([
      'publish regards.worker.manager.response',
      'publish regards.worker.unit.request.retry',
      'ack',
    ]);
    expect(published[0]?.headers['x-regards-worker-attempt']).toBe('2');
  });

  it('response unroutable on the last attempt → dead-letter whose message says so', async () => {
    const { port, published } = recordingPort(refuse('UNROUTABLE', 'regards.worker.manager.response'));
    const last = delivery('error', { 'x-regards-worker-attempt': '2' });
    expect(await handleDelivery(worker, last, port, deps())).toBe('dead-letter');
    expect(published[0]?.headers['x-exception-message']).toMatch(
      /^failed after 2 attempts: its answer could not be published: UNROUTABLE/,
    );
  });

  it('a copy of the request refused → rejected onto regards.DLX, never acked or requeued', async () => {
    const { port, events } = recordingPort(refuse('REFUSED', 'regards.worker.manager.request.dlq'));
    const last = delivery('throw', { 'x-regards-worker-attempt': '2' });
    expect(await handleDelivery(worker, last, port, deps())).toBe('rejected');
    expect(events).toEqual(['publish regards.worker.manager.request.dlq', 'reject']);
  });

  it('a throw with attempts left → a copy to the retry queue, then ack', async () => {
    const { port, events, published } = recordingPort();
    expect(await handleDelivery(worker, delivery('throw'), port, deps())).toBe('retry');
    expect(events).toEqual(['publish regards.worker.unit.request.retry', 'ack']);
    expect(published[0]?.headers['x-regards-worker-attempt']).toBe('2');
    expect(published[0]?.expiration).toBe('100');
  });

  it('a throw on the last attempt → dead-letter copy, then ack', async () => {
    const { port, events } = recordingPort();
    expect(
      await handleDelivery(worker, delivery('throw', { 'x-regards-worker-attempt': '2' }), port, deps()),
    ).toBe('dead-letter');
    expect(events).toEqual(['publish regards.worker.manager.request.dlq', 'ack']);
  });

  it('a delivery without request id → dead-letter, then ack', async () => {
    const { port, events } = recordingPort();
    const bad = { ...delivery('ok'), headers: { 'regards.tenant': 'T' } };
    expect(await handleDelivery(worker, bad, port, deps())).toBe('undecodable');
    expect(events).toEqual(['publish regards.worker.manager.request.dlq', 'ack']);
  });

  it('shutdown in flight past the drain deadline → nothing published, left unacked', async () => {
    const { port, events } = recordingPort();
    const stop = new AbortController();
    const handling = handleDelivery(worker, delivery('slow'), port, deps(stop.signal));
    stop.abort();
    expect(await handling).toBe('abandoned');
    expect(events).toEqual([]);
  });
});

describe('the settle line says why', () => {
  it.each([
    ['throw', 'retry', /^handler threw: boom$/],
    ['error', 'error', /^known$/],
  ])('%s → %s with its reason', async (mode, outcome, reason) => {
    const lines: string[] = [];
    const { port } = recordingPort();
    const log = createLogger('info', (line) => lines.push(line));
    await handleDelivery(worker, delivery(mode), port, {
      log,
      metrics: NO_METRICS,
      stop: new AbortController().signal,
    });
    const settled = lines.map((line) => JSON.parse(line)).find((entry) => entry.msg === 'settled');
    expect(settled).toMatchObject({ outcome, requestId: 'R', bundleSha256: 'a'.repeat(64) });
    expect(settled.reason).toMatch(reason);
  });
});

describe('hostile sizes', () => {
  const big = 'x'.repeat(70_000);

  it('a 70 KB header and no tenant → a dead-letter without that header (named), then ack', async () => {
    const { port, events, published } = recordingPort();
    const bad = { ...delivery('ok'), headers: { 'regards.request.id': 'R', huge: big, small: 's' } };
    expect(await handleDelivery(worker, bad, port, deps())).toBe('undecodable');
    expect(events).toEqual(['publish regards.worker.manager.request.dlq', 'ack']);
    expect(published[0]?.headers).toMatchObject({
      'regards.request.id': 'R',
      small: 's',
      'x-regards-worker-dropped-headers': 'huge',
    });
    expect(published[0]?.headers.huge).toBeUndefined();
  });

  it('a request id that alone overflows the headers table → rejected onto regards.DLX', async () => {
    const { port, events } = recordingPort();
    const bad = { ...delivery('ok'), headers: { 'regards.request.id': big } };
    expect(await handleDelivery(worker, bad, port, deps())).toBe('rejected');
    expect(events).toEqual(['reject']);
  });

  it('a request id over 255 bytes is answered: the routing key is cut, the header is whole', async () => {
    const { port, published } = recordingPort();
    const id = 'é'.repeat(200);
    await handleDelivery(worker, delivery('error', { 'regards.request.id': id }), port, deps());
    expect(new TextEncoder().encode(published[0]?.routingKey).byteLength).toBeLessThanOrEqual(255);
    expect(published[0]?.headers['regards.request.id']).toBe(id);
  });

  it('a body over the limit → INVALID_CONTENT naming the limit, the handler never runs', async () => {
    let ran = false;
    const watched = defineWorker({
      type: 'unit',
      accepts: ['x'],
      input: z.unknown(),
      handler: () => {
        ran = true;
        return success();
      },
    });
    const { port, published } = recordingPort();
    const limits = { ...DEFAULT_LIMITS, maxBodyBytes: 10 };
    const small = { ...worker, executor: inlineExecutor(watched), limits };
    expect(await handleDelivery(small, delivery('ok'), port, deps())).toBe('invalid-content');
    expect(bodyOf(published[0]).messages).toEqual([
      'body is 13 bytes, over the limit of 10 bytes (WORKER_MAX_BODY_BYTES)',
    ]);
    expect(ran).toBe(false);
  });

  it('a result over the largest message → ERROR saying it is too large, nothing else published', async () => {
    const { port, published } = recordingPort();
    const limits = { ...DEFAULT_LIMITS, maxMessageBytes: 1_000 };
    expect(await handleDelivery({ ...worker, limits }, delivery('ok'), port, deps())).toBe('error');
    expect(published).toHaveLength(1);
    expect(bodyOf(published[0])).toEqual({
      status: 'ERROR',
      messages: [expect.stringMatching(/^the result is too large: .* over the limit of 1000 bytes/)],
    });
  });

  it('an INVALID_CONTENT of a hundred thousand issues is answered with a bounded list', async () => {
    const strict = defineWorker({
      type: 'unit',
      accepts: ['x'],
      input: z.array(z.string()),
      handler: () => success(),
    });
    const { port, published } = recordingPort();
    const body = new TextEncoder().encode(JSON.stringify(Array(100_000).fill(1)));
    const many = { ...delivery('ok'), body };
    expect(await handleDelivery({ ...worker, executor: inlineExecutor(strict) }, many, port, deps())).toBe(
      'invalid-content',
    );
    const messages: string[] = bodyOf(published[0]).messages;
    expect(messages.length).toBeLessThanOrEqual(50);
    expect(messages.at(-1)).toMatch(/^… and \d+ more$/);
    expect(published[0]?.body.byteLength).toBeLessThan(20_000);
  });
});
