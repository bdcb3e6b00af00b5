/**
 * `regards-worker manager --config <file> [--model <model.xml> ...]`: the local Worker Manager, until
 * Ctrl-C, standing in for rs-fem too (feature updates checked against the models given). Development only.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger, DEFAULTS } from '../adapter/index.ts';
import { parseManagerConfig } from '../manager/config.ts';
import { startLocalManager } from '../manager/manager.ts';
import { parseModel } from '../manager/regards-model.ts';
import { EXIT, type Io, UsageError } from './io.ts';

export async function managerCommand(args: readonly string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: { config: { type: 'string' }, model: { type: 'string', multiple: true, default: [] } },
  });
  if (values.config === undefined)
    throw new UsageError(
      'usage: regards-worker manager --config <regards-configuration.json> [--model <model.xml> ...]',
    );
  const config = parseManagerConfig(JSON.parse(await readFile(resolve(io.cwd, values.config), 'utf8')));
  const models = await Promise.all(
    values.model.map(async (file) => parseModel(await readFile(resolve(io.cwd, file), 'utf8'))),
  );
  const log = createLogger('info', (line) => io.out(`${line}\n`));
  const manager = await startLocalManager({ url: io.env.AMQP_URL ?? DEFAULTS.AMQP_URL, config, models, log });
  log.info('started', { workers: config.workers.length, workflows: config.workflows.length });
  await new Promise((done) => io.signal.addEventListener('abort', done, { once: true }));
  await manager.stop();
  return EXIT.ok;
}
