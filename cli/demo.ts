/**
 * `npm run demo`: builds the functions, starts the local Worker Manager and the adapter on the local
 * RabbitMQ, submits a sample archive through the two-step workflow extract-archive → extract-metadata,
 * and prints each ResponseEvent and the chain's trace (as a tree here, or where to find it in Jaeger).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { create as createTar } from 'tar';
import { createLogger, DEFAULTS, inRequesterSpan, redactUrl, startTracing } from '../adapter/index.ts';
import { build } from '../build/build.ts';
import { parseManagerConfig } from '../manager/config.ts';
import { startLocalManager } from '../manager/manager.ts';
import { parseModel } from '../manager/regards-model.ts';
import type { ResponseEvent } from '../manager/requester.ts';
import { connectRequester, type Requester } from '../manager/requester.ts';
import type { Verdict } from '../manager/rs-fem-stand-in.ts';
import { CLI_ENTRY, EXIT, FROM_SOURCES, type Io } from './io.ts';
import { formatTrace, SPAN_KIND, startTraceReceiver, type TraceReceiver } from './trace-receiver.ts';

const WORKFLOW = 'archive-to-metadata';
const ROOT = resolve(import.meta.dirname, '..');

export async function demoCommand(args: readonly string[], io: Io): Promise<number> {
  parseArgs({ args: [...args], options: {} });
  if (!FROM_SOURCES) {
    io.err(
      'regards-worker demo runs the examples of the regards-worker repository (npm run demo there); ' +
        'in your own project, regards-worker dev runs your functions\n',
    );
    return EXIT.usage;
  }
  const url = io.env.AMQP_URL ?? DEFAULTS.AMQP_URL;
  let requester: Requester;
  try {
    requester = await connectRequester(url);
  } catch (error) {
    io.err(
      `RabbitMQ is not reachable at ${redactUrl(url)} (${(error as Error).message}).\n` +
        'Start it with: rabbitmq-server -detached && rabbitmqctl await_startup\n',
    );
    return EXIT.failed;
  }
  const external = io.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const receiver: TraceReceiver | undefined = external ? undefined : await startTraceReceiver();
  const endpoint = external ?? receiver?.url ?? '';
  const tracing = await startTracing({ ...io.env, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint }, 'regards-demo');
  let adapter: ChildProcess | undefined;
  let work: string | undefined;
  const featureUpdates: { requestId: string; body: unknown; verdict: Verdict }[] = [];
  const manager = await startLocalManager({
    url,
    config: parseManagerConfig(JSON.parse(await readFile(join(ROOT, 'deploy/regards-workers.json'), 'utf8'))),
    // The product's model, which an administrator imports into REGARDS: the stand-in for rs-fem checks against it.
    models: [parseModel(await readFile(join(ROOT, 'deploy/models/DEMO_PRODUCT.xml'), 'utf8'))],
    log: createLogger('warn', (line) => io.err(`${line}\n`)),
    onFeatureUpdate: (update) => featureUpdates.push(update),
  });
  try {
    io.out(`regards-worker demo: ${WORKFLOW} (extract-archive → extract-metadata) on ${redactUrl(url)}\n\n`);
    const built = await build({ root: ROOT });
    io.out(
      `built ${built.manifest.workers.map((w) => w.type).join(', ')} into dist/ in ${Math.round(built.durationMs)} ms\n`,
    );

    adapter = await startAdapter(io, url, endpoint, (type) => manager.state.isAlive(type, Date.now()));
    io.out('local Worker Manager and adapter started; the manager has seen both workers’ heartbeats\n');

    const folder = await mkdtemp(join(tmpdir(), 'regards-demo-'));
    work = folder;
    const traceId = await runWorkflow(io, requester, folder);
    await runProduct(io, requester, folder, featureUpdates);

    // Stopping the adapter flushes its spans; then ours.
    adapter.kill('SIGTERM');
    await new Promise((done) => adapter?.once('exit', done));
    await tracing.shutdown();
    await printTrace(io, traceId, endpoint, receiver);
    return EXIT.ok;
  } finally {
    if (adapter !== undefined && adapter.exitCode === null) {
      adapter.kill('SIGTERM');
      await new Promise((done) => adapter?.once('exit', done));
    }
    await manager.stop();
    await requester.close();
    await tracing.shutdown().catch(() => undefined);
    await receiver?.close();
    // The sample archive and what was extracted from it.
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  }
}

/** The host as `regards-worker start` runs it, on the built examples; resolves once the manager has seen both types. */
async function startAdapter(
  io: Io,
  url: string,
  endpoint: string,
  isAlive: (type: string) => boolean,
): Promise<ChildProcess> {
  const adapter = spawn(process.execPath, [CLI_ENTRY, 'start'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...io.env,
      AMQP_URL: url,
      WORKER_BUNDLES: join(ROOT, 'dist'),
      WORKER_HEALTH_PORT: '0',
      WORKER_HEARTBEAT_SECONDS: '1',
      WORKER_LOG_LEVEL: 'warn',
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_SERVICE_NAME: io.env.OTEL_SERVICE_NAME ?? 'regards-worker',
    },
  });
  const started = Date.now();
  while (!['extract-archive', 'extract-metadata'].every(isAlive)) {
    if (Date.now() - started > 30_000 || adapter.exitCode !== null) {
      adapter.kill('SIGTERM');
      throw new Error('the adapter did not start');
    }
    await sleep(100);
  }
  return adapter;
}

