import { execFile } from 'node:child_process';
import { appendFile, readFile, realpath, symlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { BundleError, loadWorkers, verifyBundles } from '../../adapter/bundles/manifest.ts';
import { build } from '../../build/build.ts';
import { useTempDirs } from '../helpers/files.ts';

const root = resolve(import.meta.dirname, '../..');
const tempDir = useTempDirs({ until: 'file' });
let dist: string;

beforeAll(async () => {
  dist = join(await tempDir(join(root, 'dist')), 'out');
  await build({ root, outDir: dist });
});

/** `regards-worker start` with only these variables; none of these cases reaches the broker. */
async function start(env: Record<string, string>) {
  try {
    await promisify(execFile)(process.execPath, [join(root, 'cli/main.ts'), 'start'], {
      env: { PATH: process.env.PATH ?? '', WORKER_HEALTH_PORT: '0', ...env },
      timeout: 20_000,
    });
    return { code: 0, output: '' };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: failed.stdout + failed.stderr };
  }
}

describe('regards-worker start refuses to start', () => {
  it('on a bad variable, naming it, before any connection', async () => {
    const { code, output } = await start({
      WORKER_BUNDLES: dist,
      WORKER_PREFETCH: 'lots',
      AMQP_URL: 'amqp://nobody:secret@127.0.0.1:1',
    });
    expect(code).toBe(2);
    expect(output).toContain('WORKER_PREFETCH');
    expect(output).not.toContain('secret');
  });

  it('on a WORKER_BUNDLES that does not exist, naming the variable (exit 2, not a raw ENOENT)', async () => {
    const { code, output } = await start({
      WORKER_BUNDLES: join(root, 'no-such-dist'),
      AMQP_URL: 'amqp://guest:guest@127.0.0.1:1',
    });
    expect(code).toBe(2);
    expect(output).toContain(`WORKER_BUNDLES: ${join(root, 'no-such-dist')} does not exist`);
    expect(output).not.toContain('ENOENT');
  });

  it('on a misspelt or empty connection variable, naming it (exit 2), never falling back to a default broker', async () => {
    const misspelt = await start({ WORKER_BUNDLES: dist, AMQP_PASSWORD_FIL: '/run/secrets/password' });
    expect(misspelt.code).toBe(2);
    expect(misspelt.output).toContain('did you mean AMQP_PASSWORD_FILE?');
    const empty = await start({ WORKER_BUNDLES: dist, AMQP_URL: '' });
    expect(empty.code).toBe(2);
    expect(empty.output).toContain('AMQP_URL: set but empty');
  });

  it('on a bundle whose sha256 differs from the manifest, naming the file', async () => {
    const tampered = join(await tempDir(), 'dist');
    await build({ root, outDir: tampered });
    const bundle = join(tampered, 'bundles/move-file.mjs');
    await appendFile(bundle, '\n// changed after the build\n');
    await expect(loadWorkers(tampered)).rejects.toMatchObject({
      code: 'BUNDLE_MISMATCH',
      message: expect.stringContaining(bundle),
    });
    const { code, output } = await start({
      WORKER_BUNDLES: tampered,
      AMQP_URL: 'amqp://guest:guest@127.0.0.1:1',
    });
    expect(code).toBe(1);
    expect(output).toContain(bundle);
    expect(output).toContain('BUNDLE_MISMATCH');
  });

  it('on a missing or invalid manifest', async () => {
    await expect(loadWorkers(join(dist, 'nowhere'))).rejects.toBeInstanceOf(BundleError);
    const broken = await tempDir();
    await writeFile(join(broken, 'manifest.json'), JSON.stringify({ manifestVersion: 99 }));
    await expect(loadWorkers(broken)).rejects.toMatchObject({ code: 'MANIFEST_INVALID' });
  });

  it('loads every worker of a good manifest, each checked', async () => {
    const workers = await loadWorkers(dist);
    expect(workers.map((w) => w.definition.type).sort()).toEqual([
      'extract-archive',
      'extract-metadata',
      'move-file',
    ]);
    const manifest = JSON.parse(await readFile(join(dist, 'manifest.json'), 'utf8'));
    expect(workers.map((w) => w.entry.sha256).sort()).toEqual(
      manifest.workers.map((w: { sha256: string }) => w.sha256).sort(),
    );
  });
});

describe('a verified version', () => {
  it('is where its files really are: a link swapped afterwards does not change what its threads load', async () => {
    const link = join(await tempDir(), 'current');
    await symlink(dist, link);
    const verified = await verifyBundles(link);
    for (const bundle of verified) expect(bundle.path.startsWith(`${await realpath(dist)}/`)).toBe(true);
    expect(verified.every((bundle) => !bundle.path.includes('/current/'))).toBe(true);
  });
});
