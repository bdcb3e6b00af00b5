/**
 * Tracing: the only OpenTelemetry setup (NodeSDK exporting OTLP/HTTP, configured by the standard
 * OTEL_* variables), and the spans of the messaging conventions: a CONSUMER span `process <queue>`
 * continuing the delivery's `traceparent`, an INTERNAL span around the handler, a PRODUCER span
 * `send <exchange>` for every publish, whose context travels in the message's headers. With tracing
 * off, @opentelemetry/api is not even loaded (some 25 ms of start-up) and no span is made: its no-op
 * spans still cost a few µs a message, and without a propagator they carried no context anyway.
 */
import type { Attributes, Span, SpanStatusCode, TextMapGetter } from '@opentelemetry/api';
import {
  type Delivery,
  type Ending,
  HEADER,
  headerString,
  type OutgoingMessage,
} from '../../protocol/index.ts';
import { SDK_VERSION } from '../../sdk/index.ts';
import { ENDINGS } from '../delivery/endings.ts';

export interface Tracing {
  /** Where spans go, or undefined when tracing is off. */
  readonly endpoint: string | undefined;
  /** Flushes what is buffered and stops exporting. */
  shutdown(): Promise<void>;
}

/**
 * Starts the SDK when an OTLP endpoint is configured (OTEL_EXPORTER_OTLP_ENDPOINT or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) and OTEL_SDK_DISABLED is not true; otherwise tracing is off and
 * costs nothing (no exports attempted to an address nobody set). The service name, sampler and the
 * other OTEL_* variables are the SDK's own. Call it before amqplib is loaded.
 */
export async function startTracing(
  env: Readonly<Record<string, string | undefined>>,
  defaultServiceName: string,
): Promise<Tracing> {
  const endpoint =
    env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ??
    (env.OTEL_EXPORTER_OTLP_ENDPOINT
      ? `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/$/, '')}/v1/traces`
      : undefined);
  if (endpoint === undefined || env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') {
    return { endpoint: undefined, shutdown: async () => undefined };
  }
  const [{ NodeSDK }, { OTLPTraceExporter }] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    loadApi(),
  ]);
  const sdk = new NodeSDK({
    ...(env.OTEL_SERVICE_NAME ? {} : { serviceName: defaultServiceName }),
    // The endpoint is read from `env` (the exporter alone would read the process's environment).
    traceExporter: new OTLPTraceExporter({ url: endpoint }),
    instrumentations: [],
  });
  sdk.start();
  return { endpoint, shutdown: () => sdk.shutdown() };
}

type Api = typeof import('@opentelemetry/api');
/** The API, once tracing is on (or a requester span asked for it); undefined: no spans at all. */
let api: Api | undefined;

async function loadApi(): Promise<Api> {
  api ??= await import('@opentelemetry/api');
  return api;
}

/** What the spans here are asked to do; with tracing off, NO_SPAN does nothing. */
export type TraceSpan = Pick<Span, 'setAttributes' | 'setStatus' | 'recordException' | 'end'>;
const NO_SPAN: TraceSpan = {
  setAttributes: () => NO_SPAN as Span,
  setStatus: () => NO_SPAN as Span,
  recordException: () => undefined,
  end: () => undefined,
};
const NO_TRACE_HEADERS: Readonly<Record<string, string>> = Object.freeze({});
/** SpanStatusCode.ERROR, without loading the API for its enum. */
const STATUS_ERROR = 2 as SpanStatusCode.ERROR;

const tracerOf = (otel: Api) => otel.trace.getTracer('regards-worker', SDK_VERSION);

const headerGetter: TextMapGetter<Readonly<Record<string, unknown>> | undefined> = {
  keys: (carrier) => Object.keys(carrier ?? {}),
  get: (carrier, key) => headerString(carrier?.[key]),
};

/** Runs `fn` in a CONSUMER span that continues the trace context the delivery carries. */
export function inConsumerSpan<T>(
  delivery: Delivery,
  queue: string,
  fn: (span: TraceSpan) => Promise<T>,
): Promise<T> {
  const otel = api;
  if (otel === undefined) return fn(NO_SPAN);
  const parent = otel.propagation.extract(otel.ROOT_CONTEXT, delivery.headers, headerGetter);
  const attributes: Attributes = {
    'messaging.system': 'rabbitmq',
    'messaging.destination.name': queue,
    'messaging.operation.type': 'process',
    'messaging.operation.name': 'consume',
    'messaging.rabbitmq.destination.routing_key': delivery.routingKey,
  };
  return tracerOf(otel).startActiveSpan(
    `process ${queue}`,
    { kind: otel.SpanKind.CONSUMER, attributes },
    parent,
    async (span) => {
      try {
        return await fn(span);
      } finally {
        span.end();
      }
    },
  );
}

