/**
 * Noticing a new version of the bundles `WORKER_BUNDLES` names, however it arrives: the folder is a
 * symbolic link swapped for another (`ln -sfn v2 tmp && mv -T tmp current`), the `..data` link a
 * Kubernetes ConfigMap or Secret volume swaps inside the folder, or a new manifest written into it
 * (`regards-worker build` writes the bundles, then the manifest); or, for a bundles archive, a new
 * archive in its place. It polls: links are resolved, and the manifest's bytes hashed (an archive's
 * identity and times read), at every tick; a change is reported once.
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isBundleArchive, MANIFEST_FILE } from '../../sdk/bundle.ts';
import { sha256Of } from './file.ts';

/**
 * What identifies a version: where the folder's manifest really is, and its bytes; for an archive,
 * where it really is, its inode, size and modification time (hashing it every second would cost more).
 */
export async function fingerprintOf(path: string): Promise<string> {
  if (isBundleArchive(path)) {
    const archive = await realpath(path);
    const { ino, size, mtimeMs } = await stat(archive);
    return `${archive}:${ino}:${size}:${mtimeMs}`;
  }
  const manifest = await realpath(join(path, MANIFEST_FILE));
  const bytes = await readFile(manifest);
  return `${manifest}:${sha256Of(bytes)}`;
}

export interface BundleWatcher {
  stop(): void;
}

export function watchBundles(options: {
  readonly dir: string;
  readonly intervalMs: number;
  /** The fingerprint of the version being served. */
  readonly current: () => string;
  /** A new version: called again only for a version other than the last one reported. */
  readonly onChange: (fingerprint: string) => Promise<void>;
}): BundleWatcher {
  let reported: string | undefined;
  let busy = false;
  const tick = async () => {
    if (busy) return;
    busy = true;
    try {
      const fingerprint = await fingerprintOf(options.dir).catch(() => undefined);
      // Mid-swap (no manifest for an instant), or the version served, or one already reported.
      if (fingerprint === undefined || fingerprint === options.current() || fingerprint === reported) return;
      reported = fingerprint;
      await options.onChange(fingerprint);
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick(), options.intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
