/**
 * The generic image, as users run it: built from deploy/Dockerfile (`npm run image`; a no-op when
 * nothing changed), run read-only on the host's network with bundles of this file's own mounted
 * read-only at /bundles, against the broker on 127.0.0.1 in a virtual host of its own. Every outcome,
 * heartbeats, a two-step workflow through the local manager traced to a receiver, the runtime user, the
 * health check, and a drain on `podman stop`.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chown, copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { createLogger } from '../../adapter/telemetry/log.ts';
import { build as buildExamplesInto } from '../../build/build.ts';
import { buildImage, containerEngine, type Engine, engineRun, IMAGE } from '../../build/image.ts';
import { startTraceReceiver, type TraceReceiver } from '../../cli/trace-receiver.ts';
import { type LocalManager, startLocalManager } from '../../manager/manager.ts';
import {
  DEAD_LETTER_QUEUE,
  HEARTBEAT_EXCHANGE,
  RESPONSE_EVENT_EXCHANGE,
  RESPONSE_EXCHANGE,
  requestQueueName,
} from '../../protocol/index.ts';
import { writeTarGz } from '../helpers/archives.ts';
import { useTempDirs } from '../helpers/files.ts';
import {
  AMQP_URL,
  connectTestBroker,
  type Observer,
  type Received,
  rabbitmqctl,
  type TestBroker,
  uniqueType,
} from './helpers/broker.ts';
import {
  buildProject,
  type ChildHost,
  type Env,
  ROOT,
  sourceAs,
  spawnProcess,
  waitUntil,
} from './helpers/host.ts';
import { eventsUntil, exampleChainConfig, submit } from './helpers/manager.ts';
import { CONTAINER_ENGINE, needs } from './helpers/requirements.ts';

const ready = await needs('the image tests', [CONTAINER_ENGINE]);

const RUNTIME_UID = 1000;
const DRAIN_SECONDS = 10;
const tempDir = useTempDirs({ until: 'file' });
const run = randomUUID().slice(0, 8);
const vhost = `it-image-${run}`;
const url = `${AMQP_URL.replace(/\/$/, '')}/${vhost}`;
const behaveType = uniqueType('image');
const archiveType = uniqueType('image-archive');
const metadataType = uniqueType('image-metadata');
const workflowType = uniqueType('image-workflow');

let engine: Engine;
let broker: TestBroker;
let receiver: TraceReceiver;
let manager: LocalManager;
let bundles: string;
let data: string;
const containers: string[] = [];

beforeAll(async () => {
  if (!ready) return;
  engine = await containerEngine();
  const built = await buildImage({ log: () => undefined });
  console.log(`image ${built.name}: ${(built.sizeBytes / 1e6).toFixed(0)} MB on ${built.base}`);
  await rabbitmqctl('add_vhost', vhost);
  await rabbitmqctl('set_permissions', '-p', vhost, 'guest', '.*', '.*', '.*');
  broker = await connectTestBroker(url);
  receiver = await startTraceReceiver();
  bundles = await buildProject({
    [`${behaveType}.ts`]: await sourceAs('test/fixtures/behave.ts', behaveType),
    [`${archiveType}.ts`]: await sourceAs('functions/extract-archive.ts', archiveType),
    [`${metadataType}.ts`]: await sourceAs('functions/extract-metadata.ts', metadataType),
  });
  // What handlers read and write, mounted at /data: the runtime user's, as the image's own volume is.
  data = await tempDir();
  await chown(data, RUNTIME_UID, RUNTIME_UID).catch(() => undefined);
}, 600_000);

afterAll(async () => {
  for (const name of containers)
    await engineRun(engine, ['rm', '-f', '-t', '0', name]).catch(() => undefined);
  await manager?.stop();
  await receiver?.close();
  await broker?.close();
  await rabbitmqctl('delete_vhost', vhost).catch(() => undefined);
}, 60_000);

interface Container extends ChildHost {
  readonly name: string;
  readonly healthPort: number;
}

/** `podman run` of the image, attached: its output is the host's log, its exit code the host's. */
async function startContainer(
  env: Env = {},
  args: readonly string[] = [],
  mounts: readonly string[] = ['-v', `${bundles}:/bundles:ro`, '-v', `${data}:/data`],
): Promise<Container> {
  const name = `regards-worker-it-${run}-${containers.length}`;
  containers.push(name);
  const healthPort = 20_000 + Math.floor(Math.random() * 5_000);
  const variables = {
    AMQP_URL: url,
    WORKER_HEALTH_PORT: String(healthPort),
    WORKER_HEARTBEAT_SECONDS: '0.2',
    WORKER_RETRY_BASE_SECONDS: '0.05',
    WORKER_RETRY_MAX_SECONDS: '0.2',
    WORKER_MAX_ATTEMPTS: '2',
    WORKER_DRAIN_SECONDS: String(DRAIN_SECONDS),
    WORKER_TENANT: 'PROJECT1',
    ...env,
  };
  const child = spawnProcess(
    engine.command,
    [
      'run',
      '--rm',
      '--name',
      name,
      '--network',
      'host',
      '--read-only',
      ...mounts,
      ...Object.entries(variables).flatMap(([key, value]) => ['-e', `${key}=${value}`]),
      ...args,
      IMAGE,
    ],
    engine.env,
  );
  await waitUntil(
    async () =>
      (await fetch(`http://127.0.0.1:${healthPort}/readyz`).then(
        (response) => response.ok,
        () => false,
      )) || child.output().includes('"msg":"cannot start"'),
    30_000,
    'the container to be ready',
  ).catch((error: Error) => {
    throw new Error(`${error.message}; its output:\n${child.output().slice(-3000)}`);
  });
  return Object.assign(child, { name, healthPort });
}