/** The two-step workflow on a sample archive, traced from the submit; returns its trace id. */
async function runWorkflow(io: Io, requester: Requester, folder: string): Promise<string> {
  const archive = await sampleArchive(folder);
  const requestId = `demo-${randomUUID()}`;
  io.out(`sample archive ${archive}\nrequest ${requestId}, content type ${WORKFLOW}\n\n`);
  const { traceId, result: final } = await inRequesterSpan(`submit ${WORKFLOW}`, (traceHeaders) =>
    requester.submit(
      { requestId, tenant: 'DEMO', owner: 'demo', session: 'demo', contentType: WORKFLOW },
      Buffer.from(JSON.stringify({ archive, target: join(folder, 'extracted') })),
      {
        extraHeaders: traceHeaders,
        timeoutMs: 60_000,
        onEvent: (event) => io.out(describeEvent(event)),
      },
    ),
  );
  if (final?.state !== 'SUCCESS')
    throw new Error(`the workflow ended ${final?.state ?? 'without a final answer'}`);
  return traceId;
}

/** One product of the archive, known to REGARDS by its URN: extract-metadata also updates its feature. */
async function runProduct(
  io: Io,
  requester: Requester,
  folder: string,
  featureUpdates: readonly { body: unknown; verdict: Verdict }[],
): Promise<void> {
  const product = join(folder, 'extracted', 'products', 'granule-3.nc');
  const urn = `URN:FEATURE:DATA:DEMO:${randomUUID()}:V1`;
  io.out(`\nrequest for one product, content type product-file, feature ${urn}\n`);
  const single = await requester.submit(
    {
      requestId: `demo-${randomUUID()}`,
      tenant: 'DEMO',
      owner: 'demo',
      session: 'demo',
      contentType: 'product-file',
    },
    Buffer.from(JSON.stringify({ path: product, feature: { urn, model: 'DEMO_PRODUCT' } })),
    { timeoutMs: 30_000, onEvent: (event) => io.out(describeEvent(event)) },
  );
  if (single?.state !== 'SUCCESS')
    throw new Error(`the product request ended ${single?.state ?? 'without a final answer'}`);
  io.out(describeProduct(single));
  // Confirmed before the response was published; the stand-in for rs-fem logs it as it comes.
  for (let waited = 0; featureUpdates.length === 0 && waited < 5_000; waited += 50) await sleep(50);
  for (const update of featureUpdates) io.out(describeFeatureUpdate(update.body, update.verdict));
}

/** Where the trace went, or the trace itself as our own receiver got it. */
async function printTrace(io: Io, traceId: string, endpoint: string, receiver: TraceReceiver | undefined) {
  io.out(`\ntrace ${traceId}\n`);
  if (receiver === undefined) {
    io.out(`exported to ${endpoint}; in Jaeger: http://localhost:16686/trace/${traceId}\n`);
    return;
  }
  const metadataSpan = (s: { traceId: string; kind: number; name: string }) =>
    s.traceId === traceId && s.kind === SPAN_KIND.consumer && s.name.includes('extract-metadata');
  await receiver.waitFor((spans) => spans.some(metadataSpan), 10_000);
  io.out(`${formatTrace(receiver.spans, traceId)}\n`);
  io.out('(no OTLP endpoint configured: set OTEL_EXPORTER_OTLP_ENDPOINT to send traces to Jaeger instead)\n');
}

