/**
 * The build: bundles every functions/*.ts in one esbuild call, reads each bundle's definition, and
 * writes dist/bundles/<type>.mjs (+ source map) and dist/manifest.json. Every problem is collected
 * and reported together; nothing is written unless all functions pass.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { bundleOptions, forbiddenInBundles } from '../esbuild.config.mjs';
import {
  definitionOf,
  MANIFEST_FILE,
  MANIFEST_VERSION,
  type Manifest,
  type ManifestEntry,
} from '../sdk/bundle.ts';
import type { WorkerDefinition } from '../sdk/index.ts';
import { ownSettings } from '../sdk/settings.ts';
import { BuildFailed, type BuildProblem } from './problems.ts';

export interface BuildOptions {
  /** The project folder; functions/ and dist/ are found below it unless given. */
  readonly root: string;
  readonly functionsDir?: string;
  readonly outDir?: string;
}

export interface BuildResult {
  readonly manifest: Manifest;
  readonly manifestPath: string;
  readonly durationMs: number;
}

interface Built {
  readonly name: string;
  readonly source: string;
  readonly staged: string;
  readonly definition: WorkerDefinition;
}

/** Throws BuildFailed with every problem found. */
export async function build(options: BuildOptions): Promise<BuildResult> {
  const started = performance.now();
  const root = resolve(options.root);
  const functionsDir = resolve(root, options.functionsDir ?? 'functions');
  const outDir = resolve(root, options.outDir ?? 'dist');
  const sources = await discover(functionsDir);
  if (sources.length === 0)
    throw new BuildFailed([{ file: relative(root, functionsDir), text: 'no functions found' }]);

  await mkdir(outDir, { recursive: true });
  const staging = await mkdtemp(join(outDir, '.staging-'));
  try {
    const metafile = await bundle(root, functionsDir, sources, staging);
    const problems: BuildProblem[] = [];
    const built: Built[] = [];
    for (const [output, meta] of Object.entries(metafile.outputs)) {
      if (meta.entryPoint === undefined) continue;
      const source = meta.entryPoint;
      problems.push(...(await forbiddenImports(root, source, Object.keys(meta.inputs), metafile)));
      const addons = await nativeAddons(root, Object.keys(meta.inputs));
      problems.push(...addons.map((text) => ({ file: source, text })));
      if (addons.length > 0) continue;
      const staged = resolve(root, output);
      try {
        const definition = definitionOf(await import(pathToFileURL(staged).href));
        built.push({ name: basename(staged, '.mjs'), source, staged, definition });
      } catch (cause) {
        problems.push({ file: source, text: (cause as Error).message });
      }
    }
    problems.push(...duplicateTypes(built));
    if (problems.length > 0) throw new BuildFailed(problems);
    const manifest = await publish(built, outDir);
    return { manifest, manifestPath: join(outDir, MANIFEST_FILE), durationMs: performance.now() - started };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/**
 * One problem per forbidden package a bundle would hold, at the line of the project's own file that
 * imports it (directly, or the first step into node_modules that leads to it).
 */
async function forbiddenImports(
  root: string,
  source: string,
  inputs: readonly string[],
  metafile: esbuild.Metafile,
): Promise<BuildProblem[]> {
  const problems: BuildProblem[] = [];
  for (const name of forbiddenInBundles) {
    const inside = (path: string) => path.includes(`node_modules/${name}/`);
    if (!inputs.some(inside)) continue;
    // The project's file (not a package's) that imports it, else one whose import leads into node_modules.
    const own = inputs.filter((input) => !input.includes('node_modules/'));
    const importsOf = (input: string) => metafile.inputs[input]?.imports ?? [];
    const direct = own.find((input) => importsOf(input).some((i) => inside(i.path)));
    const importer =
      direct ?? own.find((input) => importsOf(input).some((i) => i.path.includes('node_modules/')));
    const specifier = importsOf(importer ?? '').find((i) =>
      direct === undefined ? i.path.includes('node_modules/') : inside(i.path),
    )?.original;
    const file = importer ?? source;
    const text = await readFile(resolve(root, file), 'utf8').catch(() => '');
    const lineIndex =
      specifier === undefined
        ? -1
        : text
            .split('\n')
            .findIndex((line) => line.includes(`'${specifier}'`) || line.includes(`"${specifier}"`));
    problems.push({
      file,
      ...(lineIndex < 0 ? {} : { line: lineIndex + 1 }),
      text: `bundles must stay pure: ${name} is imported${file === source ? '' : ` (by ${source})`}; the host provides transport and tracing, a function returns a Result instead`,
    });
  }
  return problems;
}

/**
 * The package's exports condition that points `regards-worker` at the sdk's sources rather than the
 * compiled package (package.json). Only this repository, running its own sources, builds with it:
 * its examples then bundle the sdk they are tested with; an installed package has only its lib/.
 */
export const SOURCE_CONDITION = 'regards-worker-source';
const RUNNING_FROM_SOURCES = import.meta.url.endsWith('.ts');

async function discover(functionsDir: string): Promise<string[]> {
  const names = await readdir(functionsDir).catch(() => []);
  return names
    .filter((name) => name.endsWith('.ts') && !name.endsWith('.d.ts') && !name.endsWith('.test.ts'))
    .sort()
    .map((name) => join(functionsDir, name));
}

async function bundle(
  root: string,
  functionsDir: string,
  sources: readonly string[],
  outdir: string,
): Promise<esbuild.Metafile> {
  try {
    const result = await esbuild.build({
      ...bundleOptions,
      absWorkingDir: root,
      entryPoints: sources.map((source) => relative(root, source)),
      outdir,
      outbase: relative(root, functionsDir),
      conditions: RUNNING_FROM_SOURCES ? [SOURCE_CONDITION] : [],
      metafile: true,
      write: true,
    });
    if (result.metafile === undefined) throw new Error('esbuild wrote no metafile');
    return result.metafile;
  } catch (cause) {
    const errors = (cause as { errors?: esbuild.Message[] }).errors;
    if (errors === undefined) throw cause;
    throw new BuildFailed(
      errors.map((message) => ({
        file: message.location?.file ?? '(esbuild)',
        line: message.location?.line,
        column: message.location?.column,
        text: explained(message),
      })),
    );
  }
}

/** esbuild's message, with what it means for a function's npm packages. */
function explained(message: esbuild.Message): string {
  const file = message.location?.file ?? '';
  if (/No loader is configured for "\.node" files/.test(message.text))
    return `${packageOf(file) ?? 'a package'} is a native addon (${message.text}): ${NATIVE_WHY}`;
  const unresolved = /^Could not resolve "([^"]+)"/.exec(message.text)?.[1];
  if (unresolved !== undefined && !unresolved.startsWith('.') && !unresolved.startsWith('/'))
    return `${message.text}: the package is not installed in this project (npm install it), or it is not a package esbuild can bundle`;
  return message.text;
}

