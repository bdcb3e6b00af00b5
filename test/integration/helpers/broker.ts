/**
 * The test side of the broker: publishing as the Worker Manager does, observing what the adapter
 * publishes through queues of the test's own, and cleaning up every name a test made.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import * as amqp from 'amqplib';
import {
  DEAD_LETTER_QUEUE,
  HEADER,
  REQUEST_QUEUE_ARGUMENTS,
  requestQueueName,
  retryQueueName,
  sharedTopology,
  type Topology,
} from '../../../protocol/index.ts';

export const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

export interface Received {
  readonly headers: Record<string, unknown>;
  readonly body: Buffer;
  readonly json: unknown;
  readonly properties: amqp.MessageProperties;
}

export interface TestBroker {
  /** A durable queue of the test's own bound to `exchange`: it keeps what arrives even while the adapter reconnects. */
  observe(exchange: string, bindingKey?: string): Promise<Observer>;
  publishRequest(type: string, request: ManagerRequest): Promise<void>;
  publish(exchange: string, routingKey: string, body: Buffer, headers: Record<string, string>): Promise<void>;
  /** Declares the request queue exactly as the Java manager does. */
  declareAsManager(type: string): Promise<void>;
  /** Declares a part of the protocol's topology (on the node this connection is to). */
  declare(topology: Topology): Promise<void>;
  forget(type: string): void;
  /** Deletes a queue as an operator (or a manager) could, under the host's feet. */
  deleteQueue(queue: string): Promise<void>;
  close(): Promise<void>;
}

export interface ManagerRequest {
  requestId: string;
  body: unknown;
  tenant?: string;
  headers?: Record<string, string>;
}

export interface Observer {
  readonly queue: string;
  /** Every message received so far (what was in the queue is taken out now). */
  drain(): Promise<Received[]>;
  /** Waits until `count` messages match, or the timeout. */
  waitFor(match: (message: Received) => boolean, count?: number, timeoutMs?: number): Promise<Received[]>;
}

export function uniqueType(label: string): string {
  return `it-${label}-${randomUUID().slice(0, 8)}`;
}

