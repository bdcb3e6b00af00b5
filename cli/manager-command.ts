/** `regards-worker manager --config <file>`: the local Worker Manager, until Ctrl-C. Development only. */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULTS } from '../adapter/config.ts';
import { createLogger } from '../adapter/log.ts';
import { parseManagerConfig } from '../manager/config.ts';
import { startLocalManager } from '../manager/manager.ts';
import { EXIT, type Io, UsageError } from './io.ts';

export async function managerCommand(args: readonly string[], io: Io): Promise<number> {
  const { values } = parseArgs({ args: [...args], options: { config: { type: 'string' } } });
  if (values.config === undefined)
    throw new UsageError('usage: regards-worker manager --config <regards-configuration.json>');
  const config = parseManagerConfig(JSON.parse(await readFile(resolve(io.cwd, values.config), 'utf8')));
  const manager = await startLocalManager({
    url: io.env.AMQP_URL ?? DEFAULTS.AMQP_URL,
    config,
    log: createLogger('info', (line) => io.out(`${line}\n`)),
  });
  await new Promise((done) => io.signal.addEventListener('abort', done, { once: true }));
  await manager.stop();
  return EXIT.ok;
}
