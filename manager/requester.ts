/**
 * The requester's side, for development: publish a RequestEvent and follow the ResponseEvents the
 * manager sends about it. Used by `regards-worker send` and the demo.
 */
import * as amqp from 'amqplib';
import {
  encodeRequestEvent,
  HEADER,
  REQUEST_EVENT_EXCHANGE,
  RESPONSE_EVENT_EXCHANGE,
  type RequestIdentity,
} from '../protocol/index.ts';

export interface ResponseEvent {
  readonly headers: Readonly<Record<string, unknown>>;
  readonly state: string;
  readonly messages: readonly string[];
  readonly requestId: string;
  readonly content?: string;
}

/** States after which the manager says nothing more about a request. */
export const FINAL_STATES = ['SUCCESS', 'ERROR', 'INVALID_CONTENT', 'SKIPPED'];

export interface Requester {
  /** Publishes the request, then calls `onEvent` for each ResponseEvent until a final one or the timeout. */
  submit(
    request: RequestIdentity,
    body: Uint8Array,
    options: {
      extraHeaders?: Record<string, string>;
      timeoutMs: number;
      onEvent: (event: ResponseEvent) => void;
    },
  ): Promise<ResponseEvent | undefined>;
  close(): Promise<void>;
}

export async function connectRequester(url: string): Promise<Requester> {
  const connection = await amqp.connect(url, { noDelay: true });
  connection.on('error', () => undefined);
  const channel = await connection.createConfirmChannel();
  await channel.assertExchange(REQUEST_EVENT_EXCHANGE, 'fanout', { durable: true });
  await channel.assertExchange(RESPONSE_EVENT_EXCHANGE, 'fanout', { durable: true });
  const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
  await channel.bindQueue(queue, RESPONSE_EVENT_EXCHANGE, '');
  const listeners = new Map<string, (event: ResponseEvent) => void>();
  await channel.consume(
    queue,
    (message) => {
      if (message === null) return;
      const id = String(message.properties.headers?.[HEADER.requestId] ?? '');
      try {
        const body = JSON.parse(message.content.toString('utf8'));
        listeners.get(id)?.({ ...body, headers: message.properties.headers ?? {} });
      } catch {}
    },
    { noAck: true },
  );
  return {
    async submit(request, body, { extraHeaders = {}, timeoutMs, onEvent }) {
      const final = new Promise<ResponseEvent | undefined>((resolve) => {
        const timer = setTimeout(() => resolve(undefined), timeoutMs);
        listeners.set(request.requestId, (event) => {
          onEvent(event);
          if (FINAL_STATES.includes(event.state)) {
            clearTimeout(timer);
            resolve(event);
          }
        });
      });
      const message = encodeRequestEvent(request, body, extraHeaders);
      await new Promise<void>((resolve, reject) =>
        channel.publish(
          message.exchange,
          message.routingKey,
          Buffer.from(message.body),
          { headers: message.headers, contentType: message.contentType, persistent: true, priority: 0 },
          (error: unknown) => (error ? reject(new Error('the RequestEvent was not confirmed')) : resolve()),
        ),
      );
      const event = await final;
      listeners.delete(request.requestId);
      return event;
    },
    close: () => connection.close().catch(() => undefined),
  };
}
