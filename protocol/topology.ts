/**
 * The topology of the protocol (exchanges, queues, bindings) as data: the edges declare it, tests
 * read it. Queue arguments are typed as the Java client types them.
 */
import { EVENT_CLASSES, eventExchange } from './events.ts';
import { javaTypedArguments } from './message.ts';
import {
  DEAD_LETTER_EXCHANGE,
  DEAD_LETTER_QUEUE,
  DEAD_LETTER_QUEUE_ARGUMENTS,
  HEARTBEAT_EXCHANGE,
  REQUEST_BINDING_KEY,
  REQUEST_EVENT_EXCHANGE,
  REQUEST_QUEUE_ARGUMENTS,
  RESPONSE_EVENT_EXCHANGE,
  RESPONSE_EXCHANGE,
  requestQueueName,
  retryQueueArguments,
  retryQueueName,
} from './names.ts';

export interface Topology {
  readonly exchanges: readonly { readonly name: string; readonly type: 'topic' | 'fanout' }[];
  /** Durable, not exclusive, not auto-delete. */
  readonly queues: readonly {
    readonly name: string;
    readonly arguments: Readonly<Record<string, unknown>>;
  }[];
  readonly bindings: readonly { readonly queue: string; readonly exchange: string; readonly key: string }[];
}

/** The response and heartbeat exchanges, and the dead-letter path: DLX and entry exchange, both bound to the DLQ. */
export function sharedTopology(): Topology {
  return {
    exchanges: [
      { name: RESPONSE_EXCHANGE, type: 'topic' },
      { name: HEARTBEAT_EXCHANGE, type: 'topic' },
      { name: DEAD_LETTER_EXCHANGE, type: 'topic' },
      { name: DEAD_LETTER_QUEUE, type: 'fanout' },
    ],
    queues: [{ name: DEAD_LETTER_QUEUE, arguments: javaTypedArguments(DEAD_LETTER_QUEUE_ARGUMENTS) }],
    bindings: [
      // The manager never makes this binding: without it, a rejected request is dropped.
      { queue: DEAD_LETTER_QUEUE, exchange: DEAD_LETTER_EXCHANGE, key: DEAD_LETTER_QUEUE },
      { queue: DEAD_LETTER_QUEUE, exchange: DEAD_LETTER_QUEUE, key: '' },
    ],
  };
}

/** A worker type's request exchange and queue, exactly as the manager declares them. */
export function requestTopology(type: string): Topology {
  const name = requestQueueName(type);
  return {
    exchanges: [{ name, type: 'topic' }],
    queues: [{ name, arguments: javaTypedArguments(REQUEST_QUEUE_ARGUMENTS) }],
    bindings: [{ queue: name, exchange: name, key: REQUEST_BINDING_KEY }],
  };
}

/**
 * What the adapter declares: the shared part, per type its request queue and our retry queue, and the
 * exchange of every kind of event its workers send (as REGARDS declares it: fanout, durable), so that an
 * event with no service listening is returned as unroutable rather than closing the channel.
 */
export function workerTopology(types: readonly string[], eventKinds: readonly string[] = []): Topology {
  return merge([
    sharedTopology(),
    {
      exchanges: [...new Set(eventKinds)].flatMap((kind) => {
        const eventClass = EVENT_CLASSES[kind];
        return eventClass === undefined ? [] : [{ name: eventExchange(eventClass), type: 'fanout' as const }];
      }),
      queues: [],
      bindings: [],
    },
    ...types.flatMap((type) => [
      requestTopology(type),
      {
        exchanges: [],
        queues: [{ name: retryQueueName(type), arguments: retryQueueArguments(type) }],
        bindings: [],
      },
    ]),
  ]);
}

/** What the local manager declares: the shared part and the requesters' exchanges. */
export function managerTopology(): Topology {
  return merge([
    sharedTopology(),
    {
      exchanges: [
        { name: REQUEST_EVENT_EXCHANGE, type: 'fanout' },
        { name: RESPONSE_EVENT_EXCHANGE, type: 'fanout' },
      ],
      queues: [],
      bindings: [],
    },
  ]);
}

function merge(parts: readonly Topology[]): Topology {
  return {
    exchanges: parts.flatMap((p) => p.exchanges),
    queues: parts.flatMap((p) => p.queues),
    bindings: parts.flatMap((p) => p.bindings),
  };
}
