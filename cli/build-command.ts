/**
 * `regards-worker build [--pack]`: bundles functions/ into dist/ (and one archive of the bundles to
 * ship) and prints what it wrote.
 */
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from '../build/build.ts';
import { packBundles } from '../build/pack.ts';
import { BuildFailed, formatProblem } from '../build/problems.ts';
import { EXIT, type Io } from './io.ts';

export async function buildCommand(args: readonly string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      functions: { type: 'string', default: 'functions' },
      out: { type: 'string', default: 'dist' },
      pack: { type: 'boolean', default: false },
    },
  });
  try {
    const result = await build({ root: io.cwd, functionsDir: values.functions, outDir: values.out });
    for (const worker of result.manifest.workers) {
      io.out(
        `${worker.bundle}  ${(worker.bytes / 1024).toFixed(1)} KiB  ${worker.type}  <- ${worker.source}\n`,
      );
    }
    io.out(
      `wrote ${result.manifestPath} (${result.manifest.workers.length} workers) in ${Math.round(result.durationMs)} ms\n`,
    );
    if (values.pack) {
      const packed = await packBundles(dirname(result.manifestPath));
      io.out(`wrote ${packed.path} (${(packed.bytes / 1024).toFixed(1)} KiB)\nsha256 ${packed.sha256}\n`);
    }
    return EXIT.ok;
  } catch (cause) {
    if (!(cause instanceof BuildFailed)) throw cause;
    for (const problem of cause.problems) io.err(`${formatProblem(problem)}\n`);
    io.err(`${cause.message}\n`);
    return EXIT.failed;
  }
}
