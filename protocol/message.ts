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

/**
 * Queue arguments typed as the Java client types them: an integer is a signed 32-bit `I` (a generic
 * client would pick the smallest type, a 16-bit short for 255). The `{ '!': type, value }` form is the
 * AMQP client's notation for a typed field-table value.
 */
export function javaTypedArguments(args: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(args).map(([key, value]) => [
      key,
      Number.isInteger(value) ? { '!': 'int', value } : value,
    ]),
  );
}

/** The parts of a consumed AMQP message the protocol reads (structurally, whatever the client). */
export interface AmqpMessageLike {
  readonly fields: { readonly exchange: string; readonly routingKey: string; readonly redelivered: boolean };
  readonly properties: {
    readonly headers?: Record<string, unknown>;
    readonly priority?: number;
    readonly contentType?: string;
  };
  readonly content: Uint8Array;
}

export function deliveryOf(message: AmqpMessageLike): Delivery {
  return {
    exchange: message.fields.exchange,
    routingKey: message.fields.routingKey,
    headers: message.properties.headers,
    body: message.content,
    redelivered: message.fields.redelivered,
    priority: message.properties.priority,
    contentType: message.properties.contentType,
  };
}
