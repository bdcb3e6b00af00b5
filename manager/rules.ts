/**
 * The real Worker Manager's import rules (rs-worker-manager: WorkerConfigService, WorkflowConfigService
 * and the bean validation of their DTOs), as it applies them to a configuration imported into an empty
 * manager: workers first, in order, each saved when valid; then the workflows against the workers saved.
 * Messages are the manager's own wording, with its error key where it has one. Where the manager stops
 * at its first failing rule, every error is reported here, but none the manager would not raise.
 * Pure: items come as found in the file (see config.ts), unchecked.
 */

export interface RuleError {
  /** The manager's error key (`DuplicatedStepNumbersError`...), or the validation constraint (`Size`...). */
  readonly key: string | undefined;
  readonly message: string;
  /** The workflow or worker type it is about, when there is one. */
  readonly subject?: string;
}

interface Worker {
  readonly workerType: string;
  readonly contentTypeInputs: readonly string[];
  readonly contentTypeOutput: string | null;
}

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const isBlank = (value: unknown) => typeof value !== 'string' || value.trim() === '';
/** How Java prints a value in the manager's messages: null, a string as is, a collection as [a, b]. */
const java = (value: unknown): string =>
  value === null || value === undefined
    ? 'null'
    : Array.isArray(value)
      ? `[${value.map(java).join(', ')}]`
      : typeof value === 'object'
        ? JSON.stringify(value)
        : String(value);

/** A bean-validation failure, as the manager's ErrorTranslator writes it. */
const violation = (code: string, message: string, field: string, rejected: unknown): RuleError => ({
  key: code,
  message: `[${code}] ${message} at ${field}: rejected value [${java(rejected)}].`,
});

/** The constraints of WorkerConfigDto. */
function workerViolations(item: Record<string, unknown>): RuleError[] {
  const errors: RuleError[] = [];
  const type = item.workerType;
  if (isBlank(type))
    errors.push(violation('NotBlank', 'Invalid worker conf with empty name', 'workerType', type));
  else if ((type as string).length > 128)
    errors.push(violation('Size', 'workerType is limited to 128 characters', 'workerType', type));
  const inputs = item.contentTypeInputs;
  if (!Array.isArray(inputs) || inputs.length === 0)
    errors.push(
      violation(
        'NotEmpty',
        'WorkerConf cannot declare empty contentTypesIn list',
        'contentTypeInputs',
        inputs ?? null,
      ),
    );
  return errors;
}

/** The constraints of WorkflowConfigDto and of its WorkflowStepDto steps. */
function workflowViolations(item: Record<string, unknown>): RuleError[] {
  const errors: RuleError[] = [];
  const type = item.workflowType;
  if (isBlank(type))
    errors.push(violation('NotBlank', 'workflowType is mandatory', 'workflowType', type ?? null));
  else if ((type as string).length > 255)
    errors.push(violation('Size', 'workflowType is limited to 255 characters', 'workflowType', type));
  const steps = item.steps;
  if (!Array.isArray(steps) || steps.length === 0) {
    errors.push(violation('NotEmpty', 'at least one step is expected', 'steps', steps ?? null));
    return errors;
  }
  steps.forEach((step: Record<string, unknown> | null, i) => {
    const number = step?.stepNumber;
    const field = (name: string) => `steps[${i}].${name}`;
    if (typeof number !== 'number')
      errors.push(violation('NotNull', 'stepNumber must be present', field('stepNumber'), null));
    else if (number < 0)
      errors.push(violation('Min', 'stepNumber must be a positive number', field('stepNumber'), number));
    const worker = step?.workerType;
    if (isBlank(worker))
      errors.push(violation('NotBlank', 'workerType must be present', field('workerType'), worker ?? null));
    else if ((worker as string).length > 128)
      errors.push(violation('Size', 'workerType is limited to 128 characters', field('workerType'), worker));
  });
  return errors.map((error) => ({ ...error, subject: text(type) }));
}

const asRecord = (item: unknown): Record<string, unknown> =>
  typeof item === 'object' && item !== null ? (item as Record<string, unknown>) : {};

