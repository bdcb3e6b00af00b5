import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../adapter/telemetry/log.ts';
import {
  type ReceivedSpan,
  SPAN_KIND,
  startTraceReceiver,
  type TraceReceiver,
} from '../../cli/trace-receiver.ts';
import { type LocalManager, startLocalManager } from '../../manager/manager.ts';
import { RESPONSE_EVENT_EXCHANGE, requestQueueName } from '../../protocol/index.ts';
import { writeTarGz } from '../helpers/archives.ts';
import { useTempDirs } from '../helpers/files.ts';
import { AMQP_URL, connectTestBroker, type Observer, type TestBroker, uniqueType } from './helpers/broker.ts';
import { buildProject, type ChildHost, sourceAs, spawnHost, waitUntil } from './helpers/host.ts';
import { eventsUntil, exampleChainConfig, submit } from './helpers/manager.ts';

const tempDir = useTempDirs({ until: 'file' });
const archiveType = uniqueType('extract-archive');
const metadataType = uniqueType('extract-metadata');
const workflowType = uniqueType('archive-to-metadata');
const requestId = `${workflowType}-1`;

let broker: TestBroker;
let receiver: TraceReceiver;
let manager: LocalManager;
let adapter: ChildHost;
let events: Observer;
let outcome: Awaited<ReturnType<typeof eventsUntil>>;
let adapterExit: number | null;
let bundles: string;

beforeAll(async () => {
  broker = await connectTestBroker();
  broker.forget(archiveType);
  broker.forget(metadataType);
  receiver = await startTraceReceiver();
  bundles = await buildProject({
    'extract-archive.ts': await sourceAs('functions/extract-archive.ts', archiveType),
    'extract-metadata.ts': await sourceAs('functions/extract-metadata.ts', metadataType),
  });
  manager = await startLocalManager({
    url: AMQP_URL,
    log: createLogger('error', () => undefined),
    config: exampleChainConfig({ archive: archiveType, metadata: metadataType, workflow: workflowType }),
  });
  events = await broker.observe(RESPONSE_EVENT_EXCHANGE, '');
  adapter = spawnHost(bundles, {
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_SERVICE_NAME: 'regards-worker-it',
    OTEL_TRACES_SAMPLER: 'always_on',
  });
  await waitUntil(() => adapter.output().includes('"msg":"started"'), 20_000, 'the adapter to start');

  const dir = await tempDir();
  const archive = join(dir, 'products.tar.gz');
  await writeTarGz(archive, [
    {
      path: 'granule.geojson',
      data: JSON.stringify({
        type: 'Feature',
        geometry: { type: 'Point', coordinates: [1.5, 43.6] },
        properties: {},
      }),
    },
    { path: 'readme.txt', data: 'hello' },
  ]);
  await submit(broker, { requestId, contentType: workflowType, body: { archive, target: join(dir, 'out') } });
  outcome = await eventsUntil(events, requestId, ['SUCCESS', 'ERROR', 'INVALID_CONTENT']);
  // Stop the adapter: its spans must all be flushed by the time it exits.
  adapter.process.kill('SIGTERM');
  adapterExit = await adapter.exited;
});

afterAll(async () => {
  adapter?.process.kill('SIGKILL');
  await manager?.stop();
  await receiver?.close();
  await broker?.close();
});

describe('a two-step workflow through the local manager', () => {
  it('runs extract-archive then extract-metadata and answers SUCCESS with the GeoJSON', () => {
    expect(outcome.states).toEqual(['GRANTED', 'GRANTED', 'SUCCESS']);
    const collection = JSON.parse(Buffer.from(outcome.last?.content ?? '', 'base64').toString());
    expect(collection.type).toBe('FeatureCollection');
    expect(collection.features.map((f: { id: string }) => f.id)).toEqual(['granule.geojson', 'readme.txt']);
    expect(collection.features[0].geometry).toEqual({ type: 'Point', coordinates: [1.5, 43.6] });
  });

  it('tells the requester with the exact ResponseEvent headers', () => {
    const last = outcome.messages.at(-1);
    expect(last?.headers).toEqual({
      'regards.tenant': 'PROJECT1',
      'regards.request.id': requestId,
      'regards.request.owner': 'it-owner',
      'regards.request.session': 'it-session',
      'regards.request.content_type': workflowType,
      'regards.worker_id': metadataType,
      'regards.converter': 'GSON',
      'regards.type': 'fr.cnes.regards.modules.workermanager.amqp.events.out.ResponseEvent',
    });
    expect(outcome.last).toMatchObject({
      state: 'SUCCESS',
      requestId,
      type: 'EXTRACTION',
      requestOwner: 'it-owner',
      messages: [],
    });
  });
});

