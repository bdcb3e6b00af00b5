import { describe, expect, it } from 'vitest';
import {
  DEAD_LETTER_EXCHANGE,
  DEAD_LETTER_QUEUE,
  DEAD_LETTER_QUEUE_ARGUMENTS,
  HEADER,
  HEARTBEAT_EXCHANGE,
  REQUEST_EVENT_EXCHANGE,
  REQUEST_QUEUE_ARGUMENTS,
  RESPONSE_EVENT_EXCHANGE,
  RESPONSE_EXCHANGE,
  requestQueueName,
  retryQueueArguments,
  retryQueueName,
  workerTopology,
} from '../../../protocol/index.ts';

describe('protocol names, character for character', () => {
  it('names the exchanges and queues as the Worker Manager does', () => {
    expect(RESPONSE_EXCHANGE).toBe('regards.worker.manager.response');
    expect(HEARTBEAT_EXCHANGE).toBe('regards.worker.manager.heartbeat');
    expect(DEAD_LETTER_EXCHANGE).toBe('regards.DLX');
    expect(DEAD_LETTER_QUEUE).toBe('regards.worker.manager.request.dlq');
    expect(REQUEST_EVENT_EXCHANGE).toBe(
      'regards.broadcast.fr.cnes.regards.modules.workermanager.amqp.events.in.RequestEvent',
    );
    expect(RESPONSE_EVENT_EXCHANGE).toBe(
      'regards.broadcast.fr.cnes.regards.modules.workermanager.amqp.events.out.ResponseEvent',
    );
  });

  it('lower-cases the type in the request queue name only', () => {
    expect(requestQueueName('Extract-Metadata.V2')).toBe('regards.worker.extract-metadata.v2.request');
    expect(retryQueueName('Move')).toBe('regards.worker.move.request.retry');
    expect(retryQueueArguments('Move')).toEqual({
      'x-dead-letter-exchange': '',
      'x-dead-letter-routing-key': 'regards.worker.move.request',
    });
  });

  it('declares the request queue and the DLQ with exactly the manager arguments (integer priority)', () => {
    expect(REQUEST_QUEUE_ARGUMENTS).toEqual({
      'x-max-priority': 255,
      'x-dead-letter-exchange': 'regards.DLX',
      'x-dead-letter-routing-key': 'regards.worker.manager.request.dlq',
    });
    expect(Number.isInteger(REQUEST_QUEUE_ARGUMENTS['x-max-priority'])).toBe(true);
    expect(DEAD_LETTER_QUEUE_ARGUMENTS).toEqual({ 'x-max-priority': 255 });
  });

  it('spells every header as REGARDS and Spring do', () => {
    expect(HEADER).toMatchObject({
      tenant: 'regards.tenant',
      requestId: 'regards.request.id',
      owner: 'regards.request.owner',
      session: 'regards.request.session',
      contentType: 'regards.request.content_type',
      workerId: 'regards.worker_id',
      converter: 'regards.converter',
      type: 'regards.type',
      exceptionStacktrace: 'x-exception-stacktrace',
      exceptionMessage: 'x-exception-message',
      originalExchange: 'x-original-exchange',
      originalRoutingKey: 'x-original-routingKey',
    });
  });
});

describe('the topology as data', () => {
  it('binds the DLX and the manager’s entry exchange to the DLQ, and types the priority as Java does', () => {
    const topology = workerTopology(['Extract']);
    expect(topology.bindings).toEqual(
      expect.arrayContaining([
        {
          queue: 'regards.worker.manager.request.dlq',
          exchange: 'regards.DLX',
          key: 'regards.worker.manager.request.dlq',
        },
        {
          queue: 'regards.worker.manager.request.dlq',
          exchange: 'regards.worker.manager.request.dlq',
          key: '',
        },
        { queue: 'regards.worker.extract.request', exchange: 'regards.worker.extract.request', key: '#' },
      ]),
    );
    expect(topology.queues.find((q) => q.name === 'regards.worker.extract.request')?.arguments).toEqual({
      'x-max-priority': { '!': 'int', value: 255 },
      'x-dead-letter-exchange': 'regards.DLX',
      'x-dead-letter-routing-key': 'regards.worker.manager.request.dlq',
    });
    expect(topology.queues.map((q) => q.name)).toContain('regards.worker.extract.request.retry');
  });
});
