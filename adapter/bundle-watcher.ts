/**
 * Noticing a new version of the bundles `WORKER_BUNDLES` names, however it arrives: the folder is a
 * symbolic link swapped for another (`ln -sfn v2 tmp && mv -T tmp current`), the `..data` link a
 * Kubernetes ConfigMap or Secret volume swaps inside the folder, or a new manifest written into it
 * (`regards-worker build` writes the bundles, then the manifest). It polls: links are resolved, and
 * the manifest's bytes hashed, at every tick; a change is reported once.
 */
import { readFile, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { MANIFEST_FILE } from '../sdk/bundle.ts';
import { sha256Of } from './bundle-file.ts';

/** What identifies a version of the folder: where its manifest really is, and its bytes. */
export async function fingerprintOf(dir: string): Promise<string> {
  const manifest = await realpath(join(dir, MANIFEST_FILE));
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
