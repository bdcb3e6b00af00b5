/** `regards-worker new <name>`: a new function, its test and a sample request, which pass as generated. */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { EXIT, type Io, UsageError } from './io.ts';
import { functionFiles } from './project-files.ts';
import { writeNewFiles } from './write-new-files.ts';

const NAME = /^[a-z][a-z0-9-]{0,62}[a-z0-9]$/;

export async function newCommand(args: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: { root: { type: 'string', default: '.' } },
  });
  const name = positionals[0];
  if (name === undefined || positionals.length > 1)
    throw new UsageError('usage: regards-worker new <name> (kebab-case)');
  checkWorkerName(name);
  await writeNewFiles(resolve(io.cwd, values.root), functionFiles(name), io);
  io.out(`next: npm test, then npm run build and npm run invoke -- ${name} --body requests/${name}.json\n`);
  return EXIT.ok;
}

/** A worker type: kebab-case, 2 to 64 characters (it names queues). */
export function checkWorkerName(name: string): void {
  if (!NAME.test(name))
    throw new UsageError(
      name.length > 64 || name.length < 2
        ? `the name is ${name.length} characters: it must be 2 to 64`
        : `the name ${JSON.stringify(name)} must be kebab-case: a-z, 0-9 and -, starting with a letter`,
    );
}