/** What extract-metadata read of a product: its format, footprint and time coverage. */
function describeProduct(event: ResponseEvent): string {
  const feature = JSON.parse(Buffer.from(event.content ?? '', 'base64').toString('utf8')) as {
    bbox?: number[];
    properties: {
      start_datetime?: string;
      end_datetime?: string;
      product?: { format?: string; calendar?: string };
    };
  };
  const { bbox, properties } = feature;
  const coverage =
    properties.start_datetime === undefined
      ? 'none'
      : `${properties.start_datetime} → ${properties.end_datetime} (calendar ${properties.product?.calendar})`;
  return `  ${properties.product?.format ?? 'a file'}: footprint bbox ${bbox === undefined ? 'none' : JSON.stringify(bbox)}, time coverage ${coverage}\n`;
}

/** A feature update as the stand-in for rs-fem received it: the feature and what changes. */
function describeFeatureUpdate(body: unknown, verdict: Verdict): string {
  const { feature } = body as {
    feature: { urn: string; model: string; properties: Record<string, unknown>; geometry?: unknown };
  };
  const changes = JSON.stringify({
    properties: feature.properties,
    ...(feature.geometry === undefined ? {} : { geometry: feature.geometry }),
  });
  const fem =
    verdict.verdict === 'refused'
      ? `rs-fem would refuse it: ${verdict.problems.join('; ')}`
      : `rs-fem would store it (request id ${verdict.verdict === 'duplicate' ? 'seen before' : 'new'}, model ${feature.model} checked)`;
  return `FeatureUpdateRequestEvent to rs-fem  feature ${feature.urn} (model ${feature.model})\n  ${changes.length > 160 ? `${changes.slice(0, 157)}…` : changes}\n  ${fem}\n`;
}

/** One line per ResponseEvent; a SUCCESS's GeoJSON content follows, one line per feature. */
function describeEvent(event: ResponseEvent): string {
  const worker = String(event.headers['regards.worker_id'] ?? '');
  const what = event.observed === undefined ? 'ResponseEvent' : `(${event.observed})`.padEnd(13);
  const line = `${what} ${event.state.padEnd(8)} worker ${worker}${event.messages.length > 0 ? `: ${event.messages.join('; ')}` : ''}\n`;
  if (event.content === undefined) return line;
  const content = JSON.parse(Buffer.from(event.content, 'base64').toString('utf8')) as {
    type?: string;
    features?: unknown[];
  };
  const features = content.features ?? [content];
  const shape =
    content.type === 'FeatureCollection' ? `FeatureCollection of ${features.length} features` : content.type;
  return `${line}  content: ${shape}\n${features.map((f) => `    ${JSON.stringify(f)}\n`).join('')}`;
}

/** A .tar.gz of three products: two GeoJSON granules and a text note. */
async function sampleArchive(work: string): Promise<string> {
  const products = join(work, 'products');
  await mkdir(products);
  const granule = (west: number, south: number, start: string) => ({
    type: 'Feature',
    geometry: {
      type: 'Polygon',
      coordinates: [
        [
          [west, south],
          [west + 1, south],
          [west + 1, south + 1],
          [west, south + 1],
          [west, south],
        ],
      ],
    },
    properties: { start_datetime: start, platform: 'demo-sat' },
  });
  await writeFile(
    join(products, 'granule-1.geojson'),
    JSON.stringify(granule(1.2, 43.5, '2024-05-01T10:00:00Z')),
  );
  await writeFile(
    join(products, 'granule-2.geojson'),
    JSON.stringify(granule(2.2, 44.5, '2024-05-01T10:05:00Z')),
  );
  // A NetCDF-4 product as missions archive them (functions/samples/, made by ncgen from its CDL).
  await copyFile(join(ROOT, 'functions/samples/sea-surface-temperature.nc'), join(products, 'granule-3.nc'));
  await writeFile(join(products, 'README.txt'), 'Two GeoJSON granules and one NetCDF-4 product.\n');
  const archive = join(work, 'products.tar.gz');
  await createTar({ gzip: true, file: archive, cwd: work }, ['products']);
  return archive;
}
