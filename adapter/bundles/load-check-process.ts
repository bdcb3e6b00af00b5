/**
 * The entry of the process that checks a version's thread-isolated bundles load (load-check.ts):
 * each bundle, its bytes still the ones verified, imported as a handler thread would import it, its
 * definition's type compared with the manifest's. Prints one JSON line per bundle, then exits.
 */
import { importVerified } from './file.ts';
import type { LoadCheck, LoadChecked } from './load-check.ts';

const bundles = JSON.parse(process.argv[2] ?? '[]') as LoadCheck[];
for (const bundle of bundles) {
  const checked: LoadChecked = { path: bundle.path, problem: await problemOf(bundle) };
  process.stdout.write(`${JSON.stringify(checked)}\n`);
}
// A bundle may leave timers or sockets behind at import: the check is over.
process.exit(0);

async function problemOf({ path, sha256, type }: LoadCheck): Promise<string | undefined> {
  try {
    const definition = await importVerified(path, sha256);
    if (definition.type !== type)
      return `${path} defines worker ${definition.type}, the manifest says ${type}`;
    return undefined;
  } catch (error) {
    return `${path} does not load: ${(error as Error).message}`;
  }
}
