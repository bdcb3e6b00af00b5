/** Building the fixture worker under a unique type, and running the adapter on it (in process or as a child). */
import { type ChildProcess, spawn } from 'node:child_process';
import { access, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { afterAll, afterEach } from 'vitest';
import { loadConfig } from '../../../adapter/config.ts';
import { type Host, startHost } from '../../../adapter/host.ts';
import { createLogger } from '../../../adapter/telemetry/log.ts';
import { build } from '../../../build/build.ts';
import { buildHost, HOST_NODE_FLAGS } from '../../../build/host.ts';
import { DEAD_LETTER_QUEUE, RESPONSE_EXCHANGE } from '../../../protocol/index.ts';
import { AMQP_URL, connectTestBroker, uniqueType } from './broker.ts';

export const ROOT = resolve(import.meta.dirname, '../../..');

/** Projects and compiled hosts this test file built, removed after it (its hosts are stopped first). */
const made: string[] = [];
afterAll(() => Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true }))));

/**
 * Builds functions given as sources into a project of their own (with functions/lib copied, and
 * sdk imports pointed at this repository); returns its bundles folder.
 */
export async function buildProject(sources: Readonly<Record<string, string>>): Promise<string> {
  await mkdir(join(ROOT, 'dist'), { recursive: true });
  const project = await mkdtemp(join(ROOT, 'dist', '.it-'));
  made.push(project);
  await cp(join(ROOT, 'functions/lib'), join(project, 'functions/lib'), { recursive: true });
  const sdk = JSON.stringify(join(ROOT, 'sdk/index.ts'));
  for (const [name, source] of Object.entries(sources)) {
    await writeFile(join(project, 'functions', name), source.replace(/'(\.\.\/)+sdk\/index\.ts'/, sdk));
  }
  await build({ root: project });
  return join(project, 'dist');
}

/** The source of test/fixtures/behave.ts, or of an example function, under another worker type. */
export async function sourceAs(path: string, type: string): Promise<string> {
  const source = await readFile(join(ROOT, path), 'utf8');
  return source.replace(/type: '[^']+'/, `type: ${JSON.stringify(type)}`);
}

/** Builds the behave fixture as worker `type`; returns the bundles folder. */
export async function buildBehave(...types: string[]): Promise<string> {
  const sources: Record<string, string> = {};
  for (const type of types) sources[`${type}.ts`] = await sourceAs('test/fixtures/behave.ts', type);
  return buildProject(sources);
}

export type Env = Record<string, string>;

export function hostEnv(bundles: string, env: Env = {}): Env {
  return {
    AMQP_URL,
    WORKER_BUNDLES: bundles,
    WORKER_HEALTH_PORT: '0',
    WORKER_HEARTBEAT_SECONDS: '0.2',
    WORKER_RETRY_BASE_SECONDS: '0.05',
    WORKER_RETRY_MAX_SECONDS: '0.2',
    WORKER_DRAIN_SECONDS: '5',
    WORKER_LOG_LEVEL: 'warn',
    ...env,
  };
}

/** The adapter in this process; logs kept in `lines`. */
export async function startTestHost(bundles: string, env: Env = {}): Promise<Host & { lines: string[] }> {
  const lines: string[] = [];
  const config = loadConfig(hostEnv(bundles, { WORKER_LOG_LEVEL: 'info', ...env }));
  const host = await startHost(
    config,
    createLogger(config.logLevel, (line) => lines.push(line)),
  );
  await waitUntil(() => host.isReady(), 10_000);
  return Object.assign(host, { lines });
}

export interface ChildHost {
  readonly process: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
}

/** What the host logs when an error escaped every handler: a test that sees one fails. */
const ESCAPED = /"msg":"(uncaught exception|unhandled rejection)"/;
const spawned: ChildHost[] = [];
afterEach(() => {
  const escaped = spawned.splice(0).flatMap((child) =>
    child
      .output()
      .split('\n')
      .filter((l) => ESCAPED.test(l)),
  );
  if (escaped.length > 0) throw new Error(`an error escaped to the host process:\n${escaped.join('\n')}`);
});

/** `regards-worker start` as its own process. */
export function spawnHost(bundles: string, env: Env = {}): ChildHost {
  return spawnAdapter([join(ROOT, 'cli/main.ts'), 'start'], bundles, env);
}

let compiledHost: Promise<string> | undefined;

/** The host as production runs it (`npm start`, the image): compiled, with its Node flags. */
export function spawnCompiledHost(bundles: string, env: Env = {}): Promise<ChildHost> {
  compiledHost ??= mkdtemp(join(ROOT, 'dist', '.it-host-')).then((dir) => {
    made.push(dir);
    return buildHost(ROOT, relative(ROOT, dir));
  });
  return compiledHost.then((host) => spawnAdapter([...HOST_NODE_FLAGS, host], bundles, env));
}

function spawnAdapter(args: readonly string[], bundles: string, env: Env): ChildHost {
  return spawnProcess(process.execPath, args, {
    PATH: process.env.PATH ?? '',
    ...hostEnv(bundles, { WORKER_LOG_LEVEL: 'info', ...env }),
  });
}

/**
 * A process of the test's, from the repository's root, its standard output and error collected. A
 * host among them that logs an escaped error fails the test (see above).
 */
export function spawnProcess(
  command: string,
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): ChildHost {
  const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const started = { process: child, output: () => output, exited };
  spawned.push(started);
  return started;
}

/**
 * The allocator environment of the image (deploy/Dockerfile): jemalloc preloaded, with its options,
 * found where this machine's package put it.
 */
export async function imageAllocator(): Promise<Env> {
  const dockerfile = await readFile(join(ROOT, 'deploy/Dockerfile'), 'utf8');
  const conf = /MALLOC_CONF=(\S+)/.exec(dockerfile)?.[1];
  const triplet = process.arch === 'arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu';
  const candidates = [
    `/usr/lib/${triplet}/libjemalloc.so.2`,
    '/usr/lib/libjemalloc.so.2',
    '/usr/local/lib/libjemalloc.so.2',
  ];
  const found = (
    await Promise.all(
      candidates.map((path) =>
        access(path).then(
          () => path,
          () => undefined,
        ),
      ),
    )
  ).find((path) => path !== undefined);
  if (conf === undefined || found === undefined)
    throw new Error('the image preloads jemalloc: install it here too (apt-get install libjemalloc2)');
  return { LD_PRELOAD: found, MALLOC_CONF: conf };
}

/** The health port a child host reported when it started. */
export async function healthPortOf(child: ChildHost): Promise<number> {
  const started = /"msg":"started".*"healthPort":(\d+)/;
  await waitUntil(() => started.test(child.output()), 20_000, 'the host to start');
  return Number(started.exec(child.output())?.[1]);
}

export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * What most broker suites start with: a broker connection observing responses and dead-letters, and a
 * host serving the behave fixture as a worker type of the suite's own; all closed after the file.
 */
export async function behaveSuite(label: string, env: Env = {}) {
  const type = uniqueType(label);
  const broker = await connectTestBroker();
  broker.forget(type);
  let host: (Host & { lines: string[] }) | undefined;
  afterAll(async () => {
    await host?.stop();
    await broker.close();
  });
  const responses = await broker.observe(RESPONSE_EXCHANGE);
  const deadLetters = await broker.observe(DEAD_LETTER_QUEUE, '');
  host = await startTestHost(await buildBehave(type), env);
  return { type, broker, responses, deadLetters, host };
}
