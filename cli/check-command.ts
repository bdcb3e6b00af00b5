/**
 * `regards-worker check [--config <file>] [--bundles <dir>] [--model <model.xml> ...] [--external <type> ...]
 * [--json]`: the configuration checked as the real manager imports it and, given the bundles, against
 * them and their schemas (see manager/check.ts); given REGARDS models, each bundle's feature updates
 * against them (manager/model-check.ts). Exit 0 when clean (warnings allowed), 1 with errors, 2 when an
 * input cannot be read or is not what its option says.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readManifest } from '../adapter/index.ts';
import { type CheckProblem, checkConfiguration } from '../manager/check.ts';
import { findItems } from '../manager/config.ts';
import { checkModels } from '../manager/model-check.ts';
import { parseModel, type RegardsModel } from '../manager/regards-model.ts';
import type { Manifest } from '../sdk/bundle.ts';
import { EXIT, type Io, UsageError } from './io.ts';

export const CHECK_USAGE =
  'usage: regards-worker check [--config <file>] [--bundles <dir>] [--model <model.xml> ...] [--external <type> ...] [--json]';

/** An input that cannot be checked: exit 2, saying which and why. */
class Unreadable extends Error {}

export async function checkCommand(args: readonly string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      config: { type: 'string' },
      bundles: { type: 'string' },
      model: { type: 'string', multiple: true, default: [] },
      external: { type: 'string', multiple: true, default: [] },
      json: { type: 'boolean', default: false },
    },
  });
  if (values.config === undefined && values.model.length === 0)
    throw new UsageError(`${CHECK_USAGE}\n(--config, --model or both)`);
  if (values.model.length > 0 && values.bundles === undefined)
    throw new UsageError(
      'check --model needs --bundles: the models are checked against what the bundles send',
    );
  let problems: CheckProblem[];
  let manifest: Manifest | undefined;
  try {
    manifest = values.bundles === undefined ? undefined : await manifestAt(resolve(io.cwd, values.bundles));
    const config = values.config === undefined ? undefined : await configurationAt(io, values.config);
    const models = await Promise.all(values.model.map((file) => modelAt(io, file)));
    problems = [
      ...(config === undefined ? [] : checkConfiguration(config, { manifest, external: values.external })),
      ...(manifest === undefined || models.length === 0 ? [] : checkModels(manifest, models)),
    ];
  } catch (error) {
    if (!(error instanceof Unreadable)) throw error;
    io.err(`regards-worker check: ${error.message}\n`);
    return EXIT.invalidContent;
  }
  const errors = problems.filter((problem) => problem.severity === 'error').length;
  if (values.json) io.out(`${JSON.stringify({ errors, problems }, null, 2)}\n`);
  else {
    for (const problem of problems)
      io.out(`${problem.severity} (${problem.rule}) ${problem.message.replaceAll('\n', '\n    ')}\n`);
    const warnings = problems.length - errors;
    const what = [values.config, ...values.model].filter((name) => name !== undefined).join(', ');
    io.out(
      `${what}: ${errors === 0 ? 'clean' : `${errors} error${errors === 1 ? '' : 's'}`}` +
        `${warnings > 0 ? `, ${warnings} warning${warnings === 1 ? '' : 's'}` : ''}` +
        `${manifest === undefined ? ' (the configuration alone: --bundles checks the bundles and schemas too)' : ''}\n`,
    );
  }
  return errors === 0 ? EXIT.ok : EXIT.failed;
}

async function read(io: Io, file: string): Promise<string> {
  try {
    return await readFile(resolve(io.cwd, file), 'utf8');
  } catch (error) {
    throw new Unreadable(`cannot read ${file}: ${(error as Error).message}`);
  }
}

async function configurationAt(io: Io, file: string): Promise<unknown> {
  let document: unknown;
  try {
    document = JSON.parse(await read(io, file));
  } catch (error) {
    if (error instanceof Unreadable) throw error;
    throw new Unreadable(`${file} is not JSON: ${(error as Error).message}`);
  }
  const items = findItems(document);
  if (items.workers.length === 0 && items.workflows.length === 0)
    throw new Unreadable(
      `${file} holds no worker or workflow configuration (the manager's export: WorkerConfigDto and WorkflowConfigDto items)`,
    );
  return document;
}

async function modelAt(io: Io, file: string): Promise<RegardsModel> {
  try {
    return parseModel(await read(io, file));
  } catch (error) {
    if (error instanceof Unreadable) throw error;
    throw new Unreadable(`${file} is not a REGARDS model: ${(error as Error).message}`);
  }
}

async function manifestAt(dir: string): Promise<Manifest> {
  try {
    return await readManifest(dir);
  } catch (error) {
    throw new Unreadable(`cannot read the bundles' manifest in ${dir}: ${(error as Error).message}`);
  }
}
