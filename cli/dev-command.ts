/**
 * `regards-worker dev`: builds, runs the adapter on the bundles, and on every change in functions/
 * rebuilds them: the running adapter notices the new manifest and swaps to it without a restart
 * (its in-flight requests finish on the version they started with). A build that fails is reported
 * and the running version kept. Ctrl-C stops.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from '../build/build.ts';
import { BuildFailed, formatProblem } from '../build/problems.ts';
import { CLI_ENTRY, EXIT, type Io } from './io.ts';
import { watchSources } from './watch-sources.ts';

const DEBOUNCE_MS = 300;

export async function devCommand(args: readonly string[], io: Io): Promise<number> {
  parseArgs({ args: [...args], options: {} });
  const functions = join(io.cwd, 'functions');
  let adapter: ChildProcess | undefined;

  const stopAdapter = async () => {
    const running = adapter;
    adapter = undefined;
    if (running === undefined || running.exitCode !== null) return;
    const exited = new Promise((done) => running.once('exit', done));
    running.kill('SIGTERM');
    await exited;
  };

  const rebuild = async (): Promise<void> => {
    try {
      const result = await build({ root: io.cwd });
      io.out(
        `dev: built ${result.manifest.workers.map((w) => w.type).join(', ')} in ${Math.round(result.durationMs)} ms\n`,
      );
    } catch (error) {
      if (!(error instanceof BuildFailed)) throw error;
      for (const problem of error.problems) io.err(`${formatProblem(problem)}\n`);
      io.err(`dev: ${error.message}; the running adapter is kept\n`);
      return;
    }
    if (adapter !== undefined && adapter.exitCode === null && adapter.signalCode === null) {
      io.out('dev: the adapter swaps to the new bundles\n');
      return;
    }
    adapter = spawn(process.execPath, [CLI_ENTRY, 'start'], {
      cwd: io.cwd,
      stdio: ['ignore', 'inherit', 'inherit'],
      // A process group of its own: Ctrl-C in the terminal reaches dev alone, which then stops the adapter
      // with one SIGTERM, and the adapter drains (a second signal would make it exit at once). Should dev
      // die without stopping it, the adapter sees its parent gone and shuts down by itself.
      detached: true,
      env: { ...io.env, WORKER_BUNDLES: io.env.WORKER_BUNDLES ?? join(io.cwd, 'dist') },
    });
    io.out(`dev: adapter started (pid ${adapter.pid})\n`);
  };

  // Watch first, then build: a change saved during the first build is seen and rebuilt after it.
  let timer: NodeJS.Timeout | undefined;
  let building: Promise<void> = Promise.resolve();
  const changed = new Set<string>();
  const watcher = await watchSources(functions, (file) => {
    changed.add(file);
    clearTimeout(timer);
    timer = setTimeout(() => {
      io.out(`dev: ${[...changed].join(', ')} changed; rebuilding\n`);
      changed.clear();
      building = building.then(rebuild, rebuild);
    }, DEBOUNCE_MS);
  });
  io.out(`dev: watching ${functions}\n`);
  building = rebuild();
  await building;
  await new Promise((done) => io.signal.addEventListener('abort', done, { once: true }));
  watcher.close();
  clearTimeout(timer);
  await building;
  await stopAdapter();
  return EXIT.ok;
}
