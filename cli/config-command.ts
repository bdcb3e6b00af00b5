/**
 * `regards-worker config [--bundles dir] [--merge file] [--out file]`: the REGARDS import/export document
 * for the built bundles (see manager/export.ts), the workflows of `--merge` kept; standard output by default.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readManifest } from '../adapter/index.ts';
import { exportConfiguration } from '../manager/export.ts';
import { EXIT, type Io } from './io.ts';

export async function configCommand(args: readonly string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      bundles: { type: 'string', default: 'dist' },
      merge: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const manifest = await readManifest(resolve(io.cwd, values.bundles));
  const existing =
    values.merge === undefined
      ? undefined
      : JSON.parse(await readFile(resolve(io.cwd, values.merge), 'utf8'));
  const text = `${JSON.stringify(exportConfiguration(manifest, existing), null, 2)}\n`;
  if (values.out === undefined) io.out(text);
  else {
    await writeFile(resolve(io.cwd, values.out), text);
    io.err(`wrote ${values.out} (${manifest.workers.length} workers)\n`);
  }
  return EXIT.ok;
}
