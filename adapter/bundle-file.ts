/**
 * A bundle file: its sha256, and the URL it is imported by. Free of zod, so that a handler thread
 * shares it with the host without loading anything else.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export function sha256Of(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export async function fileSha256(path: string): Promise<string> {
  return sha256Of(await readFile(path));
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
