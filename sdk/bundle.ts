/**
 * The bundle contract between build/ (writer) and adapter/ (reader): the manifest written beside the
 * bundles, and what a bundle must export. Host-side only: not imported by functions, so not bundled.
 */
import * as z from 'zod';
import { DEFINITION_KIND, type WorkerDefinition } from './define-worker.ts';

export const MANIFEST_FILE = 'manifest.json';
export const MANIFEST_VERSION = 1;

export const manifestEntry = z.object({
  type: z.string().min(1),
  accepts: z.array(z.string().min(1)).min(1),
  produces: z.string().min(1).optional(),
  /** Relative to the manifest's folder, `/`-separated. */
  bundle: z.string().regex(/^bundles\/[^/]+\.mjs$/),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().nonnegative(),
  source: z.string(),
  sdkVersion: z.string(),
  timeoutMs: z.number().int().positive().optional(),
  maxAttempts: z.number().int().positive().optional(),
  prefetch: z.number().int().positive().optional(),
  inputSchema: z.record(z.string(), z.unknown()),
});

export const manifest = z.object({
  manifestVersion: z.literal(MANIFEST_VERSION),
  builtAt: z.string(),
  esbuildVersion: z.string(),
  workers: z.array(manifestEntry),
});

export type ManifestEntry = z.infer<typeof manifestEntry>;
export type Manifest = z.infer<typeof manifest>;

/**
 * The worker definition a bundle's module exports by default, checked by shape (the bundle has its
 * own copy of the sdk: `instanceof` would not work). Throws a message naming what is missing.
 */
export function definitionOf(module: unknown): WorkerDefinition {
  const exported = (module as { default?: unknown } | null)?.default;
  if (exported === undefined) throw new Error('no default export: export default defineWorker({...})');
  const candidate = exported as Partial<WorkerDefinition> | null;
  if (candidate === null || typeof candidate !== 'object' || candidate.kind !== DEFINITION_KIND) {
    throw new Error('the default export is not a defineWorker({...}) definition');
  }
  if (
    typeof candidate.run !== 'function' ||
    typeof candidate.type !== 'string' ||
    !Array.isArray(candidate.accepts)
  ) {
    throw new Error('the default export is an incomplete worker definition (sdk version mismatch?)');
  }
  return candidate as WorkerDefinition;
}
