/**
 * What a bundle must export, checked by shape (the bundle has its own copy of the sdk: `instanceof`
 * would not work). Free of zod, so that a handler thread loads nothing but its bundle.
 */
import type { WorkerDefinition } from './define-worker.ts';

export const DEFINITION_KIND = 'regards-worker/definition';

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