const NATIVE_WHY =
  'a bundle is one self-contained JavaScript file and cannot carry compiled code; use a package written in JavaScript (or WebAssembly)';

/** The package a path inside node_modules belongs to (`@scope/name` or `name`; the innermost one). */
function packageOf(path: string): string | undefined {
  return /.*node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path)?.[1];
}

/** Packages that load compiled code at run time, which esbuild bundles as if it were not there. */
const ADDON_LOADERS = ['bindings', 'node-gyp-build', 'prebuild-install', 'node-addon-api', 'nan'];

/** One problem per native addon among a bundle's inputs (a binding.gyp, gypfile, or an addon loader). */
async function nativeAddons(root: string, inputs: readonly string[]): Promise<string[]> {
  const packages = new Map<string, string>();
  for (const input of inputs) {
    const name = packageOf(input);
    if (name !== undefined) packages.set(name, input.slice(0, input.lastIndexOf(`node_modules/${name}/`)));
  }
  const problems: string[] = [];
  for (const [name, prefix] of packages) {
    const dir = resolve(root, prefix, 'node_modules', name);
    const manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8').catch(() => '{}'));
    const dependencies = Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies });
    const loader = ADDON_LOADERS.find((loader) => dependencies.includes(loader));
    const gyp =
      manifest.gypfile === true ||
      (await readFile(join(dir, 'binding.gyp')).then(
        () => true,
        () => false,
      ));
    if (gyp || loader !== undefined)
      problems.push(
        `${name} is a native addon (${gyp ? 'it builds binding.gyp' : `it loads compiled code through ${loader}`}): ${NATIVE_WHY}`,
      );
  }
  return problems;
}

/** Types are unique, ignoring case: the queue names lower-case them. */
function duplicateTypes(built: readonly Built[]): BuildProblem[] {
  const seen = new Map<string, Built>();
  const problems: BuildProblem[] = [];
  for (const worker of built) {
    const key = worker.definition.type.toLowerCase();
    const first = seen.get(key);
    if (first === undefined) seen.set(key, worker);
    else {
      problems.push({
        file: worker.source,
        text: `worker type ${worker.definition.type} is already defined by ${first.source} (types share a queue when they differ only in case)`,
      });
    }
  }
  return problems;
}

/** Writes the bundles under their type's name, then the manifest, replacing the previous build. */
async function publish(built: readonly Built[], outDir: string): Promise<Manifest> {
  const bundlesDir = join(outDir, 'bundles');
  await rm(bundlesDir, { recursive: true, force: true });
  await mkdir(bundlesDir, { recursive: true });
  const workers: ManifestEntry[] = [];
  for (const worker of built) {
    const { definition } = worker;
    const file = `${definition.type}.mjs`;
    const code = (await readFile(worker.staged, 'utf8')).replace(
      `//# sourceMappingURL=${worker.name}.mjs.map`,
      `//# sourceMappingURL=${file}.map`,
    );
    const map = await readFile(`${worker.staged}.map`, 'utf8');
    await writeFile(join(bundlesDir, file), code);
    await writeFile(join(bundlesDir, `${file}.map`), map);
    const bytes = Buffer.byteLength(code);
    workers.push({
      type: definition.type,
      accepts: [...definition.accepts],
      ...(definition.produces === undefined ? {} : { produces: definition.produces }),
      bundle: `bundles/${file}`,
      sha256: createHash('sha256').update(code).digest('hex'),
      bytes,
      source: worker.source,
      sdkVersion: definition.sdkVersion,
      ...ownSettings(definition),
      ...(definition.emits.length === 0 ? {} : { emits: [...definition.emits] }),
      inputSchema: definition.inputJsonSchema(),
      ...(definition.outputJsonSchema() === undefined ? {} : { outputSchema: definition.outputJsonSchema() }),
      ...(definition.featurePropertiesJsonSchema?.() === undefined
        ? {}
        : { featurePropertiesSchema: definition.featurePropertiesJsonSchema() }),
    });
  }
  const manifest: Manifest = {
    manifestVersion: MANIFEST_VERSION,
    // Reproducible: the same sources give the same bytes; the date only where the build pins one.
    ...(process.env.SOURCE_DATE_EPOCH === undefined
      ? {}
      : { builtAt: new Date(Number(process.env.SOURCE_DATE_EPOCH) * 1000).toISOString() }),
    esbuildVersion: esbuild.version,
    workers,
  };
  const path = join(outDir, MANIFEST_FILE);
  await writeFile(`${path}.tmp`, `${JSON.stringify(manifest, null, 2)}\n`);
  await rename(`${path}.tmp`, path);
  return manifest;
}
