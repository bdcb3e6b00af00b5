/** Encoding a worker response, a heartbeat and a dead-letter copy as the Worker Manager reads them. */
import {
  EXCEPTION_MESSAGE_MAX_BYTES,
  fitHeaders,
  HEADER_TABLE_MAX_BYTES,
  STACKTRACE_MAX_BYTES,
  shortString,
  truncateUtf8,
} from './limits.ts';
import { type Delivery, type HeaderValue, headerString, jsonBytes, type OutgoingMessage } from './message.ts';
import {
  DEAD_LETTER_QUEUE,
  FORBIDDEN_DEAD_LETTER_HEADERS,
  HEADER,
  HEARTBEAT_EXCHANGE,
  JSON_CONTENT_TYPE,
  RESPONSE_EXCHANGE,
  type Status,
} from './names.ts';

export interface Response {
  readonly status: Status;
  readonly messages: readonly string[];
  readonly content?: Uint8Array | undefined;
  /**
   * The content already as standard Base64 (ASCII bytes), encoded off the main thread; wins over
   * `content`. A large result then never becomes a string in the host's own memory.
   */
  readonly contentBase64?: Uint8Array | undefined;
  readonly additionalHeaders?: Readonly<Record<string, string>> | undefined;
}

/** The JSON body of a response: content as standard Base64, no line breaks. */
export interface ResponseBody {
  status: Status;
  messages: string[];
  content?: string;
  additionalHeaders?: Record<string, string>;
}

/** The body's fields but its content, which responseBytes() writes in as bytes. */
function responseBody(response: Response): ResponseBody {
  const body: ResponseBody = { status: response.status, messages: [...response.messages] };
  if (response.status === 'SUCCESS' && response.additionalHeaders !== undefined) {
    body.additionalHeaders = { ...response.additionalHeaders };
  }
  return body;
}

/** Standard Base64 of the bytes, as ASCII bytes in an ArrayBuffer of their own (a thread can move it). */
export function base64Bytes(bytes: Uint8Array): Uint8Array {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  if (bytes.byteLength < RESPONSE_ROOM.from) {
    // Never a slice of Node's shared 8 KiB pool: a message carrying such a slice clones the whole pool
    // (measured: 38 to 190 µs a message from a handler thread, against 6).
    const own = Buffer.allocUnsafeSlow(text.length);
    own.write(text, 0, 'latin1');
    return own;
  }
  // A memory of its own, with room around for the response's JSON (see responseBytes).
  const room = Buffer.allocUnsafeSlow(RESPONSE_ROOM.before + text.length + RESPONSE_ROOM.after);
  room.write(text, RESPONSE_ROOM.before, 'latin1');
  return room.subarray(RESPONSE_ROOM.before, RESPONSE_ROOM.before + text.length);
}

/**
 * The room base64Bytes keeps around a large content's Base64 (from `from` bytes of content), in an
 * ArrayBuffer of its own: responseBytes writes the JSON around it in place. A 16 MiB response is
 * then never copied on the main thread, whose turn it would otherwise hold (measured: a third of the
 * longest turn while the largest results were published).
 */
export const RESPONSE_ROOM = { from: 256 * 1024, before: 64 * 1024, after: 2 } as const;

/** Whether base64Bytes left room around these bytes (then their ArrayBuffer is theirs alone). */
function hasRoom(bytes: Uint8Array): boolean {
  return (
    bytes.byteOffset === RESPONSE_ROOM.before &&
    bytes.buffer.byteLength === RESPONSE_ROOM.before + bytes.byteLength + RESPONSE_ROOM.after
  );
}

/** The view from `before` bytes ahead of `bytes` to `after` bytes past them, when there is room. */
function roomAround(bytes: Uint8Array, before: number, after: number): Uint8Array | undefined {
  if (!hasRoom(bytes) || before > RESPONSE_ROOM.before || after > RESPONSE_ROOM.after) return undefined;
  return new Uint8Array(bytes.buffer, bytes.byteOffset - before, before + bytes.byteLength + after);
}

/** The response's JSON body as bytes; the Base64 content is copied in once, never made a string. */
export function responseBytes(response: Response): Uint8Array {
  const body = responseBody(response);
  const base64 =
    response.status !== 'SUCCESS'
      ? undefined
      : (response.contentBase64 ??
        (response.content === undefined ? undefined : base64Bytes(response.content)));
  if (base64 === undefined) return jsonBytes(body);
  const head = Buffer.from(`${JSON.stringify(body).slice(0, -1)},"content":"`);
  const tail = Buffer.from('"}');
  const inPlace = roomAround(base64, head.byteLength, tail.byteLength);
  const bytes = inPlace ?? Buffer.allocUnsafe(head.byteLength + base64.byteLength + tail.byteLength);
  bytes.set(head, 0);
  if (inPlace === undefined) bytes.set(base64, head.byteLength);
  bytes.set(tail, head.byteLength + base64.byteLength);
  return bytes;
}

export interface Addressee {
  readonly tenant: string;
  readonly requestId: string;
}

