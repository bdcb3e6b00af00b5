/**
 * The adapter host, precompiled: adapter/main.ts and everything of ours it imports become one
 * JavaScript file, lib/adapter.mjs (with its thread entry beside it), so that production runs without
 * type stripping (about 30 MB less RSS). The packages it uses (amqplib, zod, prom-client) are compiled
 * into it, and Node's own modules are required rather than imported: a process start to its
 * configuration read went from 116-136 ms to 69-75 ms (median of 15 starts; `node -e 0` takes 27).
 * Resolving and loading a few hundred package files was most of it, and importing `node:http` as an
 * ES module built its whole facade, undici included (19 ms). OpenTelemetry stays in node_modules: it
 * is loaded only when tracing is on, and its packages must share one API. Run it directly
 * (`node build/host.ts`) to write only it, as the image's build does; build/package.ts compiles it
 * with the rest of the package.
 */
import { builtinModules } from 'node:module';
import { join, resolve } from 'node:path';
import * as esbuild from 'esbuild';

export const HOST_FILE = 'adapter.mjs';

/** Where the package's compiled JavaScript goes (package.json: exports, bin, files). */
export const LIB_DIR = 'lib';

/**
 * Node flags the host runs with (npm start, the benchmark, the image): `--expose-gc` lets the host
 * collect once after a burst, when idle (adapter/execution/idle-gc.ts). A young generation of 4 MB a
 * semi-space on the main thread (handler threads set their own, see execution/thread.ts): saturation
 * at prefetch 10, 3 rounds each, peak RSS 139 MB at 8 MB against 133 at 4, the CPU a message within the
 * machine's noise. Earlier: 8 MB against V8's default, peak 133-152 MB against 168; 2 MB cost 745 to
 * 869 µs a message (more collections) for no less RSS.
 */
export const HOST_NODE_FLAGS = ['--max-semi-space-size=4', '--expose-gc'];

/** The output files (without .mjs) and their sources: the host and its handler threads' entry. */
export const HOST_ENTRIES = {
  adapter: 'adapter/main.ts',
  // adapter/execution/pool.ts finds it beside the file it was compiled into.
  'handler-thread': 'adapter/execution/handler-thread.ts',
  // adapter/bundles/load-check.ts runs it as a process of its own.
  'load-check': 'adapter/bundles/load-check-process.ts',
} as const;

/**
 * Compiles `entries` into `outDir`, each one self-contained ES module (no shared chunks: the host
 * loads its own file and nothing of the command's). `packages`: left to node_modules (what an author's
 * code imports must be the package's one copy), or compiled in (the host's processes).
 */
export async function compile(
  root: string,
  outDir: string,
  entries: Readonly<Record<string, string>>,
  packages: 'external' | 'compiled in' = 'external',
) {
  await esbuild.build({
    absWorkingDir: resolve(root),
    entryPoints: Object.entries(entries).map(([out, source]) => ({ in: source, out })),
    bundle: true,
    ...(packages === 'external'
      ? { packages: 'external' }
      : {
          external: ['@opentelemetry/sdk-node', '@opentelemetry/exporter-trace-otlp-http'],
          plugins: [builtinsRequired],
          // What the packages' and Node's modules are required with.
          banner: { js: REQUIRE_BANNER },
        }),
    platform: 'node',
    format: 'esm',
    target: 'node24',
    sourcemap: 'linked',
    outdir: resolve(root, outDir),
    outExtension: { '.js': '.mjs' },
    logLevel: 'warning',
  });
}

const REQUIRE_BANNER =
  "import { createRequire as __hostRequire } from 'node:module'; const require = __hostRequire(import.meta.url);";

/** Node's modules through `require`: an ES import of one builds its whole facade (every export's getter). */
const builtinsRequired: esbuild.Plugin = {
  name: 'builtins-required',
  setup(build) {
    const names = builtinModules.map((name) => name.replace(/[/\\^$*+?.()|[\]{}]/g, '\\$&')).join('|');
    build.onResolve({ filter: new RegExp(`^(node:)?(${names})$`) }, (args) =>
      args.namespace === 'builtin'
        ? { path: args.path, external: true }
        : { path: args.path, namespace: 'builtin' },
    );
    build.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)});`,
      loader: 'js',
    }));
  },
};

export async function buildHost(root: string, outDir = LIB_DIR): Promise<string> {
  await compile(root, outDir, HOST_ENTRIES, 'compiled in');
  return join(resolve(root, outDir), HOST_FILE);
}

if (import.meta.main) process.stdout.write(`wrote ${await buildHost(process.cwd())}\n`);
