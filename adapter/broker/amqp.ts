/**
 * RabbitMQ, and the only file that imports amqplib: connection with recovery (amqplib's own), the
 * topology of the protocol, confirm channels whose publishes resolve only once confirmed and routed,
 * and consumers that hand each delivery over with a port to settle it.
 */
import { randomUUID } from 'node:crypto';
import type { Writable } from 'node:stream';
import type * as amqp from 'amqplib';
import { deliveryOf, type Topology, workerTopology } from '../../protocol/index.ts';
import type { HostLogger } from '../telemetry/log.ts';
import type { Recorder } from '../telemetry/metrics.ts';
import { type AckCoalescer, ackCoalescer } from './acks.ts';
import { BrokerRefused, clusterNodes, redactedNode, refusalOf } from './nodes.ts';
import {
  type Broker,
  type BrokerOptions,
  type DeliveryPort,
  PublishError,
  type Publisher,
  type Session,
} from './ports.ts';
import { coalesceWrites } from './writes.ts';

/**
 * Starts connecting (and reconnecting, for ever) to the broker; `setup` runs on each connection. Returns
 * at once: the broker's `connected` settles with the first session set up, or with why there is none.
 */
export async function connectBroker(options: BrokerOptions): Promise<Broker> {
  const { log } = options;
  // Loaded here, not at import time: tracing is started before amqplib loads.
  const { connect } = await import('amqplib');
  const nodes = clusterNodes(options.urls);
  const connection = await connect(nodes.url as string, {
    ...options.tls,
    noDelay: true,
    clientProperties: { connection_name: options.connectionName },
    recovery: {
      initialDelay: Math.min(500, options.reconnectMaxMs),
      maxDelay: options.reconnectMaxMs,
      ...(options.initialMaxRetries === undefined ? {} : { initialMaxRetries: options.initialMaxRetries }),
      waitForConnect: false,
      setup: async (model: amqp.ChannelModel) => {
        try {
          // The connection's socket, which amqplib keeps as `stream` (outside its types).
          const socket = (model as { connection?: { stream?: Writable } }).connection?.stream;
          if (typeof socket?.cork === 'function') coalesceWrites(socket);
          await options.setup(session(model, log, options.metrics));
        } catch (error) {
          log.error('setup after connecting failed; reconnecting', { error: (error as Error).message });
          throw error;
        }
      },
    },
  });
  connection.on('error', (error: Error) => log.warn('connection error', { error: error.message }));
  connection.on('disconnect', (error: Error) => options.onDisconnect(error));
  // Refused at start (a wrong password or vhost): say what the broker answered and stop, rather than retry
  // for ever. Once connected, a refusal (credentials rotated, say) is retried like any other failure.
  let connectedOnce = false;
  let refused: string | undefined;
  connection.on('connect', () => {
    connectedOnce = true;
    if (options.urls.length > 1) log.info('connected', { node: redactedNode(nodes.current()) });
  });
  connection.on('connect-failed', (error: Error) => {
    if (connectedOnce) return;
    refused = refusalOf(error, nodes.current());
    if (refused !== undefined) void connection.close().catch(() => undefined);
  });
  connection.on('reconnect-scheduled', ({ attempt, delay, error }) =>
    log.warn('cannot reach the broker; retrying', {
      attempt,
      delayMs: Math.round(delay),
      error: error?.message,
    }),
  );
  connection.on('blocked', (reason: string) => log.warn('connection blocked by the broker', { reason }));
  const connected = connection.waitForConnect().then(
    () => undefined,
    (error: Error) => {
      throw refused === undefined ? error : new BrokerRefused(refused);
    },
  );
  connected.catch(() => undefined); // the host awaits it when it is ready to
  return { connected, close: () => connection.close().catch(() => undefined) };
}

function session(model: amqp.ChannelModel, log: HostLogger, metrics: Recorder): Session {
  return {
    async declareTopology(types, eventKinds = []) {
      const channels = await Promise.all(
        Array.from({ length: DECLARING_CHANNELS }, async () => {
          const channel = await model.createChannel();
          channel.on('error', () => undefined); // a refused declaration rejects the call below
          return channel;
        }),
      );
      try {
        await declare(channels, workerTopology(types, eventKinds));
      } finally {
        await Promise.all(channels.map((channel) => channel.close().catch(() => undefined)));
      }
    },

    async openPublisher() {
      const channel = await model.createConfirmChannel();
      channel.on('error', (error: Error) => log.warn('publisher channel error', { error: error.message }));
      return confirmedPublisher(channel, metrics);
    },

    async openConsumer({ queue, prefetch, onDelivery, onCancelled, onClosed }) {
      const channel = await model.createConfirmChannel();
      let closing = false;
      let cancelled = false;
      let unsettled = 0;
      let lastError: Error | undefined;
      // Acks of one turn of the event loop go out as one frame (see acks.ts).
      const acks = ackCoalescer((tag, multiple) => {
        try {
          channel.ack({ fields: { deliveryTag: tag } } as amqp.Message, multiple);
        } catch {} // a closed channel: the broker redelivers what it did not get
      });
      const close = async () => {
        closing = true;
        acks.flush();
        await channel.close().catch(() => undefined);
      };
      channel.on('error', (error: Error) => {
        lastError = error;
      });
      channel.on('close', () => {
        if (!closing) onClosed(lastError);
      });
      const publisher = confirmedPublisher(channel, metrics);
      await channel.prefetch(prefetch);
      const { consumerTag } = await channel.consume(
        queue,
        (message) => {
          if (message === null) {
            cancelled = true;
            if (unsettled === 0) void close();
            onCancelled();
            return;
          }
          unsettled += 1;
          acks.delivered(message.fields.deliveryTag);
          const onSettled = () => {
            unsettled -= 1;
            if (cancelled && unsettled === 0) void close();
          };
          onDelivery(deliveryOf(message), deliveryPort(channel, message, publisher, acks, onSettled));
        },
        { noAck: false },
      );
      return {
        cancel: async () => {
          await channel.cancel(consumerTag).catch(() => undefined);
        },
        close,
      };
    },
  };
}

