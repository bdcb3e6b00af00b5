import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, type rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { moveFile } from '../../functions/lib/move.ts';
import moveFileWorker from '../../functions/move-file.ts';
import { useTempDirs } from '../helpers/files.ts';
import { contentOf, run } from '../helpers/requests.ts';

const tempDir = useTempDirs();
/** A second filesystem (tmpfs), so that a move really crosses filesystems. */
const OTHER_FS = '/dev/shm';

async function sourceFile(content = 'product bytes') {
  const dir = await tempDir();
  const source = join(dir, 'in', 'product.dat');
  await mkdir(join(dir, 'in'));
  await writeFile(source, content);
  return { dir, source };
}

describe('move-file', () => {
  it('moves within a filesystem and answers location, MD5 and size', async () => {
    const { dir, source } = await sourceFile('abc');
    const destination = join(dir, 'out', 'deep', 'product.dat');
    const content = contentOf(await run(moveFileWorker, { source, destination }));
    expect(content).toEqual({
      location: destination,
      size: 3,
      checksum: { algorithm: 'MD5', value: '900150983cd24fb0d6963f7d28e17f72' },
    });
    expect(existsSync(source)).toBe(false);
    expect(await readFile(destination, 'utf8')).toBe('abc');
  });

  it('moves across filesystems (copy, verify, then remove the source)', async () => {
    const { dir: fromDir, source } = await sourceFile('across');
    const toDir = await tempDir(OTHER_FS);
    expect((await stat(fromDir)).dev).not.toBe((await stat(toDir)).dev);
    const destination = join(toDir, 'product.dat');
    const content = contentOf(await run(moveFileWorker, { source, destination }));
    expect(content).toMatchObject({ location: destination, size: 6 });
    expect(existsSync(source)).toBe(false);
    expect(await readFile(destination, 'utf8')).toBe('across');
    expect(await readdir(toDir)).toEqual(['product.dat']);
  });

  it('answers SUCCESS again for a redelivered request whose move was done', async () => {
    const { dir, source } = await sourceFile('abc');
    const destination = join(dir, 'product.dat');
    await run(moveFileWorker, { source, destination });
    const again = contentOf(await run(moveFileWorker, { source, destination }));
    expect(again).toMatchObject({ location: destination, size: 3 });
  });

  it('refuses to overwrite a different file unless asked, and overwrites when asked', async () => {
    const { dir, source } = await sourceFile('new');
    const destination = join(dir, 'existing.dat');
    await writeFile(destination, 'old');
    const refused = await run(moveFileWorker, { source, destination });
    expect(refused).toMatchObject({
      status: 'ERROR',
      messages: [expect.stringContaining('exists with other content')],
    });
    expect(await readFile(source, 'utf8')).toBe('new');
    contentOf(await run(moveFileWorker, { source, destination, overwrite: true }));
    expect(await readFile(destination, 'utf8')).toBe('new');
  });

  it('answers ERROR for a missing source, INVALID_CONTENT for a relative path', async () => {
    const dir = await tempDir();
    expect(
      (await run(moveFileWorker, { source: join(dir, 'nope'), destination: join(dir, 'x') })).status,
    ).toBe('ERROR');
    const invalid = await run(moveFileWorker, { source: 'relative/path', destination: join(dir, 'x') });
    expect(invalid).toMatchObject({
      status: 'INVALID_CONTENT',
      messages: ['source: must be an absolute path'],
    });
  });

  it('keeps the source and leaves no partial file when the move is interrupted after the copy', async () => {
    const { source } = await sourceFile('precious');
    const toDir = await tempDir(OTHER_FS);
    const destination = join(toDir, 'product.dat');
    let calls = 0;
    const failingRename: typeof rename = async () => {
      calls += 1;
      if (calls === 1) throw Object.assign(new Error('cross-device'), { code: 'EXDEV' });
      throw Object.assign(new Error('disk vanished'), { code: 'EIO' });
    };
    await expect(moveFile(source, destination, { overwrite: false, rename: failingRename })).rejects.toThrow(
      'disk vanished',
    );
    expect(await readFile(source, 'utf8')).toBe('precious');
    expect(await readdir(toDir)).toEqual([]);
  });

  it('never loses the file when the process is killed mid-move', async () => {
    // A 64 MiB file moved across filesystems by a child process killed after a few milliseconds:
    // whenever the kill lands, the whole file is at the source or at the destination.
    const { source } = await sourceFile();
    const bytes = Buffer.alloc(64 * 1024 * 1024, 0xab);
    await writeFile(source, bytes);
    const toDir = await tempDir(OTHER_FS);
    const destination = join(toDir, 'product.dat');
    const script = `import { moveFile } from ${JSON.stringify(new URL('../../functions/lib/move.ts', import.meta.url).pathname)};
      await moveFile(${JSON.stringify(source)}, ${JSON.stringify(destination)}, { overwrite: false });`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'ignore' });
    await new Promise((resolve) => setTimeout(resolve, 40));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const atSource = existsSync(source) ? await readFile(source) : undefined;
    const atDestination = existsSync(destination) ? await readFile(destination) : undefined;
    const whole = [atSource, atDestination].filter((b) => b?.equals(bytes));
    expect(whole.length).toBeGreaterThanOrEqual(1);
  });
});
