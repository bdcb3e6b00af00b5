/**
 * Loading bundles through the manifest: each bundle's sha256 is checked before it is imported, and
 * its definition must be the one the manifest describes. Bundles are immutable for the process's life.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  definitionOf,
  MANIFEST_FILE,
  type ManifestEntry,
  manifest as manifestSchema,
} from '../sdk/bundle.ts';
import type { WorkerDefinition } from '../sdk/index.ts';

export interface LoadedWorker {
  readonly entry: ManifestEntry;
  readonly definition: WorkerDefinition;
  readonly path: string;
}

export class BundleError extends Error {
  readonly code: 'MANIFEST_INVALID' | 'BUNDLE_MISMATCH' | 'BUNDLE_INVALID' | 'WORKER_UNKNOWN';
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

/** Loads every worker of the manifest, or the given types only. */
export async function loadWorkers(dir: string, types?: readonly string[]): Promise<LoadedWorker[]> {
  const manifest = await readManifest(dir);
  const entries =
    types === undefined ? manifest.workers : types.map((type) => findEntry(manifest.workers, type, dir));
  const loaded: LoadedWorker[] = [];
  for (const entry of entries) loaded.push(await loadEntry(dir, entry));
  return loaded;
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

async function loadEntry(dir: string, entry: ManifestEntry): Promise<LoadedWorker> {
  const path = join(resolve(dir), entry.bundle);
  const code = await readFile(path);
  const sha256 = createHash('sha256').update(code).digest('hex');
  if (sha256 !== entry.sha256) {
    throw new BundleError(
      'BUNDLE_MISMATCH',
      `${path}: sha256 ${sha256} differs from the manifest's ${entry.sha256}`,
    );
  }
  const definition = await importDefinition(path);
  if (definition.type !== entry.type) {
    throw new BundleError(
      'BUNDLE_MISMATCH',
      `${path} defines worker ${definition.type}, the manifest says ${entry.type}`,
    );
  }
  return { entry, definition, path };
}

/** Imports one bundle file and returns its worker definition. */
export async function importDefinition(path: string): Promise<WorkerDefinition> {
  try {
    return definitionOf(await import(pathToFileURL(resolve(path)).href));
  } catch (cause) {
    throw new BundleError('BUNDLE_INVALID', `${path}: ${(cause as Error).message}`);
  }
}