export function encodeResponse(to: Addressee, response: Response): OutgoingMessage {
  return {
    exchange: RESPONSE_EXCHANGE,
    // Any key reaches the manager; a routing key holds at most 255 bytes, a request id may be longer.
    routingKey: shortString(to.requestId),
    headers: { [HEADER.tenant]: to.tenant, [HEADER.requestId]: to.requestId },
    body: responseBytes(response),
    contentType: JSON_CONTENT_TYPE,
    persistent: true,
  };
}

export interface Heartbeat {
  readonly instanceId: string;
  /** Exact case, as configured. */
  readonly type: string;
  readonly tenant: string;
  readonly date: Date;
}

export function encodeHeartbeat(beat: Heartbeat): OutgoingMessage {
  return {
    exchange: HEARTBEAT_EXCHANGE,
    routingKey: beat.type,
    headers: { [HEADER.tenant]: beat.tenant },
    body: jsonBytes({ id: beat.instanceId, type: beat.type, heartBeatDate: beat.date.toISOString() }),
    contentType: JSON_CONTENT_TYPE,
    persistent: false,
  };
}

export interface DeadLetterReason {
  readonly message: string;
  readonly stacktrace: string;
}

/**
 * A copy of the original request, headers intact, for the manager's DLQ entry exchange, with the
 * exception headers the manager reads (it marks the request ERROR with the stack trace). The reason
 * is cut to a bounded size, and the largest foreign headers are left out (and named) when the copy
 * would not fit the headers table. Undefined when even the headers it must keep do not fit: the
 * delivery must then be rejected onto regards.DLX, which needs no copy.
 */
export function encodeDeadLetter(delivery: Delivery, reason: DeadLetterReason): OutgoingMessage | undefined {
  const headers = fittedCopy(delivery, {
    [HEADER.exceptionStacktrace]: truncateUtf8(reason.stacktrace, STACKTRACE_MAX_BYTES, '…'),
    [HEADER.exceptionMessage]: truncateUtf8(reason.message, EXCEPTION_MESSAGE_MAX_BYTES, '…'),
  });
  if (headers === undefined) return undefined;
  return {
    exchange: DEAD_LETTER_QUEUE,
    routingKey: DEAD_LETTER_QUEUE,
    headers,
    body: delivery.body,
    contentType: delivery.contentType ?? JSON_CONTENT_TYPE,
    persistent: true,
    ...(delivery.priority === undefined ? {} : { priority: delivery.priority }),
  };
}

/**
 * A copy of the request for a later attempt, sent through the type's retry queue (see names).
 * Undefined when it cannot be made to fit, as for a dead-letter.
 */
export function encodeRetry(
  delivery: Delivery,
  retryQueue: string,
  attempt: number,
  delayMs: number,
): (OutgoingMessage & { expiration: string }) | undefined {
  const headers = fittedCopy(delivery, { [HEADER.attempt]: String(attempt) });
  if (headers === undefined) return undefined;
  return {
    exchange: '',
    routingKey: retryQueue,
    headers,
    body: delivery.body,
    contentType: delivery.contentType ?? JSON_CONTENT_TYPE,
    persistent: true,
    expiration: String(delayMs),
    ...(delivery.priority === undefined ? {} : { priority: delivery.priority }),
  };
}

/** Room left in the headers table for the trace context the edge adds to every publish. */
const TRACE_HEADERS_BYTES = 1_024;

/** The delivery's headers, its origin and `ours`, fitted into the headers table. */
function fittedCopy(
  delivery: Delivery,
  ours: Readonly<Record<string, string>>,
): Record<string, HeaderValue> | undefined {
  const headers = { ...copiedHeaders(delivery), ...origin(delivery), ...ours };
  const keep = [HEADER.tenant, HEADER.requestId, HEADER.originalExchange, HEADER.originalRoutingKey];
  return fitHeaders(headers, [...keep, ...Object.keys(ours)], HEADER_TABLE_MAX_BYTES - TRACE_HEADERS_BYTES)
    ?.headers;
}

/**
 * Where the request first arrived. A retried request comes back through the default exchange, so
 * the first copy records the origin and later copies keep it.
 */
function origin(delivery: Delivery): Record<string, string> {
  const headers = delivery.headers ?? {};
  // Names of an exchange and a routing key: short strings, whatever a hostile header says.
  return {
    [HEADER.originalExchange]: shortString(
      headerString(headers[HEADER.originalExchange]) ?? delivery.exchange,
    ),
    [HEADER.originalRoutingKey]: shortString(
      headerString(headers[HEADER.originalRoutingKey]) ?? delivery.routingKey,
    ),
  };
}

/** Headers as strings, without the broker's dead-letter bookkeeping and the headers REGARDS listeners drop. */
function copiedHeaders(delivery: Delivery): Record<string, HeaderValue> {
  const headers: Record<string, HeaderValue> = {};
  for (const [key, value] of Object.entries(delivery.headers ?? {})) {
    if (FORBIDDEN_DEAD_LETTER_HEADERS.includes(key) || /^x-(first-|last-)?death/.test(key)) continue;
    const text = headerString(value);
    if (text !== undefined) headers[key] = text;
  }
  return headers;
}
