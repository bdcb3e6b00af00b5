import { execFileSync } from 'node:child_process';
import { lstat, mkdir, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import extractArchive from '../../functions/extract-archive.ts';
import { understateZipSizes, writeTarGz, writeZip } from '../helpers/archives.ts';
import { useTempDirs } from '../helpers/files.ts';
import { contentOf, context, rawRequest, run } from '../helpers/requests.ts';

const tempDir = useTempDirs();

async function setup() {
  const dir = await tempDir();
  return { dir, target: join(dir, 'out'), tgz: join(dir, 'a.tar.gz'), zip: join(dir, 'a.zip') };
}

async function listTree(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true }).catch(() => [])).sort();
}

describe('extract-archive on good archives', () => {
  it('extracts a .tar.gz and lists each file with size and MD5', async () => {
    const { tgz, target } = await setup();
    await writeTarGz(tgz, [
      { path: 'product/', type: 'Directory' },
      { path: 'product/data.bin', data: 'abc' },
      { path: 'product/meta.json', data: '{"a":1}' },
      { path: 'product/latest', type: 'SymbolicLink', linkpath: 'data.bin' },
    ]);
    const content = contentOf(await run(extractArchive, { archive: tgz, target }));
    expect(content).toEqual({
      target,
      files: [
        {
          path: 'product/data.bin',
          size: 3,
          checksum: { algorithm: 'MD5', value: '900150983cd24fb0d6963f7d28e17f72' },
        },
        {
          path: 'product/meta.json',
          size: 7,
          checksum: { algorithm: 'MD5', value: expect.stringMatching(/^[0-9a-f]{32}$/) },
        },
      ],
    });
    expect(await readFile(join(target, 'product/data.bin'), 'utf8')).toBe('abc');
    expect(await readlink(join(target, 'product/latest'))).toBe('data.bin');
  });

  it('extracts a .zip the same way', async () => {
    const { zip, target } = await setup();
    await writeZip(zip, [
      { path: 'dir/', directory: true },
      { path: 'dir/x.txt', data: 'hello' },
    ]);
    const content = contentOf(await run(extractArchive, { archive: zip, target }));
    expect(content).toEqual({
      target,
      files: [
        {
          path: 'dir/x.txt',
          size: 5,
          checksum: { algorithm: 'MD5', value: '5d41402abc4b2a76b9719d911017c592' },
        },
      ],
    });
  });

  it('can fan out one product-file request per extracted file, for extract-metadata', async () => {
    const { tgz, target } = await setup();
    await writeTarGz(tgz, [
      { path: 'a.geojson', data: '{}' },
      { path: 'b.txt', data: 'b' },
    ]);
    const outcome = await run(extractArchive, { archive: tgz, target, metadataRequests: true });
    expect(outcome.status).toBe('SUCCESS');
    expect(outcome.requests).toEqual([
      {
        contentType: 'product-file',
        body: { path: join(target, 'a.geojson'), id: 'a.geojson' },
      },
      {
        contentType: 'product-file',
        body: { path: join(target, 'b.txt'), id: 'b.txt' },
      },
    ]);
    expect((await run(extractArchive, { archive: tgz, target })).status === 'SUCCESS').toBe(true);
  });

  it('extracts again over a previous extraction (a redelivered request)', async () => {
    const { tgz, target } = await setup();
    await writeTarGz(tgz, [{ path: 'a.txt', data: 'one' }]);
    await run(extractArchive, { archive: tgz, target });
    const again = contentOf(await run(extractArchive, { archive: tgz, target })) as { files: unknown[] };
    expect(again.files).toHaveLength(1);
  });
});

