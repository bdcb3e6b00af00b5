/**
 * `regards-worker build --pack`: the bundles as one artifact, a gzipped tar of manifest.json and
 * bundles/, which the host accepts as WORKER_BUNDLES in place of the folder. The same folder always
 * packs to the same bytes (sorted entries, no owners, fixed times): its sha256 names a build.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { create } from 'tar';
import { BUNDLES_DIR, MANIFEST_FILE } from '../sdk/bundle.ts';

export const ARCHIVE_FILE = 'bundles.tar.gz';

export interface PackedBundles {
  readonly path: string;
  readonly sha256: string;
  readonly bytes: number;
}

/** Packs `outDir`'s manifest and bundles into `outDir`/bundles.tar.gz. */
export async function packBundles(outDir: string): Promise<PackedBundles> {
  const files = (await readdir(join(outDir, BUNDLES_DIR))).sort().map((name) => `${BUNDLES_DIR}/${name}`);
  const path = join(outDir, ARCHIVE_FILE);
  await create(
    { cwd: outDir, file: path, gzip: true, portable: true, noDirRecurse: true, mtime: new Date(0) },
    [MANIFEST_FILE, ...files],
  );
  const bytes = await readFile(path);
  return { path, sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length };
}
