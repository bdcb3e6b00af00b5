/**
 * `regards-worker config`: the REGARDS import/export document (the Worker Manager module's configuration)
 * for built bundles: one WorkerConfigDto per bundle (workerType, contentTypeInputs from `accepts`,
 * contentTypeOutput from `produces`, keepErrors), and the workflows of an existing document kept as they
 * are, with its module header and its workers' keepErrors. Pure.
 */
import type { ManifestEntry } from '../sdk/bundle.ts';
import { findItems } from './config.ts';

export const WORKER_CONFIG_KEY = 'fr.cnes.regards.modules.workermanager.dto.WorkerConfigDto';
export const WORKFLOW_CONFIG_KEY = 'fr.cnes.regards.modules.workermanager.dto.WorkflowConfigDto';
const MODULE = { id: 'workermanager', name: 'Worker manager', version: '2.0.0' };

/** What the export reads of a manifest: each worker's type and content types. */
export interface ExportedWorkers {
  readonly workers: readonly Pick<ManifestEntry, 'type' | 'accepts' | 'produces'>[];
}

export function exportConfiguration(manifest: ExportedWorkers, existing?: unknown): unknown {
  const items = existing === undefined ? { workers: [], workflows: [] } : findItems(existing);
  const keepErrorsOf = new Map(
    items.workers.map(({ value }) => {
      const worker = value as { workerType?: unknown; keepErrors?: unknown };
      return [String(worker.workerType), worker.keepErrors !== false];
    }),
  );
  const module =
    (existing as { modules?: { module?: unknown }[] } | undefined)?.modules?.[0]?.module ?? MODULE;
  return {
    microservice: 'rs-worker-manager',
    modules: [
      {
        module,
        configuration: [
          ...manifest.workers.map((entry) => ({
            key: WORKER_CONFIG_KEY,
            value: {
              workerType: entry.type,
              contentTypeInputs: entry.accepts,
              ...(entry.produces === undefined ? {} : { contentTypeOutput: entry.produces }),
              keepErrors: keepErrorsOf.get(entry.type) ?? true,
            },
          })),
          ...items.workflows.map(({ value }) => ({ key: WORKFLOW_CONFIG_KEY, value })),
        ],
      },
    ],
  };
}
