/**
 * RabbitMQ, and the only file that imports amqplib: connection with recovery (amqplib's own), the
 * topology of the protocol, confirm channels whose publishes resolve only once confirmed and routed,
 * and consumers that hand each delivery over with a port to settle it.
 */
import { randomUUID } from 'node:crypto';
import type * as amqp from 'amqplib';
import {
  type Delivery,
  deliveryOf,
  type OutgoingMessage,
  type Topology,
  workerTopology,
} from '../protocol/index.ts';
import { type AckCoalescer, ackCoalescer } from './acks.ts';
import type { HostLogger } from './log.ts';
import type { Recorder } from './metrics.ts';

export type Outgoing = OutgoingMessage & { readonly expiration?: string };

export interface Publisher {
  /**
   * Resolves once the broker has confirmed the message; rejects if it was nacked, returned as
   * unroutable (with `mandatory`, the default), or the channel closed first.
   */
  publish(message: Outgoing, options?: { mandatory?: boolean }): Promise<void>;
}

/** What a consumer may do with one delivery: publish on its channel, then ack it, or reject it. */
export interface DeliveryPort extends Publisher {
  ack(): void;
  /**
   * The last resort when no copy of it can be published: nack without requeue, so that RabbitMQ
   * dead-letters it, untouched, through the request queue's `regards.DLX` into the DLQ.
   */
  reject(): void;
}

export interface ConsumerHandle {
  /** Stops deliveries; what was delivered stays in flight on the channel. */
  cancel(): Promise<void>;
  close(): Promise<void>;
}

export class PublishError extends Error {
  /**
   * REFUSED: the client could not encode the message (a headers table or a short string too large);
   * publishing it again would fail the same way. CHANNEL_CLOSED: nothing can be settled on the channel.
   */
  readonly code: 'NOT_CONFIRMED' | 'UNROUTABLE' | 'CHANNEL_CLOSED' | 'REFUSED';
  constructor(code: PublishError['code'], message: string) {
    super(message);
    this.code = code;
  }
}

/** One live connection: what `setup` receives after every (re)connect. */
export interface Session {
  /** The protocol's topology for these worker types, and the exchanges of the events they send. */
  declareTopology(types: readonly string[], eventKinds?: readonly string[]): Promise<void>;
  openPublisher(): Promise<Publisher>;
  openConsumer(options: {
    queue: string;
    prefetch: number;
    onDelivery: (delivery: Delivery, port: DeliveryPort) => void;
    /**
     * The broker cancelled the consumer (its queue was deleted, or the queue's node went down) and
     * left the channel open: no more deliveries come. The channel closes itself once what it
     * delivered is settled.
     */
    onCancelled: () => void;
    /** The channel closed without close() being called (an error, or the connection went). */
    onClosed: (error: Error | undefined) => void;
  }): Promise<ConsumerHandle>;
}

export interface BrokerOptions {
  /** One broker, or the nodes of a cluster: each (re)connection tries the node after the last one tried. */
  readonly urls: readonly string[];
  /** For amqps://: the CA, client certificate and key (PEM); the broker's certificate is always verified. */
  readonly tls?: { readonly ca?: string; readonly cert?: string; readonly key?: string } | undefined;
  readonly log: HostLogger;
  readonly setup: (session: Session) => Promise<void>;
  readonly onDisconnect: (error: Error) => void;
  /** Retries before the first connection succeeds (default: forever). */
  readonly initialMaxRetries?: number;
  /** Names the connection in the broker's management UI, so that replicas can be told apart. */
  readonly connectionName: string;
  readonly metrics: Recorder;
  /** The longest wait between two attempts to reach the broker. */
  readonly reconnectMaxMs: number;
}

export interface Broker {
  close(): Promise<void>;
}

/**
 * The broker refused this host's login or virtual host, or the two sides refused each other's TLS
 * certificate: retrying would not help.
 */
export class BrokerRefused extends Error {
  readonly code = 'BROKER_REFUSED';
}

/**
 * What a refusal looks like: the broker's 403 for the credentials; for the vhost (530, or 403 without
 * permission) the client reports only that the connection was closed instead of opened.
 */
const REFUSED = /ACCESS[-_]REFUSED|NOT[-_]ALLOWED|Expected ConnectionOpenOk; got <ConnectionClose/;

/**
 * What a TLS failure looks like: Node names a certificate that does not verify by OpenSSL's verify code
 * (SELF_SIGNED_CERT_IN_CHAIN, CERT_HAS_EXPIRED, ERR_TLS_CERT_ALTNAME_INVALID...); an alert the broker
 * sent (it refused our certificate, or has none to ask for) or a handshake gone wrong is ERR_SSL_*.
 */
