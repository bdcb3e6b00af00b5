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
      for (const input of Object.keys(meta.inputs)) {
        const forbidden = forbiddenInBundles.find((name) => input.includes(`node_modules/${name}/`));
        if (forbidden !== undefined) {
          problems.push({
            file: source,
            text: `bundles must stay pure: ${forbidden} is imported (through ${input})`,
          });
        }
      }
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
        text: message.text,
      })),
    );
  }
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
      ...(definition.timeoutMs === undefined ? {} : { timeoutMs: definition.timeoutMs }),
      ...(definition.maxAttempts === undefined ? {} : { maxAttempts: definition.maxAttempts }),
      ...(definition.prefetch === undefined ? {} : { prefetch: definition.prefetch }),
      ...(definition.isolation === undefined ? {} : { isolation: definition.isolation }),
      ...(definition.memoryMb === undefined ? {} : { memoryMb: definition.memoryMb }),
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
    builtAt: new Date().toISOString(),
    esbuildVersion: esbuild.version,
    workers,
  };
  const path = join(outDir, MANIFEST_FILE);
  await writeFile(`${path}.tmp`, `${JSON.stringify(manifest, null, 2)}\n`);
  await rename(`${path}.tmp`, path);
  return manifest;
}
