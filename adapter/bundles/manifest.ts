/**
 * Loading bundles through the manifest: each bundle's sha256 is checked before it is imported, and
 * its definition must be the one the manifest describes; a bundle built with an sdk this host does
 * not run is refused, naming both versions, and the others are served. A version of the bundles is
 * immutable once verified; a new one is loaded beside it (set.ts, watcher.ts).
 */
import { readFile, realpath } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { MANIFEST_FILE, type ManifestEntry, manifest as manifestSchema } from '../../sdk/bundle.ts';
import { definitionOf } from '../../sdk/definition-of.ts';
import type { WorkerDefinition } from '../../sdk/index.ts';
import { SDK_VERSION } from '../../sdk/version.ts';
import { bundleUrl, fileSha256 } from './file.ts';

export interface LoadedWorker {
  readonly entry: ManifestEntry;
  readonly definition: WorkerDefinition;
  readonly path: string;
}

export class BundleError extends Error {
  readonly code:
    | 'MANIFEST_INVALID'
    | 'BUNDLE_MISMATCH'
    | 'BUNDLE_INVALID'
    | 'WORKER_UNKNOWN'
    | 'SDK_UNSUPPORTED';
  constructor(code: BundleError['code'], message: string) {
    super(message);
    this.code = code;
  }
}

export async function readManifest(dir: string) {
  const path = join(resolve(dir), MANIFEST_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (cause) {
    throw new BundleError(
      'MANIFEST_INVALID',
      `cannot read ${path}: ${(cause as Error).message} (run the build first)`,
    );
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success)
    throw new BundleError('MANIFEST_INVALID', `${path} is not a valid manifest: ${parsed.error.message}`);
  return parsed.data;
}

/** A bundle whose bytes match the manifest, not imported yet. */
export interface VerifiedBundle {
  readonly entry: ManifestEntry;
  readonly path: string;
}

/**
 * The sdk versions this host runs: its own major (and, below 1.0, its own minor, which may break as a
 * major does). A bundle records the sdk it was built with; the contract between them is the sdk's.
 */
export function sdkSupported(version: string, host: string = SDK_VERSION): boolean {
  const [major, minor] = version.split('.');
  const [hostMajor, hostMinor] = host.split('.');
  return major === hostMajor && (hostMajor !== '0' || minor === hostMinor);
}

/**
 * Checks every bundle of the manifest (or the given types only) against its sha256. One built with an
 * sdk this host does not run is left out, told to `refused`; none left is an error.
 */
export async function verifyBundles(
  dir: string,
  types?: readonly string[],
  refused: (error: BundleError) => void = () => undefined,
): Promise<VerifiedBundle[]> {
  const manifest = await readManifest(dir);
  const selected =
    types === undefined ? manifest.workers : types.map((type) => findEntry(manifest.workers, type, dir));
  const entries = selected.filter((entry) => {
    if (sdkSupported(entry.sdkVersion)) return true;
    refused(
      new BundleError(
        'SDK_UNSUPPORTED',
        `worker ${entry.type} was built with sdk ${entry.sdkVersion}; this host runs sdk ${SDK_VERSION} (same major${SDK_VERSION.startsWith('0.') ? ' and minor, below 1.0' : ''}): rebuild it with this sdk, or run a host of its version`,
      ),
    );
    return false;
  });
  if (entries.length === 0 && selected.length > 0)
    throw new BundleError(
      'SDK_UNSUPPORTED',
      `no bundle in ${dir} was built with an sdk this host runs (${SDK_VERSION})`,
    );
  return Promise.all(entries.map((entry) => verifyEntry(dir, entry)));
}

/** Verifies and imports every worker of the manifest, or the given types only. */
export async function loadWorkers(dir: string, types?: readonly string[]): Promise<LoadedWorker[]> {
  return Promise.all((await verifyBundles(dir, types)).map(importBundle));
}

function findEntry(entries: readonly ManifestEntry[], type: string, dir: string): ManifestEntry {
  const entry = entries.find((candidate) => candidate.type === type);
  if (entry === undefined) {
    const known = entries.map((candidate) => candidate.type).join(', ');
    throw new BundleError(
      'WORKER_UNKNOWN',
      `no worker of type ${type} in ${dir}/${MANIFEST_FILE} (known: ${known})`,
    );
  }
  return entry;
}

async function verifyEntry(dir: string, entry: ManifestEntry): Promise<VerifiedBundle> {
  // Where the file really is: threads of this version load it later, and a link swapped meanwhile (a new
  // version arriving) must not change what they load.
  const path = await realpath(join(resolve(dir), entry.bundle)).catch(() => join(resolve(dir), entry.bundle));
  const sha256 = await fileSha256(path);
  if (sha256 !== entry.sha256) {
    throw new BundleError(
      'BUNDLE_MISMATCH',
      `${path}: sha256 ${sha256} differs from the manifest's ${entry.sha256}`,
    );
  }
  return { entry, path };
}

/** Imports a verified bundle; its definition must be the one the manifest describes. */
export async function importBundle({ entry, path }: VerifiedBundle): Promise<LoadedWorker> {
  const definition = await importDefinition(path, entry.sha256);
  if (definition.type !== entry.type) {
    throw new BundleError(
      'BUNDLE_MISMATCH',
      `${path} defines worker ${definition.type}, the manifest says ${entry.type}`,
    );
  }
  return { entry, definition, path };
}

/** Imports one bundle file (at a version, see bundleUrl) and returns its worker definition. */
export async function importDefinition(path: string, version?: string): Promise<WorkerDefinition> {
  try {
    return definitionOf(await import(bundleUrl(path, version)));
  } catch (cause) {
    throw new BundleError('BUNDLE_INVALID', `${path}: ${(cause as Error).message}`);
  }
}
