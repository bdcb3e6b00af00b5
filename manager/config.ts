/**
 * The local manager's configuration: worker and workflow configurations in the REGARDS
 * import/export format. Items are found wherever the export nests them: `{key, value}` pairs whose
 * key names WorkerConfigDto or WorkflowConfigDto, or bare objects of those shapes.
 */
import * as z from 'zod';
import { managerRuleErrors } from './rules.ts';

export const workerConfig = z.object({
  workerType: z.string().min(1),
  contentTypeInputs: z.array(z.string().min(1)),
  contentTypeOutput: z.string().min(1).nullish(),
  keepErrors: z.boolean().optional(),
});

export const workflowConfig = z.object({
  workflowType: z.string().min(1),
  steps: z.array(z.object({ stepNumber: z.number().int(), workerType: z.string().min(1) })).min(1),
  keepErrors: z.boolean().optional(),
});

export type WorkerConfig = z.infer<typeof workerConfig>;
export type WorkflowConfig = z.infer<typeof workflowConfig>;

export interface ManagerConfig {
  readonly workers: readonly WorkerConfig[];
  readonly workflows: readonly WorkflowConfig[];
}

export class ManagerConfigError extends Error {
  readonly code = 'MANAGER_CONFIG_INVALID';
}

/** The worker and workflow items of a document, as found, unchecked, with where each was. */
export function findItems(document: unknown): {
  workers: { value: unknown; path: string }[];
  workflows: { value: unknown; path: string }[];
} {
  const workers: { value: unknown; path: string }[] = [];
  const workflows: { value: unknown; path: string }[] = [];
  const visit = (node: unknown, path: string): void => {
    if (Array.isArray(node)) {
      for (const [i, item] of node.entries()) visit(item, `${path}[${i}]`);
      return;
    }
    if (typeof node !== 'object' || node === null) return;
    const record = node as Record<string, unknown>;
    const key = typeof record.key === 'string' ? record.key : '';
    const value = 'value' in record && key !== '' ? record.value : record;
    if (
      key.endsWith('WorkerConfigDto') ||
      (key === '' && 'workerType' in record && 'contentTypeInputs' in record)
    )
      workers.push({ value, path });
    else if (
      key.endsWith('WorkflowConfigDto') ||
      (key === '' && 'workflowType' in record && 'steps' in record)
    )
      workflows.push({ value, path });
    else for (const [name, child] of Object.entries(record)) visit(child, `${path}.${name}`);
  };
  visit(document, '$');
  return { workers, workflows };
}

/**
 * Reads a configuration and refuses, listing every error, one the real manager would refuse (see
 * rules.ts) or that this one cannot use.
 */
export function parseManagerConfig(document: unknown): ManagerConfig {
  const items = findItems(document);
  const problems = managerRuleErrors(
    items.workers.map((item) => item.value),
    items.workflows.map((item) => item.value),
  ).map((error) => error.message.replaceAll('\n', ' '));
  const workers: WorkerConfig[] = [];
  const workflows: WorkflowConfig[] = [];
  for (const [list, schema, into] of [
    [items.workers, workerConfig, workers],
    [items.workflows, workflowConfig, workflows],
  ] as const) {
    for (const item of list) {
      const parsed = schema.safeParse(item.value);
      if (parsed.success) (into as unknown[]).push(parsed.data);
      else if (problems.length === 0)
        problems.push(
          `${item.path}: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`,
        );
    }
  }
  if (problems.length > 0)
    throw new ManagerConfigError(`invalid manager configuration: ${problems.join('; ')}`);
  if (workers.length === 0) throw new ManagerConfigError('the configuration has no WorkerConfigDto item');
  return { workers, workflows };
}

/** Worker types of a workflow in stepNumber order (numbers need not be contiguous). */
export function orderedSteps(workflow: WorkflowConfig): string[] {
  return [...workflow.steps].sort((a, b) => a.stepNumber - b.stepNumber).map((step) => step.workerType);
}
