/**
 * What the rest of the host sees of RabbitMQ (amqp.ts implements it): a broker, its sessions, a
 * publisher whose publishes resolve once confirmed and routed, and the port a delivery is settled
 * through. No amqplib here: the consumer and the tests use these alone.
 */
import type { Delivery, OutgoingMessage } from '../../protocol/index.ts';
import type { HostLogger } from '../telemetry/log.ts';
import type { Recorder } from '../telemetry/metrics.ts';

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
  /** Settles once first connected and set up; rejects if the broker refused (BrokerRefused) or cannot be reached. */
  readonly connected: Promise<void>;
  close(): Promise<void>;
}