/** Every error the manager would raise importing these items into an empty manager. */
export function managerRuleErrors(
  workerItems: readonly unknown[],
  workflowItems: readonly unknown[],
): RuleError[] {
  const errors: RuleError[] = [];
  // Workers, in order: each checked against those saved before it.
  const saved: Worker[] = [];
  for (const raw of workerItems.map(asRecord)) {
    const violations = workerViolations(raw);
    errors.push(...violations.map((error) => ({ ...error, subject: text(raw.workerType) })));
    const inputs = Array.isArray(raw.contentTypeInputs) ? raw.contentTypeInputs.map(String) : [];
    const others = saved.filter((worker) => worker.contentTypeInputs.some((type) => inputs.includes(type)));
    if (others.length > 0) {
      const common = [
        ...new Set(others.flatMap((w) => w.contentTypeInputs).filter((t) => inputs.includes(t))),
      ];
      errors.push({
        key: undefined,
        subject: text(raw.workerType),
        message: `WorkerConf with type=${java(raw.workerType)} declares contentType ${java(common.sort())} which are already used by ${java([...new Set(others.map((w) => w.workerType))].sort())}`,
      });
    }
    if (violations.length > 0 || others.length > 0) continue;
    const type = raw.workerType as string;
    const worker = {
      workerType: type,
      contentTypeInputs: inputs,
      contentTypeOutput: text(raw.contentTypeOutput) ?? null,
    };
    // The same type again updates it.
    const at = saved.findIndex((w) => w.workerType === type);
    if (at >= 0) saved[at] = worker;
    else saved.push(worker);
  }

  // Workflows: their models, then their types against the workers' inputs, then each one's steps.
  const workflows = workflowItems.map(asRecord);
  const modelErrors = workflows.map(workflowViolations);
  errors.push(...modelErrors.flat());
  const inputs = new Set(saved.flatMap((worker) => worker.contentTypeInputs));
  if (workflows.some((workflow) => inputs.has(text(workflow.workflowType) ?? '\u0000'))) {
    errors.push({
      key: 'DuplicatedWorkflowTypesError',
      message:
        '[DuplicatedWorkflowTypesError]: Cannot import workflow configuration because duplicated types were found within the worker configurations.\n' +
        'To fix the configuration make sure the workflowTypes are not the same than the workers contentTypeInputs.',
    });
  }
  workflows.forEach((workflow, i) => {
    if ((modelErrors[i] ?? []).length > 0) return;
    errors.push(...stepErrors(workflow, saved));
  });
  return errors;
}

function stepErrors(workflow: Record<string, unknown>, saved: readonly Worker[]): RuleError[] {
  const type = workflow.workflowType as string;
  const steps = [...(workflow.steps as { stepNumber: number; workerType: string }[])].sort(
    (a, b) => a.stepNumber - b.stepNumber,
  );
  const error = (key: string, message: string): RuleError => ({
    key,
    subject: type,
    message: `[${key} - ${type}]: ${message}`,
  });
  if (new Set(steps.map((step) => step.stepNumber)).size !== steps.length)
    return [
      error(
        'DuplicatedStepNumbersError',
        'step duplications detected! Make sure all step numbers are unique!',
      ),
    ];
  const errors: RuleError[] = [];
  let lastOut: string | null = null;
  steps.forEach((step, position) => {
    const worker = saved.find((w) => w.workerType === step.workerType);
    if (worker === undefined) {
      errors.push(
        error(
          'NotExistingWorkerError',
          `worker "${step.workerType}" configured at step ${step.stepNumber} does not exist.\nYou can only configure a worker type that is already registered.`,
        ),
      );
    } else if (worker.contentTypeOutput === null) {
      errors.push(
        error(
          'NullContentTypeOutError',
          `contentTypeOut of worker "${step.workerType}" configured at step ${step.stepNumber} must be present.\nMake sure all contentTypeOuts of the workflowConfig are configured and chainable.`,
        ),
      );
    } else if (position !== 0 && !worker.contentTypeInputs.includes(lastOut as string)) {
      errors.push(
        error(
          'NonConsistentContentTypeOutError',
          `contentTypeInputs of worker "${step.workerType}" configured at step ${step.stepNumber} do not contain the last worker contentTypeOut "${java(lastOut)}".\nMake sure each contentTypeOut is managed by the next worker inputs.`,
        ),
      );
    } else lastOut = worker.contentTypeOutput;
  });
  return errors;
}
