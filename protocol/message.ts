/** The shape of a message as this layer describes it to the I/O edge. */

export type HeaderValue = string | number | boolean;

export interface OutgoingMessage {
  readonly exchange: string;
  readonly routingKey: string;
  readonly headers: Readonly<Record<string, HeaderValue>>;
  readonly body: Uint8Array;
  readonly contentType?: string;
  readonly persistent: boolean;
  readonly priority?: number;
}

/** What the protocol needs of a delivery; the edge fills it from the broker's message. */
export interface Delivery {
  readonly exchange: string;
  readonly routingKey: string;
  readonly headers: Readonly<Record<string, unknown>> | undefined;
  readonly body: Uint8Array;
  readonly redelivered: boolean;
  readonly priority?: number | undefined;
  readonly contentType?: string | undefined;
}

/** A header value as a string: AMQP strings may arrive as strings or bytes; tables and arrays are left out. */
export function headerString(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return new TextDecoder().decode(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  return undefined;
}

export function jsonBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}
