/**
 * The package, compiled: what `npm pack` ships in lib/, so that nothing in node_modules needs type
 * stripping. Two esbuild steps: the host's files (`adapter.mjs`, `handler-thread.mjs`,
 * `load-check.mjs`) with their packages compiled in (build/host.ts), then, their packages left to
 * node_modules, `index.mjs` (the sdk, what an author imports as `regards-worker`), `testing.mjs`
 * (`regards-worker/testing`) and `cli.mjs` (the `regards-worker` command). tsc then writes the type
 * declarations of the two exports into lib/types. package.json's exports and bin point here.
 */
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { SOURCE_CONDITION } from './build.ts';
import { compile, HOST_ENTRIES, LIB_DIR } from './host.ts';

/** What authors and the command import: their packages stay in node_modules. */
const AUTHOR_ENTRIES = {
  index: 'sdk/index.ts',
  testing: 'adapter/testing.ts',
  cli: 'cli/main.ts',
} as const;

export const PACKAGE_ENTRIES = { ...HOST_ENTRIES, ...AUTHOR_ENTRIES } as const;

/** The exports whose declarations are written (lib/types/<source>.d.ts). */
const DECLARED = [PACKAGE_ENTRIES.index, PACKAGE_ENTRIES.testing];

export async function buildPackage(root: string): Promise<string> {
  const lib = resolve(root, LIB_DIR);
  await rm(lib, { recursive: true, force: true });
  await compile(root, LIB_DIR, HOST_ENTRIES, 'compiled in');
  await compile(root, LIB_DIR, AUTHOR_ENTRIES);
  // The project's compiler options (tsconfig.json), for these files alone.
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  await promisify(execFile)(
    process.execPath,
    [
      tsc,
      '--ignoreConfig',
      ...['--declaration', '--emitDeclarationOnly', '--outDir', join(lib, 'types'), '--rootDir', root],
      ...['--target', 'es2024', '--lib', 'es2024', '--module', 'nodenext', '--types', 'node'],
      ...['--strict', '--allowImportingTsExtensions', '--skipLibCheck', '--resolveJsonModule'],
      ...['--customConditions', SOURCE_CONDITION],
      ...DECLARED,
    ],
    { cwd: root },
  );
  return lib;
}

if (import.meta.main) process.stdout.write(`wrote ${await buildPackage(process.cwd())}\n`);