const execFileAsync = promisify(execFile);
const withoutHealthPort = ({ WORKER_HEALTH_PORT: _port, ...env }: Env): Env => env;
const buildExamples = (outDir: string) => buildExamplesInto({ root: ROOT, outDir });
const requestIdOf = (message: Received) => String(message.headers['regards.request.id']);
const statusOf = (message: Received) => (message.json as { status?: string } | undefined)?.status;

describe.runIf(ready)('the image serving bundles mounted at /bundles', () => {
  let container: Container;
  let responses: Observer;
  let deadLetters: Observer;
  let heartbeats: Observer;

  beforeAll(async () => {
    responses = await broker.observe(RESPONSE_EXCHANGE);
    deadLetters = await broker.observe(DEAD_LETTER_QUEUE, '');
    heartbeats = await broker.observe(HEARTBEAT_EXCHANGE);
    manager = await startLocalManager({
      url,
      log: createLogger('error', () => undefined),
      config: exampleChainConfig({ archive: archiveType, metadata: metadataType, workflow: workflowType }),
    });
    container = await startContainer({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_SERVICE_NAME: 'regards-worker-image',
      OTEL_TRACES_SAMPLER: 'always_on',
    });
  }, 60_000);

  it('runs as the unprivileged user, healthy by its own health check', async () => {
    const pid = (await engineRun(engine, ['inspect', '--format', '{{.State.Pid}}', container.name])).trim();
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    expect(/^Uid:\s+(\d+)/m.exec(status)?.[1]).toBe(String(RUNTIME_UID));
    // PID 1 of the container is node itself, so that a stop's SIGTERM reaches the host.
    expect(status).toMatch(/^NSpid:\s+\d+\s+1$/m);
    await expect(engineRun(engine, ['healthcheck', 'run', container.name])).resolves.toBeDefined();
  });

  it('answers each outcome, dead-letters after the last attempt, and heartbeats', async () => {
    const actions = ['succeed', 'invalid', 'error'] as const;
    for (const action of actions)
      await broker.publishRequest(behaveType, { requestId: `${behaveType}-${action}`, body: { action } });
    await broker.publishRequest(behaveType, { requestId: `${behaveType}-throw`, body: { action: 'throw' } });
    const answers = await responses.waitFor(
      (m) => requestIdOf(m).startsWith(`${behaveType}-`) && statusOf(m) !== 'RUNNING',
      3,
    );
    expect(Object.fromEntries(answers.map((m) => [requestIdOf(m), statusOf(m)]))).toEqual({
      [`${behaveType}-succeed`]: 'SUCCESS',
      [`${behaveType}-invalid`]: 'INVALID_CONTENT',
      [`${behaveType}-error`]: 'ERROR',
    });
    const [dead] = await deadLetters.waitFor((m) => requestIdOf(m) === `${behaveType}-throw`);
    expect(String(dead?.headers['x-exception-message'])).toMatch(/^failed after 2 attempts/);
    const beats = await heartbeats.waitFor((m) => (m.json as { type?: string }).type === behaveType, 3);
    expect(beats.length).toBeGreaterThanOrEqual(3);
  });

  it('runs a two-step workflow through the local manager, in one trace', async () => {
    await mkdir(join(data, 'in'));
    await writeTarGz(join(data, 'in', 'products.tar.gz'), [
      { path: 'granule.geojson', data: JSON.stringify({ type: 'Feature', geometry: null, properties: {} }) },
    ]);
    await chown(join(data, 'in', 'products.tar.gz'), RUNTIME_UID, RUNTIME_UID).catch(() => undefined);
    const events = await broker.observe(RESPONSE_EVENT_EXCHANGE, '');
    const requestId = `${workflowType}-1`;
    await submit(broker, {
      requestId,
      contentType: workflowType,
      body: { archive: '/data/in/products.tar.gz', target: '/data/out' },
    });
    const outcome = await eventsUntil(events, requestId, ['SUCCESS', 'ERROR', 'INVALID_CONTENT']);
    expect(outcome.states).toEqual(['GRANTED', 'GRANTED', 'SUCCESS']);
    const process = (type: string) => `process ${requestQueueName(type)}`;
    await receiver.waitFor((spans) => spans.some((s) => s.name === process(metadataType)), 20_000);
    const first = receiver.spans.find((s) => s.name === process(archiveType));
    const second = receiver.spans.find((s) => s.name === process(metadataType));
    expect(first?.service).toBe('regards-worker-image');
    expect(second?.traceId).toBe(first?.traceId);
  });

  it('podman stop drains a request in flight, then exits 0 within the drain time', async () => {
    const requestId = `${behaveType}-slow`;
    await broker.publishRequest(behaveType, { requestId, body: { action: 'sleep', ms: 2_000 } });
    const metrics = `http://127.0.0.1:${container.healthPort}/metrics`;
    const inFlight = new RegExp(`regards_worker_requests_in_flight\\{worker_type="${behaveType}"\\} 1`);
    await waitUntil(
      async () => inFlight.test(await (await fetch(metrics)).text()),
      10_000,
      'the request in flight',
    );
    const started = Date.now();
    await engineRun(engine, ['stop', '-t', String(DRAIN_SECONDS + 20), container.name]);
    const stoppedMs = Date.now() - started;
    expect(await container.exited).toBe(0);
    expect(stoppedMs).toBeLessThan(DRAIN_SECONDS * 1000);
    const [answer] = await responses.waitFor(
      (m) => requestIdOf(m) === requestId && statusOf(m) === 'SUCCESS',
    );
    expect(answer).toBeDefined();
    expect(container.output()).toContain('"msg":"stopped"');
  });
});

