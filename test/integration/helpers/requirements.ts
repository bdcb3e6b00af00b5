/**
 * What a test file needs beyond Node and the local RabbitMQ (a container engine, a system library, a
 * command). `needs()` checks it once per run (the answer is kept in the run's folder, see
 * test/leftovers.ts) and then:
 * - where it is there, returns true and the file runs as usual;
 * - outside CI, returns false: the file's tests are skipped (`describe.runIf(ready)`), with one line
 *   naming what is missing and how to get it, listed again at the end of the run;
 * - under CI=true, returns false and adds a test that fails, naming what is missing: CI installs
 *   everything (.ci/run), so a missing tool there is a defect, never a silent skip.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { it } from 'vitest';
import { containerEngine, ENGINE_INSTALL_HINTS } from '../../../build/image.ts';
import { imageAllocator } from './host.ts';

export interface Requirement {
  /** What is needed, as the skip line says it. */
  readonly name: string;
  /** How to get it. */
  readonly howToGet: string;
  /** Resolves when it is there; rejects (or resolves false) when it is not. */
  readonly check: () => Promise<unknown>;
}

const execute = promisify(execFile);
const runs =
  (command: string, ...args: string[]) =>
  () =>
    execute(command, args, { timeout: 15_000 });

/** A command from a Debian package, there when `command ...args` runs. */
const debianCommand = (
  name: string,
  debianPackage: string,
  command: string,
  ...args: string[]
): Requirement => ({
  name,
  howToGet: `apt-get install -y ${debianPackage}`,
  check: runs(command, ...args),
});

export const CONTAINER_ENGINE: Requirement = {
  name: 'a working container engine (podman or docker answering `info`)',
  howToGet: `${ENGINE_INSTALL_HINTS[0]}; npm run image names the other platforms`,
  check: () => containerEngine(),
};
export const JEMALLOC: Requirement = {
  name: "jemalloc (the image's allocator)",
  howToGet: 'apt-get install -y libjemalloc2',
  check: () => imageAllocator(),
};
export const OPENSSL = debianCommand('the openssl command', 'openssl', 'openssl', 'version');
export const PROMTOOL = debianCommand(
  "promtool, Prometheus' own checker",
  'prometheus',
  'promtool',
  '--version',
);
export const PROMETHEUS = debianCommand('the prometheus server', 'prometheus', 'prometheus', '--version');
export const KUSTOMIZE: Requirement = {
  name: 'kubectl with its kustomize 4 or later (kubectl kustomize)',
  howToGet: "install kubectl from the Kubernetes project's packages (Debian's kubernetes-client is too old)",
  check: async () => {
    const { stdout } = await execute('kubectl', ['version', '--client'], { timeout: 15_000 });
    const major = Number(/Kustomize Version: v(\d+)/.exec(stdout)?.[1] ?? 0);
    if (major < 4) throw new Error(`kustomize ${major} is too old`);
  },
};
export const GDAL = debianCommand(
  "GDAL's command-line tools (gdal_create, gdal_translate, gdalinfo)",
  'gdal-bin',
  'gdalinfo',
  '--version',
);
export const NETCDF_TOOLS = debianCommand("netCDF's tools (ncgen, ncdump)", 'netcdf-bin', 'ncdump');
export const HDF5_TOOLS = debianCommand(
  "HDF5's tools (h5import, h5dump)",
  'hdf5-tools',
  'h5dump',
  '--version',
);
export const RABBITMQ_SERVER = debianCommand(
  'rabbitmq-server, to start private RabbitMQ nodes',
  'rabbitmq-server',
  'rabbitmqctl',
  'version',
);

/** The folder of this run's answers and skips: the run's own temporary folder (see test/leftovers.ts). */
export const RUN_NOTES = join(tmpdir(), '.notes');

function slug(text: string): string {
  return text.replace(/[^a-z0-9]+/gi, '-').slice(0, 80);
}

/** Checked once per run: the first file to ask writes the answer, later ones read it. */
async function isMet(requirement: Requirement): Promise<boolean> {
  const file = join(RUN_NOTES, `requirement-${slug(requirement.name)}.json`);
  const known = await readFile(file, 'utf8').then(
    (text) => JSON.parse(text) as boolean,
    () => undefined,
  );
  if (known !== undefined) return known;
  const met = await requirement.check().then(
    (answer) => answer !== false,
    () => false,
  );
  await mkdir(RUN_NOTES, { recursive: true });
  await writeFile(file, JSON.stringify(met));
  return met;
}

/** Whether the file's tests can run here; see the file's comment for what happens when they cannot. */
export async function needs(what: string, requirements: readonly Requirement[]): Promise<boolean> {
  const missing: Requirement[] = [];
  for (const requirement of requirements) if (!(await isMet(requirement))) missing.push(requirement);
  if (missing.length === 0) return true;
  const reason = missing.map((r) => `${r.name} is missing (${r.howToGet})`).join('; ');
  if (process.env.CI === 'true') {
    it(`${what}: needs what CI installs`, () => {
      throw new Error(`${what} cannot run under CI: ${reason}`);
    });
    return false;
  }
  const line = `skipped ${what}: ${reason}`;
  console.warn(line);
  await mkdir(RUN_NOTES, { recursive: true });
  await writeFile(join(RUN_NOTES, `skipped-${slug(what)}.txt`), line);
  return false;
}