describe('extract-archive refuses hostile archives, names the entry, and leaves nothing behind', () => {
  const cases: {
    name: string;
    tar?: Parameters<typeof writeTarGz>[1];
    zip?: Parameters<typeof writeZip>[1];
    entry: string;
    reason: RegExp;
  }[] = [
    {
      name: 'tar path traversal',
      tar: [
        { path: 'ok.txt', data: 'x' },
        { path: '../evil.txt', data: 'x' },
      ],
      entry: '../evil.txt',
      reason: /escapes the target/,
    },
    {
      name: 'tar nested traversal',
      tar: [{ path: 'a/../../evil.txt', data: 'x' }],
      entry: 'a/../../evil.txt',
      reason: /escapes the target/,
    },
    {
      name: 'tar absolute path',
      tar: [{ path: '/tmp/evil.txt', data: 'x' }],
      entry: '/tmp/evil.txt',
      reason: /absolute path/,
    },
    {
      name: 'tar symlink to an absolute path',
      tar: [{ path: 'link', type: 'SymbolicLink', linkpath: '/etc' }],
      entry: 'link',
      reason: /absolute path/,
    },
    {
      name: 'tar symlink escaping',
      tar: [{ path: 'd/link', type: 'SymbolicLink', linkpath: '../../outside' }],
      entry: 'd/link',
      reason: /points outside/,
    },
    {
      name: 'tar symlink chain escaping through another link',
      tar: [
        { path: 'b', type: 'SymbolicLink', linkpath: '.' },
        { path: 'a', type: 'SymbolicLink', linkpath: 'b/..' },
      ],
      entry: 'a',
      reason: /outside the target/,
    },
    {
      name: 'tar write through an inside link to a file outside',
      tar: [
        { path: 'b', type: 'SymbolicLink', linkpath: '.' },
        { path: 'b/../x.txt', data: 'x' },
      ],
      entry: 'b/../x.txt',
      reason: /escapes the target/,
    },
    {
      name: 'tar hard link outside',
      tar: [{ path: 'h', type: 'Link', linkpath: '../../etc/passwd' }],
      entry: 'h',
      reason: /hard link target \.\.\/\.\.\/etc\/passwd: path escapes/,
    },
    {
      name: 'tar device or fifo',
      tar: [{ path: 'fifo', type: 'FIFO' }],
      entry: 'fifo',
      reason: /unsupported entry type FIFO/,
    },
    {
      name: 'zip path traversal',
      zip: [
        { path: 'ok.txt', data: 'x' },
        { path: '../evil.txt', data: 'x' },
      ],
      entry: '../evil.txt',
      reason: /escapes the target/,
    },
    {
      name: 'zip absolute path',
      zip: [{ path: '/evil.txt', data: 'x' }],
      entry: '/evil.txt',
      reason: /absolute path/,
    },
    {
      name: 'zip symlink escaping',
      zip: [{ path: 'link', symlinkTo: '../outside' }],
      entry: 'link',
      reason: /points outside/,
    },
    {
      name: 'zip symlink absolute',
      zip: [{ path: 'link', symlinkTo: '/etc/passwd' }],
      entry: 'link',
      reason: /absolute path/,
    },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      const { dir, tgz, zip, target } = await setup();
      const archive = c.tar ? tgz : zip;
      if (c.tar) await writeTarGz(tgz, c.tar);
      if (c.zip) await writeZip(zip, c.zip);
      const outcome = await run(extractArchive, { archive, target });
      expect(outcome.status).toBe('INVALID_CONTENT');
      if (outcome.status === 'SUCCESS') return;
      expect(outcome.messages.join('\n')).toContain(`entry ${JSON.stringify(c.entry)}`);
      expect(outcome.messages.join('\n')).toMatch(c.reason);
      expect(await listTree(target)).toEqual([]);
      // The target did not exist: it does not exist after.
      expect((await readdir(dir)).sort()).toEqual([archive.endsWith('.zip') ? 'a.zip' : 'a.tar.gz']);
    });
  }

  it('bounds the total extracted size (archive bomb), naming the entry that crosses it', async () => {
    const { tgz, target } = await setup();
    await writeTarGz(tgz, [
      { path: 'small.bin', data: Buffer.alloc(600, 1) },
      { path: 'big.bin', data: Buffer.alloc(600, 2) },
    ]);
    const outcome = await run(extractArchive, { archive: tgz, target, limits: { maxBytes: 1000 } });
    expect(outcome).toMatchObject({
      status: 'INVALID_CONTENT',
      messages: ['entry "big.bin": extracting it exceeds the limit of 1000 bytes'],
    });
    expect(await listTree(target)).toEqual([]);
  });

  it('bounds the size by the bytes really read, not by what a zip header declares', async () => {
    const { zip, target } = await setup();
    await writeZip(zip, [{ path: 'big.bin', data: Buffer.alloc(5000, 7) }]);
    const outcome = await run(extractArchive, { archive: zip, target, limits: { maxBytes: 4096 } });
    expect(outcome.status).toBe('INVALID_CONTENT');
    expect(await listTree(target)).toEqual([]);
  });

  it('bounds the entry count', async () => {
    const { zip, target } = await setup();
    await writeZip(
      zip,
      Array.from({ length: 6 }, (_, i) => ({ path: `f${i}.txt`, data: 'x' })),
    );
    const outcome = await run(extractArchive, { archive: zip, target, limits: { maxEntries: 5 } });
    expect(outcome).toMatchObject({
      status: 'INVALID_CONTENT',
      messages: ['entry "f5.txt": the archive has more than 5 entries'],
    });
    expect(await listTree(target)).toEqual([]);
  });

  it('refuses a file that is not an archive, and a corrupt one', async () => {
    const { dir, target } = await setup();
    const text = join(dir, 'plain.txt');
    await writeFile(text, 'not an archive at all');
    expect((await run(extractArchive, { archive: text, target })).status).toBe('INVALID_CONTENT');
    const truncated = join(dir, 'trunc.tar.gz');
    await writeTarGz(truncated, [
      { path: 'a.bin', data: Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 7919) % 251)) },
    ]);
    const bytes = await readFile(truncated);
    await writeFile(truncated, bytes.subarray(0, bytes.length / 2));
    const outcome = await run(extractArchive, { archive: truncated, target });
    expect(outcome.status).toBe('INVALID_CONTENT');
  });

  it('answers ERROR for a missing archive', async () => {
    const { dir, target } = await setup();
    const outcome = await run(extractArchive, { archive: join(dir, 'nope.zip'), target });
    expect(outcome.status).toBe('ERROR');
  });

  it('keeps the target and the rest of its parent untouched when refusing', async () => {
    const { dir, tgz, target } = await setup();
    await mkdir(join(target, 'earlier'), { recursive: true });
    await writeTarGz(tgz, [
      { path: 'fine.txt', data: 'ok' },
      { path: '../evil.txt', data: 'x' },
    ]);
    await run(extractArchive, { archive: tgz, target });
    await expect(lstat(join(dir, 'evil.txt'))).rejects.toThrow();
    expect(await listTree(target)).toEqual(['earlier']);
  });

  it('does not leave a target it made when refusing', async () => {
    const { tgz, target } = await setup();
    await writeTarGz(tgz, [{ path: '../evil.txt', data: 'x' }]);
    expect((await run(extractArchive, { archive: tgz, target })).status).toBe('INVALID_CONTENT');
    await expect(lstat(target)).rejects.toThrow(/ENOENT/);
  });

  it('refuses a FIFO as the archive at once, without opening it', async () => {
    const { dir, target } = await setup();
    const fifo = join(dir, 'archive.fifo');
    execFileSync('mkfifo', [fifo]);
    expect(await run(extractArchive, { archive: fifo, target })).toMatchObject({
      status: 'INVALID_CONTENT',
      messages: [`archive ${fifo} is not a regular file`],
    });
  });

  it('refuses a zip whose entry inflates past its declared size, with no uncaught error', async () => {
    const { zip, target } = await setup();
    await writeZip(zip, [{ path: 'liar.bin', data: Buffer.alloc(200_000, 1) }]);
    await understateZipSizes(zip, 10);
    const outcome = await run(extractArchive, { archive: zip, target });
    expect(outcome.status).toBe('INVALID_CONTENT');
    await expect(lstat(target)).rejects.toThrow(/ENOENT/);
  });
});

