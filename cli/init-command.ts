/**
 * `regards-worker init <dir> [--worker <name>] [--package <spec>]`: a new worker project in <dir> (new
 * or empty), depending on the regards-worker that made it; see project-files.ts for what it holds.
 */
import { readdir } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { EXIT, type Io, UsageError } from './io.ts';
import { checkWorkerName } from './new-command.ts';
import { projectFiles } from './project-files.ts';
import { writeNewFiles } from './write-new-files.ts';

export const INIT_USAGE = 'usage: regards-worker init <dir> [--worker <name>] [--package <spec>]';

export async function initCommand(args: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      worker: { type: 'string', default: 'hello-world' },
      package: { type: 'string' },
    },
  });
  const target = positionals[0];
  if (target === undefined || positionals.length > 1) throw new UsageError(INIT_USAGE);
  checkWorkerName(values.worker);
  const dir = resolve(io.cwd, target);
  const present = await readdir(dir).catch(() => []);
  if (present.length > 0) throw new UsageError(`${dir} is not empty: init makes a new project`);
  const name = npmName(basename(dir));
  await writeNewFiles(dir, projectFiles({ name, worker: values.worker, packageSpec: values.package }), io);
  io.out(`next: cd ${target} && npm install && npm test && npm run build\n`);
  return EXIT.ok;
}

/** A folder name as an npm package name: lower case, only what npm allows. */
function npmName(folder: string): string {
  const name = folder
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[._-]+/, '')
    .slice(0, 214);
  return name === '' ? 'regards-workers' : name;
}
