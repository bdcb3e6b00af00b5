/**
 * Sizes: what the wire caps (AMQP short strings, the headers table), and the host's own limits on
 * what it reads and publishes. Every check is pure; the numbers that vary come from configuration.
 */
import type { HeaderValue } from './message.ts';

/** AMQP short strings (routing keys, header names, content types) hold at most 255 bytes. */
export const SHORT_STRING_MAX_BYTES = 255;
/** The AMQP client encodes a message's headers table into a buffer of this size: a larger one cannot be sent. */
export const HEADER_TABLE_MAX_BYTES = 65_536;

/** What a response's `messages` may hold: the manager stores them joined, as the request's error. */
export const MESSAGES_MAX_COUNT = 50;
export const MESSAGE_MAX_BYTES = 2_048;
export const MESSAGES_MAX_TOTAL_BYTES = 16_384;
/** The longest `x-exception-stacktrace` and `x-exception-message` the host writes. */
export const STACKTRACE_MAX_BYTES = 16_384;
export const EXCEPTION_MESSAGE_MAX_BYTES = 2_048;
/** Ours: names of the headers left out of a republished request because the table was too large. */
export const DROPPED_HEADERS_HEADER = 'x-regards-worker-dropped-headers';

export interface Limits {
  /** The largest request body the host hands to a handler; larger ones are answered INVALID_CONTENT. */
  readonly maxBodyBytes: number;
  /** The largest message the host publishes (the broker's `max_message_size`). */
  readonly maxMessageBytes: number;
}

export const DEFAULT_LIMITS: Limits = Object.freeze({
  maxBodyBytes: 1024 * 1024,
  // RabbitMQ's default max_message_size since 4.0 (128 MiB before).
  maxMessageBytes: 16 * 1024 * 1024,
});

const encoder = new TextEncoder();

export function utf8Bytes(text: string): number {
  // Exact without encoding for pure ASCII, the common case.
  for (let i = 0; i < text.length; i += 1) {
    if (text.charCodeAt(i) > 0x7f) return encoder.encode(text).byteLength;
  }
  return text.length;
}

/**
 * The text cut to at most `maxBytes` of UTF-8, on a character boundary, ending with `marker` when
 * it was cut (the marker counts in the budget).
 */
export function truncateUtf8(text: string, maxBytes: number, marker = ''): string {
  if (utf8Bytes(text) <= maxBytes) return text;
  const budget = Math.max(0, maxBytes - utf8Bytes(marker));
  const bytes = encoder.encode(text);
  let end = Math.min(budget, bytes.byteLength);
  // Back up to the start of a character: continuation bytes are 10xxxxxx.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end -= 1;
  return new TextDecoder().decode(bytes.subarray(0, end)) + (maxBytes >= utf8Bytes(marker) ? marker : '');
}

/** A value of an AMQP short string field (a routing key): cut to 255 bytes. */
export function shortString(text: string): string {
  return truncateUtf8(text, SHORT_STRING_MAX_BYTES);
}

/** Encoded size of a field value as the AMQP client writes it (a number counts at its widest). */
function fieldValueBytes(value: HeaderValue): number {
  if (typeof value === 'string') return 1 + 4 + utf8Bytes(value);
  if (typeof value === 'boolean') return 2;
  return 1 + 8;
}

/** Encoded size of a headers table: its 4-byte length, then per entry a short-string key and a tagged value. */
export function headerTableBytes(headers: Readonly<Record<string, HeaderValue>>): number {
  let bytes = 4;
  for (const [key, value] of Object.entries(headers)) bytes += 1 + utf8Bytes(key) + fieldValueBytes(value);
  return bytes;
}

export interface FittedHeaders {
  readonly headers: Record<string, HeaderValue>;
  /** Names of the headers left out, largest first. */
  readonly dropped: readonly string[];
}

/**
 * The headers, fitted into `maxBytes`: the largest of those not in `keep` are left out first, and
 * their names noted in `x-regards-worker-dropped-headers`. Undefined when the kept ones alone do
 * not fit (the caller must then settle the message another way).
 */
export function fitHeaders(
  headers: Readonly<Record<string, HeaderValue>>,
  keep: readonly string[],
  maxBytes = HEADER_TABLE_MAX_BYTES,
): FittedHeaders | undefined {
  if (headerTableBytes(headers) <= maxBytes) return { headers: { ...headers }, dropped: [] };
  const fitted: Record<string, HeaderValue> = { ...headers };
  const droppable = Object.keys(headers)
    .filter((key) => !keep.includes(key))
    .map((key) => ({ key, bytes: 1 + utf8Bytes(key) + fieldValueBytes(headers[key] as HeaderValue) }))
    .sort((a, b) => b.bytes - a.bytes);
  const dropped: string[] = [];
  const noteBytes = 1 + utf8Bytes(DROPPED_HEADERS_HEADER) + fieldValueBytes('') + 1_024;
  let bytes = headerTableBytes(headers);
  for (const { key, bytes: entry } of droppable) {
    if (bytes + noteBytes <= maxBytes) break;
    delete fitted[key];
    dropped.push(key);
    bytes -= entry;
  }
  if (bytes + noteBytes > maxBytes) return undefined;
  fitted[DROPPED_HEADERS_HEADER] = truncateUtf8(dropped.join(', '), 1_024, '…');
  return { headers: fitted, dropped };
}

/**
 * Messages for a response, bounded in count, in length each and in total; what is left out is
 * counted in a last message "… and N more".
 */
export function capMessages(messages: readonly string[]): string[] {
  const kept: string[] = [];
  let total = 0;
  for (const message of messages) {
    const text = truncateUtf8(message, MESSAGE_MAX_BYTES, '…');
    const bytes = utf8Bytes(text);
    if (kept.length >= MESSAGES_MAX_COUNT || total + bytes > MESSAGES_MAX_TOTAL_BYTES) break;
    kept.push(text);
    total += bytes;
  }
  const more = messages.length - kept.length;
  if (more > 0) {
    // Make room for the note within the count.
    if (kept.length === MESSAGES_MAX_COUNT) kept.pop();
    kept.push(`… and ${messages.length - kept.length} more`);
  }
  return kept;
}

/** Why a body is refused before parsing, or undefined when it is within the limit. */
export function bodyTooLarge(bytes: number, limits: Limits): string | undefined {
  if (bytes <= limits.maxBodyBytes) return undefined;
  return `body is ${bytes} bytes, over the limit of ${limits.maxBodyBytes} bytes (WORKER_MAX_BODY_BYTES)`;
}

/** Length of the standard Base64 of `bytes` bytes. */
export function base64Length(bytes: number): number {
  return 4 * Math.ceil(bytes / 3);
}