/** Runs the handler in its own span, the parent of any span the handler makes with @opentelemetry/api. */
export function inHandlerSpan<T>(
  handler: { readonly type: string; readonly sha256: string },
  attempt: number,
  fn: () => Promise<T>,
): Promise<T> {
  const otel = api;
  if (otel === undefined) return fn();
  const { type } = handler;
  const attributes = {
    'regards.worker.type': type,
    'regards.attempt': attempt,
    'regards.bundle.sha256': handler.sha256,
  };
  const options = { kind: otel.SpanKind.INTERNAL, attributes };
  return tracerOf(otel).startActiveSpan(`handle ${type}`, options, async (span) => {
    try {
      return await fn();
    } catch (error) {
      failed(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

/**
 * Publishes in a PRODUCER span: `build` receives the span's context as headers (`traceparent`,
 * `tracestate`) to put wherever it must travel; they are added to the message's own headers too.
 */
export async function sendTraced<M extends OutgoingMessage>(
  conversationId: string | undefined,
  build: (traceHeaders: Readonly<Record<string, string>>) => M,
  publish: (message: M) => Promise<void>,
): Promise<void> {
  const otel = api;
  if (otel === undefined) return publish(build(NO_TRACE_HEADERS));
  const span = tracerOf(otel).startSpan('send', { kind: otel.SpanKind.PRODUCER });
  const traceHeaders: Record<string, string> = {};
  otel.propagation.inject(otel.trace.setSpan(otel.context.active(), span), traceHeaders);
  try {
    const message = build(traceHeaders);
    const destination = message.exchange || message.routingKey;
    // An event's own request id, where it is not the request's (conversation) id.
    const messageId = message.headers[HEADER.requestId];
    span.updateName(`send ${destination}`);
    span.setAttributes({
      'messaging.system': 'rabbitmq',
      'messaging.destination.name': destination,
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'publish',
      'messaging.rabbitmq.destination.routing_key': message.routingKey,
      ...(conversationId === undefined ? {} : { 'messaging.message.conversation_id': conversationId }),
      ...(messageId === undefined || messageId === conversationId
        ? {}
        : { 'messaging.message.id': String(messageId) }),
    });
    await publish({ ...message, headers: { ...message.headers, ...traceHeaders } });
  } catch (error) {
    failed(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/**
 * A requester's span around submitting a request: `fn` receives its context as headers to send with
 * the RequestEvent, so that the whole chain joins this trace. Returns the trace id and fn's result.
 */
export async function inRequesterSpan<T>(
  name: string,
  fn: (traceHeaders: Readonly<Record<string, string>>) => Promise<T>,
): Promise<{ traceId: string; result: T }> {
  const otel = await loadApi();
  const span = tracerOf(otel).startSpan(name, {
    kind: otel.SpanKind.PRODUCER,
    attributes: { 'messaging.system': 'rabbitmq' },
  });
  const traceHeaders: Record<string, string> = {};
  otel.propagation.inject(otel.trace.setSpan(otel.context.active(), span), traceHeaders);
  try {
    return { traceId: span.spanContext().traceId, result: await fn(traceHeaders) };
  } finally {
    span.end();
  }
}

/** What became of the delivery, on its CONSUMER span. */
export function recordEnding(
  span: TraceSpan,
  ending: Ending,
  facts: { type: string; attempt: number; requestId: string | undefined; reason?: string | undefined },
): void {
  span.setAttributes({
    'regards.worker.type': facts.type,
    'regards.attempt': facts.attempt,
    'regards.outcome': ending,
    ...(facts.requestId === undefined ? {} : { 'messaging.message.conversation_id': facts.requestId }),
  });
  if (ENDINGS[ending].failed) span.setStatus({ code: STATUS_ERROR, message: facts.reason ?? ending });
}

function failed(span: TraceSpan, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({
    code: STATUS_ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
}