describe('one trace for the whole chain', () => {
  const processOf = (type: string) => (s: ReceivedSpan) => s.name === `process ${requestQueueName(type)}`;

  it('exports every span by the time the adapter has shut down', async () => {
    expect(adapterExit).toBe(0);
    expect(receiver.spans.some(processOf(metadataType))).toBe(true);
  });

  it('keeps one trace id across both workers, the second descending from the first one’s publish', () => {
    const first = receiver.spans.find(processOf(archiveType));
    const second = receiver.spans.find(processOf(metadataType));
    if (first === undefined || second === undefined) throw new Error('process spans missing');
    expect(second.traceId).toBe(first.traceId);
    const parent = receiver.spans.find((s) => s.spanId === second.parentSpanId);
    expect(parent).toMatchObject({
      name: 'send regards.worker.manager.response',
      kind: SPAN_KIND.producer,
      traceId: first.traceId,
    });
    expect(parent?.parentSpanId).toBe(first.spanId);
    const inTrace = receiver.spans.filter((s) => s.traceId === first.traceId);
    expect(inTrace.map((s) => s.name).sort()).toEqual(
      [
        `process ${requestQueueName(archiveType)}`,
        `handle ${archiveType}`,
        'send regards.worker.manager.response',
        `process ${requestQueueName(metadataType)}`,
        `handle ${metadataType}`,
        'send regards.worker.manager.response',
      ].sort(),
    );
  });

  it('names, kinds and attributes follow the messaging conventions', () => {
    const first = receiver.spans.find(processOf(archiveType));
    expect(first).toMatchObject({ kind: SPAN_KIND.consumer, service: 'regards-worker-it' });
    expect(first?.attributes).toMatchObject({
      'messaging.system': 'rabbitmq',
      'messaging.destination.name': requestQueueName(archiveType),
      'messaging.operation.type': 'process',
      'messaging.rabbitmq.destination.routing_key': '#',
      'messaging.message.conversation_id': requestId,
      'regards.worker.type': archiveType,
      'regards.attempt': 1,
      'regards.outcome': 'success',
    });
    const send = receiver.spans.find(
      (s) => s.parentSpanId === first?.spanId && s.kind === SPAN_KIND.producer,
    );
    expect(send?.attributes).toMatchObject({
      'messaging.system': 'rabbitmq',
      'messaging.destination.name': 'regards.worker.manager.response',
      'messaging.operation.type': 'send',
      'messaging.rabbitmq.destination.routing_key': requestId,
      'messaging.message.conversation_id': requestId,
    });
    const handle = receiver.spans.find((s) => s.name === `handle ${archiveType}`);
    expect(handle).toMatchObject({ kind: SPAN_KIND.internal, parentSpanId: first?.spanId });
  });
});

describe('a function issuing new requests', () => {
  it('extract-archive fans out one product-file request per file, which the manager dispatches to extract-metadata', async () => {
    const dir = await tempDir();
    const archive = join(dir, 'two.tar.gz');
    await writeTarGz(archive, [
      { path: 'a.txt', data: 'a' },
      { path: 'b.txt', data: 'b' },
    ]);
    const fanOut = `${archiveType}-fan-out`;
    const host = spawnHost(bundles);
    await waitUntil(() => host.output().includes('"msg":"started"'), 20_000, 'the adapter to start');
    try {
      const body = { archive, target: join(dir, 'out'), metadataRequests: true };
      await submit(broker, { requestId: fanOut, contentType: 'archive', body });
      expect((await eventsUntil(events, fanOut, ['SUCCESS'])).last?.state).toBe('SUCCESS');
      for (const [n, name] of [
        [1, 'a.txt'],
        [2, 'b.txt'],
      ] as const) {
        const child = await eventsUntil(events, `${fanOut}-${n}`, ['SUCCESS', 'ERROR', 'INVALID_CONTENT']);
        expect(child.states).toEqual(['GRANTED', 'SUCCESS']);
        expect(child.messages.at(-1)?.headers['regards.worker_id']).toBe(metadataType);
        const feature = JSON.parse(Buffer.from(child.last?.content ?? '', 'base64').toString());
        expect(feature).toMatchObject({ id: name, type: 'Feature' });
      }
    } finally {
      host.process.kill('SIGTERM');
      await host.exited;
    }
  });
});
