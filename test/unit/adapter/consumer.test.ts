import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import type { DeliveryPort, Outgoing } from '../../../adapter/amqp.ts';
import { handleDelivery, type WorkerRuntime } from '../../../adapter/consumer.ts';
import { createLogger } from '../../../adapter/log.ts';
import type { Delivery } from '../../../protocol/index.ts';
import { defineWorker, error, success } from '../../../sdk/index.ts';

/** A port that records what the consumer does, in order; publishes can be made to fail. */
function recordingPort(failPublish = false) {
  const events: string[] = [];
  const published: Outgoing[] = [];
  const port: DeliveryPort = {
    publish: async (message) => {
      events.push(`publish ${message.exchange || message.routingKey}`);
      published.push(message);
      if (failPublish) throw new Error('not confirmed');
    },
    ack: () => events.push('ack'),
    requeue: () => events.push('requeue'),
  };
  return { port, events, published };
}

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
  definition: slow,
  timeoutMs: 1000,
  prefetch: 1,
  policy: { maxAttempts: 2, backoffBaseMs: 100, backoffMaxMs: 1000 },
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
const deps = (stop = new AbortController().signal) => ({ log: quiet, stop });

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
    await handleDelivery({ ...worker, definition: logging }, delivery('ok'), port, {
      log,
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

  it('response not confirmed → no ack: the delivery goes back to RabbitMQ', async () => {
    const { port, events } = recordingPort(true);
    expect(await handleDelivery(worker, delivery('error'), port, deps())).toBe('unconfirmed');
    expect(events).toEqual(['publish regards.worker.manager.response', 'requeue']);
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
