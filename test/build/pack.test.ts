/** The bundles archive: what `build --pack` writes, and what the host unpacks of an archive (no broker). */
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { create, list } from 'tar';
import { describe, expect, it } from 'vitest';
import { unpackBundles } from '../../adapter/bundles/archive.ts';
import { packBundles } from '../../build/pack.ts';
import { useTempDirs } from '../helpers/files.ts';

const tempDir = useTempDirs();

async function bundlesFolder(): Promise<string> {
  const dir = await tempDir();
  await mkdir(join(dir, 'bundles'));
  await writeFile(join(dir, 'manifest.json'), '{"workers":[]}');
  await writeFile(join(dir, 'bundles', 'b.mjs'), 'export default 2;');
  await writeFile(join(dir, 'bundles', 'a.mjs'), 'export default 1;');
  await writeFile(join(dir, 'other.txt'), 'not shipped');
  return dir;
}

async function entriesOf(archive: string) {
  const entries: { path: string; uid: number | undefined; mtime: number | undefined }[] = [];
  await list({
    file: archive,
    onReadEntry: (entry) =>
      entries.push({ path: entry.path, uid: entry.header.uid, mtime: entry.header.mtime?.getTime() }),
  });
  return entries;
}

describe('build --pack', () => {
  it('holds the manifest and the bundles, sorted, without owners or times, the same bytes every time', async () => {
    const dir = await bundlesFolder();
    const first = await packBundles(dir);
    const bytes = await readFile(first.path);
    const second = await packBundles(dir);
    expect(second.sha256).toBe(first.sha256);
    expect(await readFile(second.path)).toEqual(bytes);
    expect(await entriesOf(first.path)).toEqual([
      { path: 'manifest.json', uid: undefined, mtime: 0 },
      { path: 'bundles/a.mjs', uid: undefined, mtime: 0 },
      { path: 'bundles/b.mjs', uid: undefined, mtime: 0 },
    ]);
  });

  it('unpacks into a folder of its own, removed on demand', async () => {
    const { path } = await packBundles(await bundlesFolder());
    const unpacked = await unpackBundles(await readFile(path));
    expect((await readdir(unpacked.dir)).sort()).toEqual(['bundles', 'manifest.json']);
    expect(await readFile(join(unpacked.dir, 'bundles', 'a.mjs'), 'utf8')).toBe('export default 1;');
    await unpacked.remove();
    await expect(readdir(unpacked.dir)).rejects.toThrow(/ENOENT/);
  });
});

describe('an archive holding more than bundles', () => {
  it('unpacks the manifest and the files of bundles/ only: no links, no other files, nothing nested', async () => {
    const dir = await bundlesFolder();
    await symlink('/etc/passwd', join(dir, 'bundles', 'link.mjs'));
    await mkdir(join(dir, 'bundles', 'nested'));
    await writeFile(join(dir, 'bundles', 'nested', 'deep.mjs'), 'x');
    const archive = join(await tempDir(), 'hostile.tar.gz');
    await create({ cwd: dir, file: archive, gzip: true }, [
      'manifest.json',
      'bundles/a.mjs',
      'bundles/link.mjs',
      'bundles/nested',
      'other.txt',
    ]);
    const unpacked = await unpackBundles(await readFile(archive));
    try {
      expect((await readdir(unpacked.dir)).sort()).toEqual(['bundles', 'manifest.json']);
      expect(await readdir(join(unpacked.dir, 'bundles'))).toEqual(['a.mjs']);
    } finally {
      await unpacked.remove();
    }
  });

  it('refuses what is not a gzipped tar, leaving nothing behind', async () => {
    await expect(unpackBundles(Buffer.from('not an archive'))).rejects.toThrow(
      /the bundles archive cannot be unpacked/,
    );
  });
});
