/**
 * A mission team's own worker project, made as the README says: this package packed (`npm pack`),
 * `init` in a folder outside the repository, the tarball installed there from npm's cache, and a
 * second worker that imports a third-party npm package. Then the project's own commands, each from
 * its installed regards-worker: its tests, type-check and lint, build, invoke, config and check, the
 * host (`start`) on a virtual host of its own with the local manager, `send` until SUCCESS; and the
 * generic image serving the project's bundles archive.
 */
import { type ExecFileOptions, execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { buildImage, containerEngine, type Engine, engineRun, IMAGE } from '../../build/image.ts';
import type { Manifest } from '../../sdk/bundle.ts';
import { useTempDirs } from '../helpers/files.ts';
import { AMQP_URL, rabbitmqctl } from './helpers/broker.ts';
import { type ChildHost, ROOT, spawnProcess, waitUntil } from './helpers/host.ts';
import { CONTAINER_ENGINE, KUSTOMIZE, needs } from './helpers/requirements.ts';

const imageReady = await needs('the worker project in the image', [CONTAINER_ENGINE]);
const kustomizeReady = await needs("the worker project's Kubernetes overlay", [KUSTOMIZE]);

const tempDir = useTempDirs({ until: 'file' });
const run = randomUUID().slice(0, 8);
const vhost = `it-package-${run}`;
const url = `${AMQP_URL.replace(/\/$/, '')}/${vhost}`;
const execFileAsync = promisify(execFile);

/** A worker of the team's that needs an npm package of the project's own (bundled by the build). */
const MEDIA_TYPE_WORKER = `import mime from 'mime';
import { defineWorker, invalid, success } from 'regards-worker';
import * as z from 'zod';

export default defineWorker({
  type: 'media-type',
  accepts: ['media-type-request'],
  produces: 'media-type-result',
  input: z.object({ file: z.string().min(1) }),
  output: z.object({ mediaType: z.string() }),
  handler({ body }) {
    const mediaType = mime.getType(body.file);
    if (mediaType === null) return invalid(\`file: no media type is known for \${body.file}\`);
    return success({ content: { mediaType } });
  },
});
`;

const MEDIA_TYPE_TEST = `import { invokeWorker } from 'regards-worker/testing';
import { expect, it } from 'vitest';
import worker from '../../functions/media-type.ts';

it('names the media type of a file', async () => {
  expect((await invokeWorker(worker, { file: 'quicklook.png' })).content).toEqual({ mediaType: 'image/png' });
  expect((await invokeWorker(worker, { file: 'notes.unknown-extension' })).status).toBe('INVALID_CONTENT');
});
`;

let project: string;
let env: Record<string, string>;
const children: ChildHost[] = [];

interface Ran {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A command in the project, with its node_modules/.bin first on the PATH (its Node 24, its regards-worker). */
async function inProject(
  command: string,
  args: readonly string[],
  options: ExecFileOptions = {},
): Promise<Ran> {
  try {
    const { stdout, stderr } = await execFileAsync(command, args, {
      cwd: project,
      env,
      timeout: 300_000,
      maxBuffer: 64 * 1024 * 1024,
      ...options,
    });
    return { code: 0, stdout: String(stdout), stderr: String(stderr) };
  } catch (error) {
    const failed = error as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof failed.code !== 'number') throw error;
    return { code: failed.code, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

const npm = (...args: string[]) => inProject('npm', args);
const regardsWorker = (...args: string[]) =>
  inProject(join(project, 'node_modules/.bin/regards-worker'), args);

/** A long-running project command (the host, the manager), stopped after the file. */
function spawnInProject(...args: string[]): ChildHost {
  // (Its working folder is this repository's: paths are given in full.)
  const child = spawnProcess(join(project, 'node_modules/.bin/regards-worker'), args, {
    ...env,
    WORKER_BUNDLES: join(project, 'dist'),
  });
  children.push(child);
  return child;
}

beforeAll(async () => {
  const packed = await tempDir();
  const pack = await execFileAsync('npm', ['pack', '--pack-destination', packed], { cwd: ROOT });
  const tarball = join(packed, String(pack.stdout).trim().split('\n').at(-1) ?? '');
  project = join(await tempDir(), 'mission-workers');
  // The compiled command that the tarball holds (prepack built it), run from outside the repository.
  await execFileAsync(
    process.execPath,
    [join(ROOT, 'lib/cli.mjs'), 'init', project, '--package', `file:${tarball}`],
    {
      cwd: packed,
    },
  );
  const manifest = JSON.parse(await readFile(join(project, 'package.json'), 'utf8'));
  const ours = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8'));
  manifest.dependencies.mime = ours.devDependencies.mime;
  await writeFile(join(project, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  await writeFile(join(project, 'functions/media-type.ts'), MEDIA_TYPE_WORKER);
  await writeFile(join(project, 'test/functions/media-type.test.ts'), MEDIA_TYPE_TEST);
  await writeFile(
    join(project, 'requests/media-type.json'),
    `${JSON.stringify({ file: 'quicklook.png' }, null, 2)}\n`,
  );
  env = {
    ...(process.env as Record<string, string>),
    PATH: `${join(project, 'node_modules/.bin')}:${process.env.PATH ?? ''}`,
    AMQP_URL: url,
    CI: process.env.CI ?? '',
  };
  // From npm's cache: what this repository's own install put there (the network only for what is missing).
  const installed = await npm('install', '--prefer-offline', '--no-audit', '--no-fund');
  expect(installed.code, installed.stderr).toBe(0);
  await rabbitmqctl('add_vhost', vhost);
  await rabbitmqctl('set_permissions', '-p', vhost, 'guest', '.*', '.*', '.*');
}, 600_000);

afterAll(async () => {
  for (const child of children) {
    if (child.process.exitCode === null) child.process.kill('SIGTERM');
    await child.exited;
  }
  await rabbitmqctl('delete_vhost', vhost).catch(() => undefined);
}, 60_000);

describe('a worker project made by regards-worker init, outside this repository', () => {
  it('installs a package of compiled JavaScript: the command starts from node_modules', async () => {
    const installed = join(project, 'node_modules/regards-worker');
    const manifest = JSON.parse(await readFile(join(installed, 'package.json'), 'utf8'));
    expect(Object.keys(manifest.exports)).toEqual(['.', './testing', './package.json']);
    expect(manifest.bin['regards-worker']).toMatch(/\.mjs$/);
    const help = await regardsWorker('--help');
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain('init <dir>');
  });

  it('passes its own tests, type-check and lint as generated, with the worker added', async () => {
    const tests = await npm('test');
    expect(tests.code, tests.stdout + tests.stderr).toBe(0);
    expect(tests.stdout).toMatch(/Tests\s+.*3 passed/);
    const typecheck = await npm('run', 'typecheck');
    expect(typecheck.code, typecheck.stdout + typecheck.stderr).toBe(0);
    const lint = await npm('run', 'lint');
    expect(lint.code, lint.stdout + lint.stderr).toBe(0);
  });

  it('builds its functions, the third-party package inside the bundle, and packs them', async () => {
    const built = await npm('run', 'build');
    expect(built.code, built.stderr).toBe(0);
    expect(built.stdout).toMatch(/sha256 [0-9a-f]{64}/);
    const manifest: Manifest = JSON.parse(await readFile(join(project, 'dist/manifest.json'), 'utf8'));
    expect(manifest.workers.map((worker) => worker.type)).toEqual(['hello-world', 'media-type']);
    const bundle = await readFile(join(project, 'dist/bundles/media-type.mjs'), 'utf8');
    // Self-contained: nothing imported but node's built-ins.
    expect(bundle.match(/from\s*["'][^"']+["']/g)?.filter((from) => !/["']node:/.test(from)) ?? []).toEqual(
      [],
    );
    expect(bundle).toContain('image/png');
  });

  it('invokes a worker on a good body and on a bad one', async () => {
    const good = await npm('run', 'invoke', '--', 'media-type', '--body', 'requests/media-type.json');
    expect(good.code, good.stderr).toBe(0);
    expect(good.stdout).toContain('"mediaType": "image/png"');
    await writeFile(join(project, 'requests/bad.json'), '{"file":""}\n');
    const bad = await npm('run', 'invoke', '--', 'media-type', '--body', 'requests/bad.json');
    expect(bad.code).toBe(2);
    expect(bad.stdout).toContain('INVALID_CONTENT');
  });

  it('writes its REGARDS configuration from the build, and checks it', async () => {
    const config = await npm('run', 'config');
    expect(config.code, config.stderr).toBe(0);
    const written = await readFile(join(project, 'deploy/regards-workers.json'), 'utf8');
    expect(written).toContain('"workerType": "media-type"');
    const check = await npm('run', 'check', '--', '--bundles', 'dist');
    expect(check.code, check.stdout + check.stderr).toBe(0);
  });

  it('runs its workers on RabbitMQ: the host, the local manager, and send until SUCCESS', async () => {
    const host = spawnInProject('start');
    const manager = spawnInProject('manager', '--config', join(project, 'deploy/regards-workers.json'));
    await waitUntil(() => host.output().includes('"msg":"started"'), 30_000, 'the host to start');
    await waitUntil(() => manager.output().includes('"msg":"started"'), 30_000, 'the manager to start');
    for (const [contentType, body] of [
      ['media-type-request', 'requests/media-type.json'],
      ['hello-world-request', 'requests/hello-world.json'],
    ] as const) {
      const sent = await npm('run', 'send', '--', '--content-type', contentType, '--body', body);
      expect(sent.code, `${sent.stdout}${sent.stderr}\nhost: ${host.output().slice(-2000)}`).toBe(0);
      expect(sent.stdout).toContain('SUCCESS');
    }
    host.process.kill('SIGTERM');
    manager.process.kill('SIGTERM');
    expect(await host.exited).toBe(0);
    expect(await manager.exited).toBe(0);
  });
});

describe.runIf(kustomizeReady)("the project's Kubernetes overlay on the package's manifests", () => {
  it('renders its own worker type, with its bundle mounted, and nothing of the example', async () => {
    const rendered = await inProject('kubectl', ['kustomize', 'deploy/kubernetes']);
    expect(rendered.code, rendered.stderr).toBe(0);
    const docs = parseAllDocuments(rendered.stdout).map((doc) => doc.toJS());
    expect(docs.map((doc) => `${doc.kind} ${doc.metadata.name}`).sort()).toEqual([
      'Deployment regards-worker-hello-world',
      'PodDisruptionBudget regards-worker-hello-world',
      'PodMonitor regards-worker',
      'ScaledObject regards-worker-hello-world',
      'TriggerAuthentication regards-worker-rabbitmq',
    ]);
    expect(rendered.stdout).not.toContain('extract-metadata');
    const deployment = docs.find((doc) => doc.kind === 'Deployment');
    const env = deployment.spec.template.spec.containers[0].env;
    expect(env).toContainEqual({ name: 'WORKER_TYPES', value: 'hello-world' });
    expect(
      deployment.spec.template.spec.volumes[0].configMap.items.map((item: { path: string }) => item.path),
    ).toEqual(['manifest.json', 'bundles/hello-world.mjs', 'bundles/hello-world.mjs.map']);
    const scaled = docs.find((doc) => doc.kind === 'ScaledObject');
    expect(scaled.spec.triggers[0].metadata.queueName).toBe('regards.worker.hello-world.request');
  });
});

describe.runIf(imageReady)("the generic image serving the project's bundles archive", () => {
  let engine: Engine;
  const name = `regards-worker-it-package-${run}`;

  beforeAll(async () => {
    engine = await containerEngine();
    await buildImage({ log: () => undefined });
  }, 600_000);

  afterAll(async () => {
    await engineRun(engine, ['rm', '-f', '-t', '0', name]).catch(() => undefined);
  });

  it('answers the requests sent through the manager', async () => {
    // The container's user (node) reads the archive through the test's folders.
    for (const dir of [join(project, '..'), project, join(project, 'dist')]) await chmod(dir, 0o755);
    const healthPort = 20_000 + Math.floor(Math.random() * 5_000);
    const container = spawnProcess(
      engine.command,
      [
        ...['run', '--rm', '--name', name, '--network', 'host', '--read-only'],
        ...['-v', `${join(project, 'dist/bundles.tar.gz')}:/bundles/bundles.tar.gz:ro`],
        ...['-e', 'WORKER_BUNDLES=/bundles/bundles.tar.gz', '-e', `AMQP_URL=${url}`],
        ...['-e', `WORKER_HEALTH_PORT=${healthPort}`],
        IMAGE,
      ],
      engine.env,
    );
    children.push(container);
    await waitUntil(
      () =>
        fetch(`http://127.0.0.1:${healthPort}/readyz`).then(
          (response) => response.ok,
          () => false,
        ),
      60_000,
      'the container to be ready',
    ).catch((error: Error) => {
      throw new Error(`${error.message}; its output:\n${container.output().slice(-3000)}`);
    });
    const manager = spawnInProject('manager', '--config', join(project, 'deploy/regards-workers.json'));
    await waitUntil(() => manager.output().includes('"msg":"started"'), 30_000, 'the manager to start');
    const sent = await npm(
      'run',
      'send',
      '--',
      '--content-type',
      'media-type-request',
      '--body',
      'requests/media-type.json',
    );
    expect(sent.code, `${sent.stdout}${sent.stderr}\ncontainer: ${container.output().slice(-2000)}`).toBe(0);
    expect(sent.stdout).toContain('SUCCESS');
    expect(container.output()).toContain('"workerTypes":["hello-world","media-type"]');
  });
});