const UNTRUSTED = /CERT|UNABLE_TO_|SELF_SIGNED|ALTNAME/;
const TLS_FAILED = /^ERR_SSL_/;

/** Why the first connection can never succeed as configured, or undefined when a retry may help. */
export function refusalOf(error: Error & { code?: unknown }, url: string): string | undefined {
  const code = typeof error.code === 'string' ? error.code : '';
  if (TLS_FAILED.test(code)) {
    const alert = /ALERT/.test(code)
      ? 'the broker refused the TLS handshake (a client certificate missing or not trusted: AMQP_CERT_FILE, AMQP_KEY_FILE)'
      : 'the TLS handshake failed (is the port a TLS listener?)';
    return `${alert}: ${code}`;
  }
  if (UNTRUSTED.test(code))
    return `the broker's TLS certificate does not verify against the trusted CAs (AMQP_CA_FILE): ${code}: ${error.message}`;
  if (!REFUSED.test(error.message)) return undefined;
  const vhost = decodeURIComponent(new URL(url).pathname.slice(1)) || '/';
  const what = /ConnectionOpenOk/.test(error.message)
    ? `virtual host ${vhost} (it does not exist, or the user may not use it)`
    : 'login';
  return `the broker refused the connection: ${what}: ${error.message}`;
}

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
  try {
    await connection.waitForConnect();
  } catch (error) {
    if (refused !== undefined) throw new BrokerRefused(refused);
    throw error;
  }
  return { close: () => connection.close().catch(() => undefined) };
}

/** The URL to log: no user, no password. */
function redactedNode(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
}

/**
 * What amqplib is given to connect to a cluster. Its recovery reconnects to the very URL it was given,
 * so for several nodes it gets a URL object (the shape amqplib reads field by field at every attempt)
 * whose fields are those of the next node in turn: reading `protocol`, the first field amqplib reads of
 * an attempt, moves to the next node. One node: its URL string, as is.
 */
export function clusterNodes(urls: readonly string[]): { url: string | object; current(): string } {
  const [first] = urls;
  if (first === undefined) throw new Error('no broker URL');
  if (urls.length === 1) return { url: first, current: () => first };
  const nodes = urls.map((url) => {
    const parsed = new URL(url);
    const query = (name: string) => {
      const value = parsed.searchParams.get(name);
      return value === null ? undefined : Number(value);
    };
    return {
      url,
      fields: {
        protocol: parsed.protocol.replace(/:$/, ''),
        hostname: parsed.hostname.replace(/^\[|\]$/g, ''),
        port: parsed.port === '' ? undefined : Number(parsed.port),
        // amqplib decodes these from a URL string, not from an object: given decoded.
        username: decodeURIComponent(parsed.username),
        password: decodeURIComponent(parsed.password),
        vhost: parsed.pathname.slice(1),
        heartbeat: query('heartbeat'),
        frameMax: query('frameMax'),
        channelMax: query('channelMax'),
        locale: parsed.searchParams.get('locale') ?? undefined,
      } as Record<string, unknown>,
    };
  });
  let next = 0;
  let current = nodes[0] as (typeof nodes)[number];
  const url: Record<string, unknown> = {};
  for (const key of Object.keys(current.fields)) {
    Object.defineProperty(url, key, {
      enumerable: true,
      get: () => {
        if (key === 'protocol') {
          current = nodes[next] as (typeof nodes)[number];
          next = (next + 1) % nodes.length;
        }
        return current.fields[key];
      },
    });
  }
  return { url, current: () => current.url };
}

function session(model: amqp.ChannelModel, log: HostLogger, metrics: Recorder): Session {
  return {
    async declareTopology(types, eventKinds = []) {
      const channel = await model.createChannel();
      channel.on('error', () => undefined); // a refused declaration rejects the call below
      await declare(channel, workerTopology(types, eventKinds));
      await channel.close();
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
async function declare(channel: amqp.Channel, topology: Topology): Promise<void> {
  for (const exchange of topology.exchanges)
    await channel.assertExchange(exchange.name, exchange.type, { durable: true });
  for (const queue of topology.queues) {
    await channel.assertQueue(queue.name, {
      durable: true,
      exclusive: false,
      autoDelete: false,
      arguments: queue.arguments,
    });
  }
  for (const binding of topology.bindings)
    await channel.bindQueue(binding.queue, binding.exchange, binding.key);
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
