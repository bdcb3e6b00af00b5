/**
 * `regards-worker check`: a worker and workflow configuration checked before it reaches REGARDS. The
 * real manager's import rules (rules.ts) and, given the bundles' manifest, what no manager checks: every
 * worker type has a bundle (or runs elsewhere), each bundle agrees with its configuration, and each step's
 * output schema fits the next step's input schema (schema-compatibility.ts). Pure.
 */
import type { Manifest } from '../sdk/bundle.ts';
import { findItems } from './config.ts';
import { managerRuleErrors } from './rules.ts';
import { incompatibilities, type JsonSchema } from './schema-compatibility.ts';

export interface CheckProblem {
  /** Whose rule: the real manager's, the bundles', the schemas between steps, or a REGARDS model's. */
  readonly rule: 'manager' | 'bundles' | 'schemas' | 'model';
  readonly severity: 'error' | 'warning';
  readonly key: string | undefined;
  readonly message: string;
}

export interface CheckOptions {
  /** The manifest of the bundles: without it, the configuration alone is checked. */
  readonly manifest?: Manifest;
  /** Worker types that run elsewhere (no bundle here). */
  readonly external?: readonly string[];
}

const record = (value: unknown): Record<string, unknown> =>
  typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};

export function checkConfiguration(document: unknown, options: CheckOptions = {}): CheckProblem[] {
  const items = findItems(document);
  const workers = items.workers.map((item) => record(item.value));
  const workflows = items.workflows.map((item) => record(item.value));
  const problems: CheckProblem[] = managerRuleErrors(workers, workflows).map((error) => ({
    rule: 'manager',
    severity: 'error',
    key: error.key,
    message: error.message,
  }));
  const { manifest } = options;
  if (manifest === undefined) return problems;
  const problem = (
    rule: CheckProblem['rule'],
    key: string,
    message: string,
    severity: CheckProblem['severity'] = 'error',
  ) => problems.push({ rule, severity, key, message });

  const bundleOf = new Map(manifest.workers.map((entry) => [entry.type, entry]));
  const external = new Set(options.external ?? []);
  for (const worker of workers) {
    const type = String(worker.workerType ?? '');
    const entry = bundleOf.get(type);
    if (entry === undefined) {
      if (!external.has(type))
        problem(
          'bundles',
          'NoBundleError',
          `worker "${type}" has no bundle (name it with --external if it runs elsewhere)`,
        );
      continue;
    }
    const inputs = Array.isArray(worker.contentTypeInputs) ? worker.contentTypeInputs.map(String) : [];
    const same = (a: readonly string[], b: readonly string[]) =>
      a.length === b.length && [...a].sort().join('\u0000') === [...b].sort().join('\u0000');
    if (!same(inputs, entry.accepts))
      problem(
        'bundles',
        'AcceptsMismatchError',
        `worker "${type}": the configuration's contentTypeInputs [${inputs.join(', ')}] are not the bundle's accepts [${entry.accepts.join(', ')}]`,
      );
    const output = typeof worker.contentTypeOutput === 'string' ? worker.contentTypeOutput : undefined;
    if (output !== entry.produces)
      problem(
        'bundles',
        'ProducesMismatchError',
        `worker "${type}": the configuration's contentTypeOutput ${output ?? '(none)'} is not the bundle's produces ${entry.produces ?? '(none)'}`,
      );
  }
  for (const type of bundleOf.keys())
    if (!workers.some((worker) => worker.workerType === type))
      problem(
        'bundles',
        'UnconfiguredBundleWarning',
        `bundle "${type}" has no worker configuration: the manager will not send it requests`,
        'warning',
      );

  for (const workflow of workflows) {
    const name = String(workflow.workflowType ?? '');
    const steps = (Array.isArray(workflow.steps) ? workflow.steps.map(record) : [])
      .filter((step) => typeof step.stepNumber === 'number' && typeof step.workerType === 'string')
      .sort((a, b) => (a.stepNumber as number) - (b.stepNumber as number));
    steps.slice(1).forEach((next, i) => {
      const previous = steps[i] as Record<string, unknown>;
      const from = bundleOf.get(previous.workerType as string);
      const to = bundleOf.get(next.workerType as string);
      if (from === undefined || to === undefined) return;
      const between = `workflow "${name}", step ${previous.stepNumber} (${from.type}) → step ${next.stepNumber} (${to.type})`;
      if (from.outputSchema === undefined) {
        problem(
          'schemas',
          'NoOutputSchemaWarning',
          `${between}: ${from.type} declares no output schema, so what it passes on is not checked`,
          'warning',
        );
        return;
      }
      for (const found of incompatibilities(from.outputSchema as JsonSchema, to.inputSchema as JsonSchema))
        problem('schemas', 'SchemaMismatchError', `${between}: ${found.path}: ${found.problem}`);
    });
  }
  return problems;
}
