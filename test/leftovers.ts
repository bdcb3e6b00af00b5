/**
 * Vitest global setup: a run must leave nothing of its own behind, in the system's temporary folder
 * (`regards-*`, `it-*`) or in dist/ (built test projects). The teardown fails the run, naming what
 * is left, if anything is.
 */
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const DIST = resolve(import.meta.dirname, '../dist');

async function ours(): Promise<string[]> {
  const temp = (await readdir(tmpdir()).catch(() => []))
    .filter((name) => /^(regards-|it-)/.test(name))
    .map((name) => join(tmpdir(), name));
  const built = (await readdir(DIST).catch(() => []))
    .filter((name) => /^\.(it|test|bench)-/.test(name))
    .map((name) => join(DIST, name));
  return [...temp, ...built];
}

export default async function setup(): Promise<() => Promise<void>> {
  const before = new Set(await ours());
  return async () => {
    const left = (await ours()).filter((path) => !before.has(path));
    if (left.length > 0) throw new Error(`the tests left ${left.length} entries behind:\n${left.join('\n')}`);
  };
}
