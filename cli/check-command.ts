/**
 * `regards-worker check --config <file> [--bundles <dir>] [--external <type> ...] [--json]`: the
 * configuration checked as the real manager imports it and, given the bundles, against them and their
 * schemas (see manager/check.ts). Exit 0 when clean (warnings allowed), 1 with errors.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readManifest } from '../adapter/bundles.ts';
import { checkConfiguration } from '../manager/check.ts';
import { EXIT, type Io, UsageError } from './io.ts';

export async function checkCommand(args: readonly string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      config: { type: 'string' },
      bundles: { type: 'string' },
      external: { type: 'string', multiple: true, default: [] },
      json: { type: 'boolean', default: false },
    },
  });
  if (values.config === undefined)
    throw new UsageError(
      'usage: regards-worker check --config <file> [--bundles <dir>] [--external <type> ...] [--json]',
    );
  let document: unknown;
  try {
    document = JSON.parse(await readFile(resolve(io.cwd, values.config), 'utf8'));
  } catch (error) {
    io.err(`regards-worker check: cannot read ${values.config}: ${(error as Error).message}\n`);
    return EXIT.failed;
  }
  const manifest =
    values.bundles === undefined ? undefined : await readManifest(resolve(io.cwd, values.bundles));
  const problems = checkConfiguration(document, { manifest, external: values.external });
  const errors = problems.filter((problem) => problem.severity === 'error').length;
  if (values.json) io.out(`${JSON.stringify({ errors, problems }, null, 2)}\n`);
  else {
    for (const problem of problems)
      io.out(`${problem.severity} (${problem.rule}) ${problem.message.replaceAll('\n', '\n    ')}\n`);
    const warnings = problems.length - errors;
    io.out(
      `${values.config}: ${errors === 0 ? 'clean' : `${errors} error${errors === 1 ? '' : 's'}`}` +
        `${warnings > 0 ? `, ${warnings} warning${warnings === 1 ? '' : 's'}` : ''}` +
        `${manifest === undefined ? ' (the configuration alone: --bundles checks the bundles and schemas too)' : ''}\n`,
    );
  }
  return errors === 0 ? EXIT.ok : EXIT.failed;
}
