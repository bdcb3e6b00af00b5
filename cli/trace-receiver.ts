/**
 * A minimal OTLP/HTTP trace receiver on loopback (JSON encoding, as the OTLP/HTTP exporter sends),
 * and a terminal view of a trace as an indented tree with durations. The demo's embedded trace view,
 * and the real endpoint the tracing tests export to.
 */
import { createServer } from 'node:http';
import { gunzipSync } from 'node:zlib';

export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  readonly kind: number;
  readonly startNs: bigint;
  readonly endNs: bigint;
  readonly attributes: Readonly<Record<string, string | number | boolean>>;
  readonly statusCode: number;
  readonly service: string;
}

export const SPAN_KIND = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 } as const;

export interface TraceReceiver {
  /** The base URL, for OTEL_EXPORTER_OTLP_ENDPOINT. */
  readonly url: string;
  readonly spans: ReceivedSpan[];
  /** Every export as it came (JSON), when asked for: what a test scans for what must never be exported. */
  readonly bodies: string[];
  waitFor(match: (spans: readonly ReceivedSpan[]) => boolean, timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

export async function startTraceReceiver(options: { keepBodies?: boolean } = {}): Promise<TraceReceiver> {
  const spans: ReceivedSpan[] = [];
  const bodies: string[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      try {
        if (request.method !== 'POST' || request.url !== '/v1/traces') throw new Error('not found');
        let body = Buffer.concat(chunks);
        if (request.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        const text = body.toString('utf8');
        if (options.keepBodies) bodies.push(text);
        spans.push(...parseExport(JSON.parse(text)));
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } catch (error) {
        response.writeHead(400).end(String((error as Error).message));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    bodies,
    async waitFor(match, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (!match(spans)) {
        if (Date.now() > deadline) return false;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}

function parseExport(document: {
  resourceSpans?: {
    resource?: { attributes?: { key: string; value: OtlpValue }[] };
    scopeSpans?: { spans?: Record<string, unknown>[] }[];
  }[];
}): ReceivedSpan[] {
  const received: ReceivedSpan[] = [];
  for (const resourceSpans of document.resourceSpans ?? []) {
    const resource = attributesOf(resourceSpans.resource?.attributes);
    for (const scope of resourceSpans.scopeSpans ?? []) {
      for (const span of scope.spans ?? []) {
        const parent = hex(span.parentSpanId);
        received.push({
          traceId: hex(span.traceId) ?? '',
          spanId: hex(span.spanId) ?? '',
          parentSpanId: parent === '' ? undefined : parent,
          name: String(span.name),
          kind: Number(span.kind),
          startNs: BigInt(String(span.startTimeUnixNano)),
          endNs: BigInt(String(span.endTimeUnixNano)),
          attributes: attributesOf(span.attributes as { key: string; value: OtlpValue }[] | undefined),
          statusCode: Number((span.status as { code?: number } | undefined)?.code ?? 0),
          service: String(resource['service.name'] ?? ''),
        });
      }
    }
  }
  return received;
}

function attributesOf(
  list: readonly { key: string; value: OtlpValue }[] | undefined,
): Record<string, string | number | boolean> {
  const attributes: Record<string, string | number | boolean> = {};
  for (const { key, value } of list ?? []) {
    const v =
      value.stringValue ??
      value.boolValue ??
      value.doubleValue ??
      (value.intValue === undefined ? undefined : Number(value.intValue));
    if (v !== undefined) attributes[key] = v;
  }
  return attributes;
}

/** Ids arrive hex-encoded (OTLP/JSON); base64 is accepted too. */
function hex(id: unknown): string | undefined {
  if (typeof id !== 'string') return undefined;
  return /^[0-9a-f]*$/i.test(id) ? id.toLowerCase() : Buffer.from(id, 'base64').toString('hex');
}

const KIND_NAMES: Record<number, string> = {
  1: 'internal',
  2: 'server',
  3: 'client',
  4: 'producer',
  5: 'consumer',
};

/** The spans of one trace as an indented tree: name, kind, duration, service. */
export function formatTrace(spans: readonly ReceivedSpan[], traceId: string): string {
  const ofTrace = spans
    .filter((span) => span.traceId === traceId)
    .sort((a, b) => (a.startNs < b.startNs ? -1 : 1));
  const ids = new Set(ofTrace.map((span) => span.spanId));
  const lines: string[] = [];
  const origin = ofTrace[0]?.startNs ?? 0n;
  const print = (span: ReceivedSpan, depth: number) => {
    const ms = (Number(span.endNs - span.startNs) / 1e6).toFixed(1);
    const at = (Number(span.startNs - origin) / 1e6).toFixed(1);
    const failed = span.statusCode === 2 ? '  ✗' : '';
    lines.push(
      `${'  '.repeat(depth)}${span.name} (${KIND_NAMES[span.kind] ?? span.kind}, ${ms} ms, +${at} ms) [${span.service}]${failed}`,
    );
    for (const child of ofTrace.filter((s) => s.parentSpanId === span.spanId)) print(child, depth + 1);
  };
  for (const root of ofTrace.filter((span) => span.parentSpanId === undefined || !ids.has(span.parentSpanId)))
    print(root, 0);
  return lines.join('\n');
}
