/**
 * Moving a file between storage locations without ever losing it: rename when both are on one
 * filesystem; otherwise copy to a temporary file beside the destination, fsync, verify the checksum,
 * rename into place, and only then remove the source.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, mkdir, rename, rm, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { errorCode, fsyncDir, md5File } from './files.ts';

export interface MoveOptions {
  overwrite: boolean;
  signal?: AbortSignal;
  /** Replaceable for tests that interrupt a move at a given step. */
  rename?: typeof rename;
}

export type MoveResult =
  | { ok: true; location: string; size: number; md5: string; note?: string }
  | { ok: false; reason: string };

export async function moveFile(
  source: string,
  destination: string,
  options: MoveOptions,
): Promise<MoveResult> {
  const move = options.rename ?? rename;
  const { signal } = options;
  if (resolve(source) === resolve(destination))
    return { ok: false, reason: 'source and destination are the same file' };

  const sourceStat = await statOrUndefined(source);
  const destinationStat = await statOrUndefined(destination);
  if (sourceStat === undefined) {
    if (destinationStat?.isFile()) {
      // A redelivery after a move that completed but was not acknowledged.
      const done = await md5File(destination, signal);
      return { ok: true, location: destination, ...done, note: 'source already moved to the destination' };
    }
    return { ok: false, reason: `source ${source} does not exist` };
  }
  if (!sourceStat.isFile()) return { ok: false, reason: `source ${source} is not a regular file` };

  if (destinationStat !== undefined) {
    if (!destinationStat.isFile())
      return { ok: false, reason: `destination ${destination} is not a regular file` };
    if (!options.overwrite) {
      const [a, b] = await Promise.all([md5File(source, signal), md5File(destination, signal)]);
      if (a.md5 !== b.md5 || a.size !== b.size) {
        return { ok: false, reason: `destination ${destination} exists with other content (set overwrite)` };
      }
      // A move interrupted after the copy was in place: finish it.
      await unlink(source);
      await fsyncDir(dirname(source));
      return { ok: true, location: destination, ...b };
    }
  }

  await mkdir(dirname(destination), { recursive: true });
  try {
    await move(source, destination);
    await fsyncDir(dirname(destination));
    if (dirname(source) !== dirname(destination)) await fsyncDir(dirname(source));
  } catch (cause) {
    if (errorCode(cause) !== 'EXDEV') throw cause;
    await copyAcross(source, destination, move, signal);
  }
  const moved = await md5File(destination, signal);
  return { ok: true, location: destination, ...moved };
}

async function copyAcross(
  source: string,
  destination: string,
  move: typeof rename,
  signal: AbortSignal | undefined,
): Promise<void> {
  const temporary = join(dirname(destination), `.${basename(destination)}.${randomUUID()}.part`);
  try {
    const hash = createHash('md5');
    const output = createWriteStream(temporary, { flags: 'wx', flush: true });
    await pipeline(
      createReadStream(source),
      async function* (chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          hash.update(chunk);
          yield chunk;
        }
      },
      output,
      { signal },
    );
    const copied = await md5File(temporary, signal);
    const expected = hash.digest('hex');
    if (copied.md5 !== expected)
      throw new Error(`copy of ${source} is corrupt: MD5 ${copied.md5}, expected ${expected}`);
    await move(temporary, destination);
    await fsyncDir(dirname(destination));
  } catch (cause) {
    await rm(temporary, { force: true });
    throw cause;
  }
  await unlink(source);
  await fsyncDir(dirname(source));
}

async function statOrUndefined(path: string) {
  try {
    return await lstat(path);
  } catch (cause) {
    if (errorCode(cause) === 'ENOENT') return undefined;
    throw cause;
  }
}
