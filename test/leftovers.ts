/**
 * Vitest global setup: each run has a temporary folder of its own, made here and handed to every test
 * and every process it starts as TMPDIR, so that what others do in the shared temporary folder cannot
 * touch the run. The teardown then
 * - lists what was skipped and why (test/integration/helpers/requirements.ts), so a skip is never silent;
 * - fails the run if it left anything behind, in its folder or in dist/ (built test projects), naming
 *   it; a clean run's folder is removed.
 */
import { chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const DIST = resolve(import.meta.dirname, '../dist');
/** Where requirements.ts keeps its answers and skips, inside the run's folder. */
const NOTES = '.notes';
/** Not left behind by a test: the run's own notes, and Node's compile cache of the hosts it started. */
const OURS = new Set([NOTES, 'node-compile-cache']);

async function builtProjects(): Promise<string[]> {
  return (await readdir(DIST).catch(() => []))
    .filter((name) => /^\.(it|test|bench)-/.test(name))
    .map((name) => join(DIST, name));
}

async function skipped(run: string): Promise<string[]> {
  const notes = join(run, NOTES);
  const names = (await readdir(notes).catch(() => [])).filter((name) => name.startsWith('skipped-')).sort();
  return Promise.all(names.map((name) => readFile(join(notes, name), 'utf8')));
}

export default async function setup(): Promise<() => Promise<void>> {
  const run = await mkdtemp(join(tmpdir(), 'regards-test-run-'));
  // Private RabbitMQ nodes run as the rabbitmq user: it must reach their folders inside (not list this one).
  await chmod(run, 0o711);
  process.env.TMPDIR = run;
  const before = new Set(await builtProjects());
  return async () => {
    const skips = await skipped(run);
    if (skips.length > 0)
      console.warn(`\nSkipped, for want of what they need:\n${skips.map((s) => `  ${s}`).join('\n')}`);
    const left = [
      ...(await readdir(run)).filter((name) => !OURS.has(name)).map((name) => join(run, name)),
      ...(await builtProjects()).filter((path) => !before.has(path)),
    ];
    if (left.length > 0) throw new Error(`the tests left ${left.length} entries behind:\n${left.join('\n')}`);
    await rm(run, { recursive: true, force: true });
  };
}
