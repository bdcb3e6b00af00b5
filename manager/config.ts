/**
 * The local manager's configuration: worker and workflow configurations in the REGARDS
 * import/export format. Items are found wherever the export nests them: `{key, value}` pairs whose
 * key names WorkerConfigDto or WorkflowConfigDto, or bare objects of those shapes.
 */
import * as z from 'zod';

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

export function parseManagerConfig(document: unknown): ManagerConfig {
  const workers: WorkerConfig[] = [];
  const workflows: WorkflowConfig[] = [];
  const problems: string[] = [];
  const visit = (node: unknown, path: string): void => {
    if (Array.isArray(node)) {
      for (const [i, item] of node.entries()) visit(item, `${path}[${i}]`);
      return;
    }
    if (typeof node !== 'object' || node === null) return;
    const record = node as Record<string, unknown>;
    const key = typeof record.key === 'string' ? record.key : '';
    const item = 'value' in record && key !== '' ? record.value : record;
    const isWorker =
      key.endsWith('WorkerConfigDto') ||
      (key === '' && 'workerType' in record && 'contentTypeInputs' in record);
    const isWorkflow =
      key.endsWith('WorkflowConfigDto') || (key === '' && 'workflowType' in record && 'steps' in record);
    if (isWorker || isWorkflow) {
      const parsed = (isWorker ? workerConfig : workflowConfig).safeParse(item);
      if (!parsed.success)
        problems.push(
          `${path}: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`,
        );
      else if (isWorker) workers.push(parsed.data as WorkerConfig);
      else workflows.push(parsed.data as WorkflowConfig);
      return;
    }
    for (const [name, child] of Object.entries(record)) visit(child, `${path}.${name}`);
  };
  visit(document, '$');
  for (const workflow of workflows) {
    const steps = orderedSteps(workflow);
    steps.forEach((step, i) => {
      const worker = workers.find((w) => w.workerType === step);
      if (worker === undefined)
        problems.push(`workflow ${workflow.workflowType}: no worker configuration for step ${step}`);
      const next = steps[i + 1];
      const nextWorker = next === undefined ? undefined : workers.find((w) => w.workerType === next);
      if (worker && nextWorker && !nextWorker.contentTypeInputs.includes(worker.contentTypeOutput ?? '')) {
        problems.push(
          `workflow ${workflow.workflowType}: ${step} produces ${worker.contentTypeOutput ?? 'nothing'}, which ${next} does not accept`,
        );
      }
    });
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
