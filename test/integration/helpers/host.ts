/** Building the fixture worker under a unique type, and running the adapter on it (in process or as a child). */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadConfig } from '../../../adapter/config.ts';
import { type Host, startHost } from '../../../adapter/host.ts';
import { createLogger } from '../../../adapter/log.ts';
import { build } from '../../../build/build.ts';
import { AMQP_URL } from './broker.ts';

export const ROOT = resolve(import.meta.dirname, '../../..');

/** Builds test/fixtures/behave.ts as worker `type`; returns the bundles folder. */
export async function buildBehave(type: string): Promise<string> {
  await mkdir(join(ROOT, 'dist'), { recursive: true });
  const project = await mkdtemp(join(ROOT, 'dist', '.it-'));
  await mkdir(join(project, 'functions'));
  const source = (await readFile(join(ROOT, 'test/fixtures/behave.ts'), 'utf8'))
    .replace("type: 'behave'", `type: ${JSON.stringify(type)}`)
    .replace("'../../sdk/index.ts'", JSON.stringify(join(ROOT, 'sdk/index.ts')));
  await writeFile(join(project, 'functions', 'behave.ts'), source);
  await build({ root: project });
  return join(project, 'dist');
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

/** `regards-worker start` as its own process. */
export function spawnHost(bundles: string, env: Env = {}): ChildHost {
  const child = spawn(process.execPath, [join(ROOT, 'cli/main.ts'), 'start'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...hostEnv(bundles, { WORKER_LOG_LEVEL: 'info', ...env }) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { process: child, output: () => output, exited };
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
