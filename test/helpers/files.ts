import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach } from 'vitest';

/**
 * Makes a fresh folder per call under `base` (default: the system temp dir), removed after each test,
 * or after the whole file with `{ until: 'file' }` (for folders made in beforeAll).
 */
export function useTempDirs(options: { until?: 'test' | 'file' } = {}): (base?: string) => Promise<string> {
  const made: string[] = [];
  const cleanUp = async () => {
    await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  };
  if (options.until === 'file') afterAll(cleanUp);
  else afterEach(cleanUp);
  return async (base = tmpdir()) => {
    await mkdir(base, { recursive: true });
    const dir = await mkdtemp(join(base, 'regards-worker-test-'));
    made.push(dir);
    return dir;
  };
}