/** Declares exchanges, then durable queues, then bindings. */
/**
 * How many channels declare a topology side by side. A declaration is a round trip, and a channel
 * sends the next only once the broker has answered the last: four types' topology, some thirty
 * declarations, took 35 to 50 ms one after the other.
 */
const DECLARING_CHANNELS = 4;

/** Exchanges and queues first, then the bindings between them; each step shared out among `channels`. */
async function declare(channels: readonly amqp.Channel[], topology: Topology): Promise<void> {
  await shareOut(channels, [
    ...topology.exchanges.map(
      (exchange) => (channel: amqp.Channel) =>
        channel.assertExchange(exchange.name, exchange.type, { durable: true }),
    ),
    ...topology.queues.map(
      (queue) => (channel: amqp.Channel) =>
        channel.assertQueue(queue.name, {
          durable: true,
          exclusive: false,
          autoDelete: false,
          arguments: queue.arguments,
        }),
    ),
  ]);
  await shareOut(
    channels,
    topology.bindings.map(
      (binding) => (channel: amqp.Channel) => channel.bindQueue(binding.queue, binding.exchange, binding.key),
    ),
  );
}

/** Runs the declarations in turn on each channel, the channels side by side. */
async function shareOut(
  channels: readonly amqp.Channel[],
  declarations: readonly ((channel: amqp.Channel) => Promise<unknown>)[],
): Promise<void> {
  await Promise.all(
    channels.map(async (channel, lane) => {
      for (let i = lane; i < declarations.length; i += channels.length) await declarations[i]?.(channel);
    }),
  );
}

function deliveryPort(
  channel: amqp.ConfirmChannel,
  message: amqp.ConsumeMessage,
  publisher: Publisher,
  acks: AckCoalescer,
  onSettled: () => void,
): DeliveryPort {
  const tag = message.fields.deliveryTag;
  let settled = false;
  // On a closed channel there is nothing to settle: the broker redelivers the message.
  const once = (settle: () => void) => {
    if (settled) return;
    settled = true;
    try {
      settle();
    } catch {}
    onSettled();
  };
  return {
    publish: publisher.publish,
    ack: () => once(() => acks.acked(tag)),
    reject: () =>
      once(() => {
        acks.rejected(tag);
        channel.nack(message, false, false);
      }),
  };
}

function confirmedPublisher(channel: amqp.ConfirmChannel, metrics: Recorder): Publisher {
  // A mandatory message that no queue takes comes back (basic.return) before its confirm.
  const returned = new Set<string>();
  channel.on('return', (message: amqp.Message) => {
    const id = message.properties.messageId;
    if (typeof id === 'string') returned.add(id);
  });
  const prefix = randomUUID();
  let sequence = 0;
  return {
    publish(message, { mandatory = true } = {}) {
      return new Promise<void>((resolve, reject) => {
        sequence += 1;
        const messageId = `${prefix}.${sequence}`;
        const sentAt = performance.now();
        const body = Buffer.isBuffer(message.body)
          ? message.body
          : Buffer.from(message.body.buffer, message.body.byteOffset, message.body.byteLength);
        try {
          channel.publish(
            message.exchange,
            message.routingKey,
            body,
            {
              headers: message.headers,
              persistent: message.persistent,
              mandatory,
              messageId,
              ...(message.contentType === undefined ? {} : { contentType: message.contentType }),
              ...(message.priority === undefined ? {} : { priority: message.priority }),
              ...(message.expiration === undefined ? {} : { expiration: message.expiration }),
            },
            (error: unknown) => {
              metrics.confirmed((performance.now() - sentAt) / 1000);
              if (returned.delete(messageId)) {
                reject(
                  new PublishError(
                    'UNROUTABLE',
                    `no queue took the message on ${message.exchange || '(default)'} for ${message.routingKey}`,
                  ),
                );
              } else if (error) {
                reject(
                  new PublishError(
                    'NOT_CONFIRMED',
                    `the broker did not confirm the message on ${message.exchange}`,
                  ),
                );
              } else resolve();
            },
          );
        } catch (error) {
          // The client checks sizes and types before writing anything: the channel is still usable.
          const refused = error instanceof RangeError || error instanceof TypeError;
          const code = refused ? 'REFUSED' : 'CHANNEL_CLOSED';
          reject(new PublishError(code, `${message.exchange || '(default)'}: ${(error as Error).message}`));
        }
      });
    },
  };
}
