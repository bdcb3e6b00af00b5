/** Every name of the REGARDS worker protocol: exchanges, queues, arguments, headers, statuses. */

export const VHOST = 'regards.multitenant.manager';

export const RESPONSE_EXCHANGE = 'regards.worker.manager.response';
export const HEARTBEAT_EXCHANGE = 'regards.worker.manager.heartbeat';
export const DEAD_LETTER_EXCHANGE = 'regards.DLX';
/** The worker-request dead-letter queue; also the name of the manager's fanout exchange into it. */
export const DEAD_LETTER_QUEUE = 'regards.worker.manager.request.dlq';
export const REQUEST_EVENT_EXCHANGE =
  'regards.broadcast.fr.cnes.regards.modules.workermanager.amqp.events.in.RequestEvent';
export const RESPONSE_EVENT_EXCHANGE =
  'regards.broadcast.fr.cnes.regards.modules.workermanager.amqp.events.out.ResponseEvent';

/** The request exchange and queue of a worker type share this name; the type is lower-cased in it. */
export function requestQueueName(type: string): string {
  return `regards.worker.${type.toLowerCase()}.request`;
}

export const REQUEST_BINDING_KEY = '#';

/** Exactly as the manager declares them: a second declaration that differs fails with 406. */
export const REQUEST_QUEUE_ARGUMENTS = Object.freeze({
  'x-max-priority': 255,
  'x-dead-letter-exchange': DEAD_LETTER_EXCHANGE,
  'x-dead-letter-routing-key': DEAD_LETTER_QUEUE,
});

export const DEAD_LETTER_QUEUE_ARGUMENTS = Object.freeze({ 'x-max-priority': 255 });

export const HEADER = Object.freeze({
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
  /** Ours: how many times this request has been handed to a handler (the queue is classic: no broker count). */
  attempt: 'x-regards-worker-attempt',
});

/** Headers that make REGARDS listeners drop a dead-lettered message: never sent. */
export const FORBIDDEN_DEAD_LETTER_HEADERS = Object.freeze(['x-death-queue', 'x-retries']);

/** The prefix handlers may not use in additionalHeaders: it would overwrite the protocol's own headers. */
export const RESERVED_HEADER_PREFIX = 'regards.';

export const STATUSES = ['RUNNING', 'INVALID_CONTENT', 'ERROR', 'SUCCESS'] as const;
export type Status = (typeof STATUSES)[number];

export const JSON_CONTENT_TYPE = 'application/json';

/**
 * Ours, not the manager's: where a request waits before its next attempt. Each message carries its
 * delay as a per-message TTL; on expiry the broker dead-letters it back into the request queue.
 */
export function retryQueueName(type: string): string {
  return `${requestQueueName(type)}.retry`;
}

export function retryQueueArguments(type: string): Readonly<Record<string, string>> {
  return { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': requestQueueName(type) };
}
