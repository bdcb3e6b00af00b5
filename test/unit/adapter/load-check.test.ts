/**
 * Whether a version's bundles load, checked in a process of their own: each module written here as a
 * bundle would be (a default export of a definition's shape), then checked by a real child process.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Of } from '../../../adapter/bundles/file.ts';
import { checkBundlesLoad, type LoadCheck } from '../../../adapter/bundles/load-check.ts';
import { DEFINITION_KIND } from '../../../sdk/definition-of.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'load-check-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A module file with `source` as its text, and the check of it as the manifest would name `type`. */
async function bundle(name: string, source: string, type = 'a-type'): Promise<LoadCheck> {
  const path = join(dir, `${name}.mjs`);
  await writeFile(path, source);
  return { path, sha256: sha256Of(Buffer.from(source)), type };
}

const definition = (type: string) =>
  `export default { kind: ${JSON.stringify(DEFINITION_KIND)}, type: ${JSON.stringify(type)}, accepts: ['x'], run: async () => ({}) };`;

describe('the check that bundles load', () => {
  it('passes bundles that load and define the type their manifest names', async () => {
    await expect(
      checkBundlesLoad([
        await bundle('one', definition('a-type')),
        await bundle('two', definition('b'), 'b'),
      ]),
    ).resolves.toBeUndefined();
  });

  it.each([
    ['defines another type', definition('other'), /defines worker other, the manifest says a-type/],
    ['throws as it loads', 'throw new Error("no config");', /does not load: no config/],
    ['exports no definition', 'export const x = 1;', /does not load: no default export/],
  ])('refuses a bundle that %s, naming it and why', async (name, source, reason) => {
    const good = await bundle(`good-${name.length}`, definition('a-type'));
    const bad = await bundle(name.replaceAll(' ', '-'), source);
    const checked = checkBundlesLoad([good, bad]);
    await expect(checked).rejects.toThrow(reason);
    await expect(checked).rejects.toThrow(bad.path);
  });

  it('refuses a bundle whose bytes changed since they were verified', async () => {
    const changed = {
      ...(await bundle('changed', definition('a-type'))),
      sha256: sha256Of(Buffer.from('before')),
    };
    await expect(checkBundlesLoad([changed])).rejects.toThrow(/changed since it was verified/);
  });

  it('refuses bundles whose loading never ends, past its time', async () => {
    const hanging = await bundle('hanging', 'await new Promise(() => setInterval(() => {}, 1000));');
    await expect(checkBundlesLoad([hanging], 1_000)).rejects.toThrow(/took over 1000 ms/);
  });

  it('refuses a bundle that ends the process as it loads', async () => {
    const exiting = await bundle('exiting', 'process.exit(3);');
    await expect(checkBundlesLoad([exiting])).rejects.toThrow(/could not be checked|was not checked/);
  });
});
