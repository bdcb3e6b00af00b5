// The esbuild options every function bundle is built with (the build adds entry points and output paths).
// A bundle is one self-contained ES module: its own copy of zod and the sdk, no imports but node:* built-ins.

/** @type {import('esbuild').BuildOptions} */
export const bundleOptions = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node24',
  splitting: false,
  sourcemap: 'linked',
  metafile: true,
  outExtension: { '.js': '.mjs' },
  legalComments: 'none',
  minify: true,
  keepNames: true,
  logLevel: 'silent',
  // Bundled CommonJS packages call require() for node built-ins; give ES modules one.
  banner: {
    js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);",
  },
};

/** Packages that must never end up in a bundle: the host provides transport and tracing. */
export const forbiddenInBundles = [
  'amqplib',
  '@opentelemetry/sdk-node',
  '@opentelemetry/exporter-trace-otlp-http',
];
