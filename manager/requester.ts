/**
 * The requester's side, for development: publish a RequestEvent and follow the ResponseEvents the
 * manager sends about it. Used by `regards-worker send` and the demo. What the manager does not tell a
 * requester (a worker's RUNNING progress, a request dead-lettered, which the manager marks ERROR) is
 * watched on the workers' side too, so that a developer sees it: such events say `observed`. So are the
 * requests a worker issued while handling it (fan-out: ids `<its id>-<n>`, followed in turn until they
 * end too). Events to other REGARDS services are not watched here: a queue of ours bound to their
 * exchanges would make an update that no service listens for look delivered (the local manager, which
 * stands in for rs-fem, prints each one instead).
 */
import * as amqp from 'amqplib';
import {
  DEAD_LETTER_EXCHANGE,
  DEAD_LETTER_QUEUE,
  encodeRequestEvent,
  HEADER,
  REQUEST_EVENT_EXCHANGE,
  RESPONSE_EVENT_EXCHANGE,
  RESPONSE_EXCHANGE,
  type RequestIdentity,
  sharedTopology,
} from '../protocol/index.ts';

export interface ResponseEvent {
  readonly headers: Readonly<Record<string, unknown>>;
  readonly state: string;
  readonly messages: readonly string[];
  readonly requestId: string;
  readonly content?: string;
  /**
   * Not a ResponseEvent: seen on the workers' side. `worker`: a RUNNING response (ctx.progress), which the
   * manager keeps to itself; `dead-letter`: the request reached the DLQ, which the manager marks ERROR
   * without telling the requester (the message is the worker's reason); `request`: a worker issued this
   * request while handling one followed (its id is `<parent id>-<n>`), followed too.
   */
  readonly observed?: 'worker' | 'dead-letter' | 'request';
}

/** States after which the manager says nothing more about a request. */
export const FINAL_STATES = ['SUCCESS', 'ERROR', 'INVALID_CONTENT', 'SKIPPED'];

export interface Requester {
  /**
   * Publishes the request, then calls `onEvent` for each ResponseEvent of it and of the requests its
   * workers issue, until each has a final one, or the timeout. Resolves with the request's own final one.
   */
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
  for (const exchange of sharedTopology().exchanges)
    await channel.assertExchange(exchange.name, exchange.type, { durable: true });
  const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
  await channel.bindQueue(queue, RESPONSE_EVENT_EXCHANGE, '');
  // Dead-letters come through regards.DLX, or through the manager's DLQ entry exchange.
  await channel.bindQueue(queue, DEAD_LETTER_EXCHANGE, DEAD_LETTER_QUEUE);
  await channel.bindQueue(queue, DEAD_LETTER_QUEUE, '');
  // Requests workers issue (the manager listens there too: nothing it would not get is routed here).
  await channel.bindQueue(queue, REQUEST_EVENT_EXCHANGE, '');
  const listeners = new Map<string, (event: ResponseEvent) => void>();
  await channel.consume(
    queue,
    (message) => {
      if (message !== null) route(message, listeners);
    },
    { noAck: true },
  );
  return {
    async submit(request, body, { extraHeaders = {}, timeoutMs, onEvent }) {
      const root = request.requestId;
      /** The requests followed (this one and those its workers issued), and those that ended. */
      const followed = new Set([root]);
      const ended = new Set<string>();
      let rootFinal: ResponseEvent | undefined;
      const final = new Promise<ResponseEvent | undefined>((resolve) => {
        const timer = setTimeout(() => resolve(rootFinal), timeoutMs);
        listeners.set(root, (event) => {
          if (event.observed === 'request') followed.add(event.requestId);
          // Nothing after a request's final event: a dead-letter may overtake the manager's GRANTED.
          if (ended.has(event.requestId)) return;
          onEvent(event);
          if (!FINAL_STATES.includes(event.state)) return;
          ended.add(event.requestId);
          if (event.requestId === root) rootFinal = event;
          if (rootFinal !== undefined && [...followed].every((id) => ended.has(id))) {
            clearTimeout(timer);
            resolve(rootFinal);
          }
        });
      });
      // The worker's RUNNING responses to this request (routed by its id).
      await channel.bindQueue(queue, RESPONSE_EXCHANGE, request.requestId);
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
      for (const id of followed) listeners.delete(id);
      await channel.unbindQueue(queue, RESPONSE_EXCHANGE, request.requestId).catch(() => undefined);
      return event;
    },
    close: () => connection.close().catch(() => undefined),
  };
}

function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return undefined;
  }
}

/** A child request's id, for each one seen: `<parent id>-<n>`. */
const parentOf = (id: string) => id.slice(0, id.lastIndexOf('-'));

/** Tells the listener of the request a message is about what it says; a request a followed worker issued is followed too. */
function route(message: amqp.ConsumeMessage, listeners: Map<string, (event: ResponseEvent) => void>): void {
  const headers = message.properties.headers ?? {};
  const requestId = String(headers[HEADER.requestId] ?? '');
  const exchange = message.fields.exchange;
  if (exchange === REQUEST_EVENT_EXCHANGE) {
    // A request a followed worker issued: followed from now on, by its parent's listener.
    const parent = listeners.get(parentOf(requestId));
    if (parent === undefined || listeners.has(requestId) || !/-\d+$/.test(requestId)) return;
    listeners.set(requestId, parent);
    const contentType = String(headers[HEADER.contentType] ?? '');
    parent({
      state: 'ISSUED',
      messages: [`content type ${contentType}`],
      requestId,
      headers,
      observed: 'request',
    });
    return;
  }
  const listener = listeners.get(requestId);
  if (listener === undefined) return;
  if (exchange === RESPONSE_EVENT_EXCHANGE) {
    try {
      listener({ ...JSON.parse(message.content.toString('utf8')), headers });
    } catch {}
  } else if (exchange === RESPONSE_EXCHANGE) {
    const response = parseJson(message.content) as { status?: unknown; messages?: unknown } | undefined;
    if (response?.status !== 'RUNNING') return;
    const messages = Array.isArray(response.messages) ? response.messages.map(String) : [];
    listener({ state: 'RUNNING', messages, requestId, headers, observed: 'worker' });
  } else {
    const reason = headers[HEADER.exceptionMessage] ?? headers[HEADER.exceptionStacktrace];
    const messages = [reason === undefined ? 'dead-lettered, without a reason' : String(reason)];
    listener({ state: 'ERROR', messages, requestId, headers, observed: 'dead-letter' });
  }
}
