/**
 * A bundle file: its sha256, and the URL it is imported by. Free of zod, so that a handler thread
 * shares it with the host without loading anything else.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { WorkerDefinition } from '../../sdk/define-worker.ts';
import { definitionOf } from '../../sdk/definition-of.ts';

export function sha256Of(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export async function fileSha256(path: string): Promise<string> {
  return sha256Of(await readFile(path));
}

/**
 * The definition a bundle exports, imported only if its bytes are still the ones the host verified
 * (a new version may have been written over it since): what a handler thread and the load check run.
 */
export async function importVerified(path: string, sha256: string): Promise<WorkerDefinition> {
  const actual = await fileSha256(path);
  if (actual !== sha256) throw new Error(`${path} changed since it was verified (sha256 ${actual})`);
  return definitionOf(await import(bundleUrl(path, sha256)));
}

/**
 * Node keeps a module for the process's life, by URL: the version in the URL makes a new version
 * of the same file a module of its own.
 */
export function bundleUrl(path: string, version?: string): string {
  const url = pathToFileURL(resolve(path));
  if (version !== undefined) url.searchParams.set('sha256', version);
  return url.href;
}
