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
            worker('b', ['mid']),
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
    [[worker('a', ['in'], 'mid'), worker('b', ['other'])], /a produces mid, which b does not accept/, 'mid'],
    [[worker('a', ['in'])], /no worker configuration for step ghost/, 'ghost'],
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