/** A connection of the test's to the shared broker, or to `url` (a private node). */
export async function connectTestBroker(url = AMQP_URL): Promise<TestBroker> {
  // Reconnects on use after the broker closed its connection (tests close connections on purpose).
  let connection: amqp.ChannelModel | undefined;
  let channel: amqp.ConfirmChannel | undefined;
  const ensure = async (): Promise<amqp.ConfirmChannel> => {
    if (channel !== undefined) return channel;
    const opened = await amqp.connect(url);
    opened.on('error', () => undefined);
    opened.on('close', () => {
      connection = undefined;
      channel = undefined;
    });
    const made = await opened.createConfirmChannel();
    made.on('error', () => undefined);
    made.on('close', () => {
      if (channel === made) channel = undefined;
    });
    connection = opened;
    channel = made;
    return made;
  };
  const declare = async (topology: Topology) => {
    const setup = await ensure();
    for (const exchange of topology.exchanges)
      await setup.assertExchange(exchange.name, exchange.type, { durable: true });
    for (const queue of topology.queues)
      await setup.assertQueue(queue.name, { durable: true, arguments: queue.arguments });
    for (const binding of topology.bindings)
      await setup.bindQueue(binding.queue, binding.exchange, binding.key);
  };
  // What observers bind to exists from the start, whichever test file runs first on a fresh broker.
  await declare(sharedTopology());
  const queues: string[] = [];
  const types = new Set<string>();

  const observe = async (exchange: string, bindingKey = '#'): Promise<Observer> => {
    const queue = `it.observer.${randomUUID()}`;
    const setup = await ensure();
    await setup.assertQueue(queue, { durable: true, arguments: { 'x-max-priority': 255 } });
    await setup.bindQueue(queue, exchange, bindingKey);
    queues.push(queue);
    const received: Received[] = [];
    const drain = async () => {
      for (;;) {
        const message = await (await ensure()).get(queue, { noAck: true });
        if (message === false) break;
        received.push(toReceived(message));
      }
      return received;
    };
    return {
      queue,
      drain,
      waitFor: async (match, count = 1, timeoutMs = 20_000) => {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const matching = (await drain()).filter(match);
          if (matching.length >= count || Date.now() > deadline) return matching;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      },
    };
  };

  return {
    observe,
    declare,
    async publishRequest(type, request) {
      const body = Buffer.from(
        typeof request.body === 'string' ? request.body : JSON.stringify(request.body),
      );
      const publisher = await ensure();
      await new Promise<void>((resolve, reject) => {
        publisher.publish(
          requestQueueName(type),
          '#',
          body,
          {
            headers: {
              [HEADER.tenant]: request.tenant ?? 'PROJECT1',
              [HEADER.requestId]: request.requestId,
              [HEADER.owner]: 'it-owner',
              [HEADER.session]: 'it-session',
              [HEADER.contentType]: 'behave',
              ...request.headers,
            },
            priority: 0,
            contentType: 'application/json',
            persistent: true,
            appId: 'regards',
          },
          (error: unknown) => (error ? reject(error) : resolve()),
        );
      });
    },
    async publish(exchange, routingKey, body, headers) {
      const publisher = await ensure();
      await new Promise<void>((resolve, reject) => {
        publisher.publish(
          exchange,
          routingKey,
          body,
          { headers, contentType: 'application/json', persistent: true, priority: 0 },
          (error: unknown) => (error ? reject(error) : resolve()),
        );
      });
    },
    async declareAsManager(type) {
      types.add(type);
      const queue = requestQueueName(type);
      const channel = await ensure();
      await channel.assertExchange(queue, 'topic', { durable: true });
      // The Java client sends the priority as a 32-bit signed integer.
      await channel.assertQueue(queue, {
        durable: true,
        exclusive: false,
        autoDelete: false,
        arguments: { ...REQUEST_QUEUE_ARGUMENTS, 'x-max-priority': { '!': 'int', value: 255 } },
      });
      await channel.bindQueue(queue, queue, '#');
    },
    forget(type) {
      types.add(type);
    },
    async deleteQueue(queue) {
      await (await ensure()).deleteQueue(queue);
    },
    async close() {
      await ensure();
      const cleanup = await (connection as amqp.ChannelModel).createChannel();
      cleanup.on('error', () => undefined);
      for (const queue of queues) await cleanup.deleteQueue(queue).catch(() => undefined);
      for (const type of types) {
        await cleanup.deleteQueue(requestQueueName(type)).catch(() => undefined);
        await cleanup.deleteQueue(retryQueueName(type)).catch(() => undefined);
        await cleanup.deleteExchange(requestQueueName(type)).catch(() => undefined);
      }
      await removeFromDeadLetterQueue(cleanup, types);
      await connection?.close().catch(() => undefined);
    },
  };
}

/** Takes this test's requests out of the shared DLQ, leaving anything else there. */
async function removeFromDeadLetterQueue(channel: amqp.Channel, types: ReadonlySet<string>): Promise<void> {
  const others: amqp.GetMessage[] = [];
  for (let i = 0; i < 10_000; i += 1) {
    const message = await channel.get(DEAD_LETTER_QUEUE).catch(() => false as const);
    if (message === false) break;
    const original = String(message.properties.headers?.['x-original-exchange'] ?? '');
    if ([...types].some((type) => original === requestQueueName(type))) channel.ack(message);
    else others.push(message);
  }
  for (const message of others) channel.nack(message, false, true);
}

function toReceived(message: amqp.GetMessage): Received {
  let json: unknown;
  try {
    json = JSON.parse(message.content.toString('utf8'));
  } catch {}
  return {
    headers: message.properties.headers ?? {},
    body: message.content,
    json,
    properties: message.properties,
  };
}

export const rabbitmqctl = (...args: string[]) =>
  promisify(execFile)('rabbitmqctl', args, { timeout: 60_000 });
