/**
 * The largest inputs the limits allow (bodies, headers, results, archives), fed to the host as
 * production runs it: every request is answered once, /livez keeps answering within the liveness
 * probe's time limit (deploy/kubernetes/worker.yaml) meanwhile, and the host's memory comes back
 * afterwards.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEAD_LETTER_QUEUE, DEFAULT_LIMITS, RESPONSE_EXCHANGE } from '../../protocol/index.ts';
import { writeTarGz } from '../helpers/archives.ts';
import { useTempDirs } from '../helpers/files.ts';
import { connectTestBroker, type Received, uniqueType } from './helpers/broker.ts';
import {
  buildProject,
  healthPortOf,
  imageAllocator,
  ROOT,
  sourceAs,
  spawnCompiledHost,
  waitUntil,
} from './helpers/host.ts';
import { JEMALLOC, needs } from './helpers/requirements.ts';

/** The time limit of the Deployment's liveness probe: past it, a probe fails. */
async function livenessTimeoutMs(): Promise<number> {
  const manifest = parse(await readFile(join(ROOT, 'deploy/kubernetes/worker.yaml'), 'utf8'));
  const probe = manifest.spec.template.spec.containers[0].livenessProbe;
  return (probe.timeoutSeconds ?? 1) * 1000;
}

const ready = await needs('the memory test', [JEMALLOC]);

const tempDir = useTempDirs();
const broker = await connectTestBroker();
afterAll(() => broker.close());

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  if (process.env.DEBUG_RSS)
    console.log(/Threads:\s+\d+/.exec(status)?.[0], /VmRSS:\s+\d+/.exec(status)?.[0]);
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

describe.runIf(ready)('the largest inputs the limits allow', () => {
  it("are each answered once; /livez answers within the liveness probe's limit meanwhile; RSS comes back under 150 MB", async () => {
    const behave = uniqueType('large');
    const metadata = uniqueType('large-meta');
    const archive = uniqueType('large-archive');
    for (const type of [behave, metadata, archive]) broker.forget(type);
    const bundles = await buildProject({
      'behave.ts': await sourceAs('test/fixtures/behave.ts', behave),
      'extract-metadata.ts': await sourceAs('functions/extract-metadata.ts', metadata),
      'extract-archive.ts': await sourceAs('functions/extract-archive.ts', archive),
    });
    for (const type of [behave, metadata, archive]) await broker.declareAsManager(type);
    const responses = await broker.observe(RESPONSE_EXCHANGE);
    const deadLetters = await broker.observe(DEAD_LETTER_QUEUE, '');

    const dir = await tempDir();
    const tgz = join(dir, 'many.tar.gz');
    await writeTarGz(
      tgz,
      Array.from({ length: 10_000 }, (_, i) => ({ path: `p/${i}.txt`, data: `${i}` })),
    );

    const sent: string[] = [];
    const send = async (type: string, body: unknown, headers: Record<string, string> = {}) => {
      const requestId = `${type}-${sent.length}`;
      sent.push(requestId);
      await broker.publishRequest(type, { requestId, body, headers });
    };
    const justUnder = DEFAULT_LIMITS.maxBodyBytes - 100;
    for (let i = 0; i < 4; i += 1) {
      // A body at the limit, echoed back as the content.
      await send(behave, { action: 'succeed', content: 'c'.repeat(justUnder - 60) });
      // Bodies at the limit that fail the schema: one issue, and half a million.
      await send(metadata, `{"target":"/t","files":[${'1,'.repeat(justUnder / 2 - 20)}1]}`);
      await send(behave, `{"action":"succeed","tags":[${'1,'.repeat(justUnder / 2 - 30)}1]}`);
      // A header as large as the client can send, on a request that fails every attempt.
      await send(behave, { action: 'throw' }, { 'x-large': 'h'.repeat(65_000) });
    }
    for (let i = 0; i < 2; i += 1) {
      await send(behave, { action: 'succeed', content: 'o'.repeat(DEFAULT_LIMITS.maxBodyBytes + 1) });
      // The largest result: its Base64 just fits the largest message.
      await send(behave, {
        action: 'big',
        bytes: Math.floor((DEFAULT_LIMITS.maxMessageBytes * 3) / 4) - 64 * 1024,
      });
    }
    // The most entries an archive may have by default.
    await send(archive, { archive: tgz, target: join(dir, 'out') });

    // As the image runs it: jemalloc preloaded (see deploy/Dockerfile).
    const child = await spawnCompiledHost(bundles, {
      WORKER_MAX_ATTEMPTS: '2',
      WORKER_PREFETCH: '4',
      ...(await imageAllocator()),
    });
    const pid = child.process.pid ?? 0;
    let slowest = 0;
    let peak = 0;
    let polling = true;
    try {
      const port = await healthPortOf(child);
      const poller = (async () => {
        while (polling) {
          const started = performance.now();
          const status = await fetch(`http://127.0.0.1:${port}/livez`, { signal: AbortSignal.timeout(5_000) })
            .then((r) => r.status)
            .catch(() => 0);
          slowest = Math.max(slowest, status === 200 ? performance.now() - started : 5_000);
          peak = Math.max(peak, await rssMb(pid));
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      })();
      const terminal = (message: Received) => (message.json as { status?: string })?.status !== 'RUNNING';
      const answers = async () =>
        [...(await responses.drain()).filter(terminal), ...(await deadLetters.drain())]
          .map((message) => String(message.headers['regards.request.id']))
          .filter((id) => sent.includes(id));
      const count = async () => (await answers()).length;
      await waitUntil(async () => (await count()) >= sent.length, 120_000, 'every answer').catch(
        async (error) => {
          const seen = await answers();
          throw new Error(
            `${error.message}; unanswered: ${sent.filter((id) => !seen.includes(id)).join(', ')}`,
          );
        },
      );
      polling = false;
      await poller;
      let after = await rssMb(pid);
      const deadline = Date.now() + 20_000;
      while (after >= 150 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        after = await rssMb(pid);
      }
      console.log(
        `largest inputs: ${sent.length} requests; /livez slowest ${Math.round(slowest)} ms; ` +
          `RSS peak ${Math.round(peak)} MB, after ${Math.round(after)} MB`,
      );
      expect(await count()).toBe(sent.length);
      expect(slowest).toBeLessThan(await livenessTimeoutMs());
      expect(after).toBeLessThan(150);
    } finally {
      polling = false;
      child.process.kill('SIGKILL');
      await child.exited;
    }
  }, 240_000);
});