describe('extract-archive aborted at its time limit', () => {
  const many = Array.from({ length: 400 }, (_, i) => ({ path: `p/f${i}.txt`, data: 'x'.repeat(1000) }));

  it('leaves the target as it found it', async () => {
    const { tgz, target } = await setup();
    await writeTarGz(tgz, many);
    const controller = new AbortController();
    controller.abort(new Error('time limit'));
    const ran = extractArchive.run(
      rawRequest({ archive: tgz, target }),
      context({ signal: controller.signal }),
    );
    await expect(ran).rejects.toThrow('time limit');
    await expect(lstat(target)).rejects.toThrow(/ENOENT/);
  });

  it('leaves the target as it found it when aborted mid-way', async () => {
    const { tgz, target } = await setup();
    await writeTarGz(tgz, many);
    const controller = new AbortController();
    const ran = extractArchive.run(
      rawRequest({ archive: tgz, target }),
      context({ signal: controller.signal }),
    );
    // Abort once the first files are written.
    const poll = setInterval(async () => {
      if ((await listTree(target)).length > 2) controller.abort(new Error('time limit'));
    }, 1);
    const outcome = await ran.catch((error: Error) => error);
    clearInterval(poll);
    expect(outcome).toBeInstanceOf(Error);
    await expect(lstat(target)).rejects.toThrow(/ENOENT/);
  });
});
