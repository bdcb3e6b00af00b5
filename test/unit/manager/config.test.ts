import { describe, expect, it } from 'vitest';
import { ManagerConfigError, orderedSteps, parseManagerConfig } from '../../../manager/config.ts';

const worker = (workerType: string, inputs: string[], output?: string) => ({
  key: 'fr.cnes.regards.modules.workermanager.dto.WorkerConfigDto',
  value: { workerType, contentTypeInputs: inputs, ...(output ? { contentTypeOutput: output } : {}) },
});

describe('the manager configuration, REGARDS import/export format', () => {
  it('finds the items wherever the export nests them', () => {
    const exported = {
      microservice: 'rs-worker-manager',
      modules: [
        {
          module: { id: 'workermanager' },
          configuration: [
            worker('a', ['in'], 'mid'),
            worker('b', ['mid'], 'out'),
            {
              key: 'fr.cnes.regards.modules.workermanager.dto.WorkflowConfigDto',
              value: {
                workflowType: 'flow',
                steps: [
                  { stepNumber: 20, workerType: 'b' },
                  { stepNumber: 5, workerType: 'a' },
                ],
              },
            },
          ],
        },
      ],
    };
    const config = parseManagerConfig(exported);
    expect(config.workers.map((w) => w.workerType)).toEqual(['a', 'b']);
    expect(config.workflows.map((w) => orderedSteps(w))).toEqual([['a', 'b']]);
  });

  it('accepts bare items too', () => {
    expect(
      parseManagerConfig({ workers: [{ workerType: 'x', contentTypeInputs: ['t'] }] }).workers,
    ).toHaveLength(1);
  });

  it.each([
    [
      [worker('a', ['in'], 'mid'), worker('b', ['other'], 'x')],
      /\[NonConsistentContentTypeOutError - f\]: contentTypeInputs of worker "b" configured at step 2 do not contain the last worker contentTypeOut "mid"/,
      'mid',
    ],
    [
      [worker('a', ['in'], 'mid')],
      /\[NotExistingWorkerError - f\]: worker "ghost" configured at step 2 does not exist/,
      'ghost',
    ],
    [[], /no WorkerConfigDto/, undefined],
  ])('refuses a configuration that cannot work (%#)', (items, message, second) => {
    const workflow = second
      ? [
          {
            key: 'x.WorkflowConfigDto',
            value: {
              workflowType: 'f',
              steps: [
                { stepNumber: 1, workerType: 'a' },
                { stepNumber: 2, workerType: second === 'mid' ? 'b' : second },
              ],
            },
          },
        ]
      : [];
    expect(() => parseManagerConfig([...items, ...workflow])).toThrow(message);
    expect(() => parseManagerConfig([...items, ...workflow])).toThrow(ManagerConfigError);
  });
});

describe("the real manager's import rules, all reported", () => {
  const flow = (workflowType: string, steps: [number, string][]) => ({
    key: 'fr.cnes.regards.modules.workermanager.dto.WorkflowConfigDto',
    value: { workflowType, steps: steps.map(([stepNumber, workerType]) => ({ stepNumber, workerType })) },
  });
  const errorsOf = (items: unknown[]) => {
    try {
      parseManagerConfig(items);
      return '';
    } catch (error) {
      return (error as Error).message;
    }
  };

  it('two workers accepting one content type: the second is refused, as the manager refuses it', () => {
    expect(errorsOf([worker('a', ['t', 'u'], 'x'), worker('b', ['u'], 'y')])).toContain(
      'WorkerConf with type=b declares contentType [u] which are already used by [a]',
    );
  });

  it('lists every error at once: step numbers, workflow types, missing outputs, lengths', () => {
    const message = errorsOf([
      worker('a', ['in'], 'mid'),
      worker('b', ['mid']),
      worker('x'.repeat(129), ['long'], 'z'),
      flow('twice', [
        [1, 'a'],
        [1, 'b'],
      ]),
      flow('in', [[1, 'a']]),
      flow('no-out', [
        [1, 'a'],
        [2, 'b'],
      ]),
    ]);
    expect(message).toContain('[DuplicatedStepNumbersError - twice]: step duplications detected!');
    expect(message).toContain('[DuplicatedWorkflowTypesError]: Cannot import workflow configuration');
    expect(message).toContain(
      '[NullContentTypeOutError - no-out]: contentTypeOut of worker "b" configured at step 2 must be present.',
    );
    expect(message).toContain(
      '[Size] workerType is limited to 128 characters at workerType: rejected value [xxx',
    );
  });
});