describe.runIf(ready)('the image file system', () => {
  it('is read-only but for /data, a volume the runtime user may write', async () => {
    const probe = (path: string) =>
      engineRun(engine, [
        'run',
        '--rm',
        '--read-only',
        '--no-healthcheck',
        '--entrypoint',
        'node',
        IMAGE,
        '-e',
        `require('node:fs').writeFileSync(${JSON.stringify(path)}, 'x'); console.log(process.getuid())`,
      ]);
    expect((await probe('/data/written')).trim()).toBe(String(RUNTIME_UID));
    await expect(probe('/app/written')).rejects.toThrow(/EROFS|EACCES/);
  });
});

describe.runIf(ready)('the image as deploy/kubernetes/worker.yaml runs it', () => {
  it('starts with its variables, its mounted files (one type of a whole build) and its memory limit, and serves', async () => {
    const [deployment] = parseAllDocuments(
      await readFile(join(ROOT, 'deploy/kubernetes/worker.yaml'), 'utf8'),
    )
      .map((doc) => doc.toJS())
      .filter((doc) => doc.kind === 'Deployment');
    const spec = deployment.spec.template.spec;
    const container = spec.containers[0];
    const env: Env = Object.fromEntries(
      container.env.map((v: { name: string; value?: string }) => [
        v.name,
        v.value ?? `${v.name.toLowerCase()}-it`,
      ]),
    );
    // The ConfigMap's files, as its items lay them out, from a build of the examples.
    const build = await tempDir();
    await buildExamples(build);
    const configMap = await tempDir();
    const volume = spec.volumes.find((v: { name: string }) => v.name === 'bundles');
    for (const item of volume.configMap.items as { key: string; path: string }[]) {
      const from = item.key === 'manifest.json' ? 'manifest.json' : `bundles/${item.key}`;
      await mkdir(join(configMap, item.path, '..'), { recursive: true });
      await copyFile(join(build, from), join(configMap, item.path));
    }
    // The Secret's file: the test broker's password, for the URL's user (guest here).
    const secrets = await tempDir();
    const secretVolume = spec.volumes.find((v: { name: string }) => v.name === 'amqp-secret');
    await writeFile(join(secrets, secretVolume.secret.items[0].path), 'guest\n');
    // As Kubernetes mounts them: readable by the pod's user (ConfigMap and Secret files are 0644).
    for (const dir of [configMap, secrets]) await execFileAsync('chmod', ['-R', 'a+rX', dir]);
    const mountOf = (name: string) =>
      container.volumeMounts.find((m: { name: string }) => m.name === name).mountPath;
    const memory = container.resources.limits.memory.replace(/i$/, '').toLowerCase();
    const deployed = await startContainer(
      // The broker of the test, and a free health port on the host's network; the rest as deployed.
      { ...withoutHealthPort(env), AMQP_URL: url.replace(/\/\/guest:guest@/, '//guest@') },
      ['--memory', memory, '--user', `${spec.securityContext.runAsUser}:${spec.securityContext.runAsGroup}`],
      [
        '-v',
        `${configMap}:${mountOf('bundles')}:ro`,
        '-v',
        `${secrets}:${mountOf('amqp-secret')}:ro`,
        '--tmpfs',
        mountOf('work'),
      ],
    );
    expect(deployed.output()).not.toContain('"msg":"cannot start"');
    // Its log comes through the engine, which may pass it on after /readyz has answered.
    await waitUntil(
      async () => deployed.output().includes('"workerTypes":["extract-metadata"]'),
      10_000,
      'the consuming line naming the one type',
    );
    const responses = await broker.observe(RESPONSE_EXCHANGE);
    const requestId = `it-deployed-${run}`;
    await broker.publishRequest('extract-metadata', {
      requestId,
      body: { path: '/tmp/no-such-product.nc' },
    });
    const [answer] = await responses.waitFor(
      (m) => requestIdOf(m) === requestId && statusOf(m) !== 'RUNNING',
    );
    expect(statusOf(answer as Received)).toBe('ERROR');
  });
});
