/**
 * /livez tells when the host can no longer do file I/O: handlers that block every thread of the
 * file-system pool (here, reading FIFOs nobody writes) leave the event loop answering, yet every
 * later file operation would wait for ever.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { useTempDirs } from '../helpers/files.ts';
import { connectTestBroker, uniqueType } from './helpers/broker.ts';
import { buildBehave, healthPortOf, spawnHost, waitUntil } from './helpers/host.ts';

const tempDir = useTempDirs();
const broker = await connectTestBroker();
afterAll(() => broker.close());

describe('/livez', () => {
  it('fails once the file-system pool is blocked, naming why', async () => {
    const type = uniqueType('fifo');
    broker.forget(type);
    const bundles = await buildBehave(type);
    const dir = await tempDir();
    await broker.declareAsManager(type);
    // Node's pool has 4 threads: 4 reads of FIFOs take them all.
    for (let i = 0; i < 4; i += 1) {
      const fifo = join(dir, `f${i}`);
      execFileSync('mkfifo', [fifo]);
      await broker.publishRequest(type, { requestId: `${type}-${i}`, body: { action: 'read', path: fifo } });
    }
    const child = spawnHost(bundles, {
      WORKER_PREFETCH: '4',
      WORKER_TIMEOUT_SECONDS: '0.5',
      WORKER_IO_STALL_SECONDS: '1',
    });
    try {
      const port = await healthPortOf(child);
      const livez = async () => {
        const response = await fetch(`http://127.0.0.1:${port}/livez`, {
          signal: AbortSignal.timeout(1_000),
        });
        return { status: response.status, body: await response.text() };
      };
      let last = await livez();
      await waitUntil(
        async () => {
          last = await livez();
          return last.status === 503;
        },
        15_000,
        '/livez to fail',
      );
      expect(last.body).toMatch(
        /^file I\/O has not answered for \d+\.\d s: the threads of the file-system pool are blocked/,
      );
    } finally {
      child.process.kill('SIGKILL');
      await child.exited;
    }
  });
});
