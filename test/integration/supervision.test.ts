/**
 * The host is never left running unsupervised: `npm start` passes SIGTERM and SIGINT on to it (it
 * drains, exits 0, and so does npm), and a host whose starting process is gone without a word
 * drains and exits by itself; a host whose stdout is closed under it (a log reader gone) keeps serving
 * and drains on SIGTERM, its log lines dropped.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHost } from '../../build/host.ts';
import { RESPONSE_EXCHANGE } from '../../protocol/index.ts';
import { AMQP_URL, connectTestBroker, type TestBroker, uniqueType } from './helpers/broker.ts';
import { buildBehave, hostEnv, ROOT, spawnProcess, waitUntil } from './helpers/host.ts';

let broker: TestBroker;
let bundles: string;
const type = uniqueType('supervision');

beforeAll(async () => {
  broker = await connectTestBroker();
  broker.forget(type);
  bundles = await buildBehave(type);
  await buildHost(ROOT);
});
afterAll(() => broker?.close());

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const run = (command: string, args: string[]) =>
  spawnProcess(command, args, {
    ...process.env,
    ...hostEnv(bundles, { AMQP_URL, WORKER_LOG_LEVEL: 'info' }),
  });

/** The pid of the host below `parent` (directly, or under a shell). */
function hostPid(parent: number): number {
  const children = execFileSync('ps', ['-eo', 'pid,ppid,args'], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(([, ppid, ...args]) => Number(ppid) === parent && args.join(' ').includes('node'));
  const pid = Number(children[0]?.[0]);
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no host below ${parent}`);
  return pid;
}

describe('npm start', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)(
    'passes %s on: the host drains, and npm exits 0',
    async (signal) => {
      const npm = run('npm', ['start']);
      try {
        await waitUntil(() => npm.output().includes('"msg":"started"'), 20_000, 'the host');
        const host = hostPid(npm.process.pid ?? 0);
        npm.process.kill(signal);
        expect(await npm.exited).toBe(0);
        expect(npm.output()).toContain('"msg":"stopped"');
        await waitUntil(() => !alive(host), 5_000, 'the host to exit');
      } finally {
        npm.process.kill('SIGKILL');
      }
    },
  );
});

describe('a host whose starting process is gone', () => {
  it('drains and exits by itself', async () => {
    // `; true` keeps the shell from replacing itself with the host: the shell is the parent that goes.
    const shell = run('sh', ['-c', `"${process.execPath}" "${join(ROOT, 'cli/main.ts')}" start; true`]);
    await waitUntil(() => shell.output().includes('"msg":"started"'), 20_000, 'the host');
    const host = hostPid(shell.process.pid ?? 0);
    try {
      shell.process.kill('SIGKILL');
      await waitUntil(() => !alive(host), 10_000, 'the orphaned host to exit');
      expect(shell.output()).toContain('the process that started the host is gone');
    } finally {
      if (alive(host)) process.kill(host, 'SIGKILL');
    }
  });
});

describe('a host whose stdout is closed under it', () => {
  it('answers the request in flight and drains on SIGTERM, without spinning', async () => {
    const responses = await broker.observe(RESPONSE_EXCHANGE);
    const host = run(process.execPath, [join(ROOT, 'lib/adapter.mjs')]);
    try {
      await waitUntil(() => host.output().includes('"msg":"started"'), 20_000, 'the host');
      const requestId = `${type}-closed-stdout`;
      await broker.publishRequest(type, { requestId, body: { action: 'sleep', ms: 1_500 } });
      // Taken at once, and in flight for 1.5 s.
      await new Promise((resolve) => setTimeout(resolve, 500));
      // The reader goes away: every later log line meets a closed pipe.
      host.process.stdout?.destroy();
      host.process.kill('SIGTERM');
      const started = Date.now();
      expect(await host.exited).toBe(0);
      expect(Date.now() - started).toBeLessThan(10_000);
      const answers = await responses.waitFor(
        (m) =>
          m.headers['regards.request.id'] === requestId &&
          (m.json as { status?: string }).status === 'SUCCESS',
      );
      expect(answers).toHaveLength(1);
    } finally {
      host.process.kill('SIGKILL');
    }
  });
});
