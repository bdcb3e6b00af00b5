/**
 * A bundles archive (`regards-worker build --pack`) unpacked into a folder of its own, which the host
 * then verifies and serves like any bundles folder. Only the manifest and the files of bundles/ are
 * unpacked, never links; the folder is removed when the version it holds is closed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BUNDLE_ARCHIVE_ENTRY } from '../../sdk/bundle.ts';

export interface UnpackedBundles {
  readonly dir: string;
  remove(): Promise<void>;
}

/** Unpacks the archive's bytes (read once, hashed by the caller) into a new temporary folder. */
export async function unpackBundles(bytes: Uint8Array): Promise<UnpackedBundles> {
  const dir = await mkdtemp(join(tmpdir(), 'regards-worker-bundles-'));
  const remove = () => rm(dir, { recursive: true, force: true });
  try {
    // Loaded here: a host given a folder never needs it.
    const { extract } = await import('tar');
    await pipeline(
      Readable.from([bytes]),
      extract({
        cwd: dir,
        strict: true,
        filter: (path, entry) =>
          'type' in entry && entry.type === 'File' && BUNDLE_ARCHIVE_ENTRY.test(path.replace(/^\.\//, '')),
      }),
    );
    return { dir, remove };
  } catch (error) {
    await remove();
    throw new Error(`the bundles archive cannot be unpacked: ${(error as Error).message}`);
  }
}
