/**
 * `regards-worker config` and `check` on built bundles: the examples' configuration is generated from
 * them and checks clean; a workflow whose steps do not fit is reported with both steps and the path.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTempDirs } from '../helpers/files.ts';

const root = resolve(import.meta.dirname, '../..');
const main = join(root, 'cli/main.ts');
const tempDir = useTempDirs({ until: 'file' });
const committed = join(root, 'deploy/regards-workers.json');

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [main, ...args], { cwd: root });
    return { code: 0, stdout, stderr };
  } catch (cause) {
    const failed = cause as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

let examples: string;
let broken: { bundles: string; config: string };

beforeAll(async () => {
  examples = join(await tempDir(join(root, 'dist')), 'out');
  expect((await cli(['build', '--out', examples])).code).toBe(0);
  // Two steps that do not fit: the second requires a size the first never produces.
  const project = await tempDir(join(root, 'dist'));
  const sdk = JSON.stringify(join(root, 'sdk/index.ts'));
  const step = (type: string, accepts: string, produces: string, input: string, output: string) => `
import * as z from 'zod';
import { defineWorker, success } from ${sdk};
export default defineWorker({
  type: '${type}', accepts: ['${accepts}'], produces: '${produces}',
  input: ${input}, output: ${output},
  handler: () => success({ content: { name: 'x', size: 1 } }),
});`;
  await mkdir(join(project, 'functions'));
  await writeFile(
    join(project, 'functions', 'list-files.ts'),
    step('list-files', 'listing', 'file-names', 'z.object({})', 'z.object({ name: z.string() })'),
  );
  await writeFile(
    join(project, 'functions', 'size-files.ts'),
    step(
      'size-files',
      'file-names',
      'sizes',
      'z.object({ name: z.string(), size: z.number().int() })',
      'z.object({})',
    ),
  );
  const bundles = join(project, 'dist');
  expect((await cli(['build', '--functions', join(project, 'functions'), '--out', bundles])).code).toBe(0);
  const config = join(project, 'regards-workers.json');
  const exported = JSON.parse((await cli(['config', '--bundles', bundles])).stdout);
  exported.modules[0].configuration.push({
    key: 'fr.cnes.regards.modules.workermanager.dto.WorkflowConfigDto',
    value: {
      workflowType: 'sizes-of-listing',
      steps: [
        { stepNumber: 1, workerType: 'list-files' },
        { stepNumber: 2, workerType: 'size-files' },
      ],
    },
  });
  await writeFile(config, JSON.stringify(exported));
  broken = { bundles, config };
}, 120_000);

describe('regards-worker config', () => {
  it('generates deploy/regards-workers.json from the examples, its workflows kept', async () => {
    const generated = await cli(['config', '--bundles', examples, '--merge', committed]);
    expect(generated.code).toBe(0);
    expect(JSON.parse(generated.stdout)).toEqual(JSON.parse(await readFile(committed, 'utf8')));
  });
});

describe('regards-worker check', () => {
  it("is clean on the examples' configuration and bundles", async () => {
    const checked = await cli(['check', '--config', committed, '--bundles', examples]);
    expect(checked.stdout).toContain('deploy/regards-workers.json: clean');
    expect(checked.code).toBe(0);
  });

  it('reports a required field the previous step does not produce, with both steps and the path; exit 1', async () => {
    const checked = await cli(['check', '--config', broken.config, '--bundles', broken.bundles]);
    expect(checked.code).toBe(1);
    expect(checked.stdout).toContain(
      'error (schemas) workflow "sizes-of-listing", step 1 (list-files) → step 2 (size-files): $.size: required by the next step; the previous step does not produce it',
    );
    const json = JSON.parse(
      (await cli(['check', '--config', broken.config, '--bundles', broken.bundles, '--json'])).stdout,
    );
    expect(json.errors).toBe(1);
    expect(json.problems[0]).toMatchObject({
      rule: 'schemas',
      key: 'SchemaMismatchError',
      severity: 'error',
    });
  });

  it('names worker types without a bundle, unless declared external; alone, checks the manager rules only', async () => {
    const withOther = JSON.parse(await readFile(committed, 'utf8'));
    withOther.modules[0].configuration.push({
      key: 'fr.cnes.regards.modules.workermanager.dto.WorkerConfigDto',
      value: {
        workerType: 'elsewhere',
        contentTypeInputs: ['remote-input'],
        contentTypeOutput: 'remote-output',
      },
    });
    const path = join(await tempDir(), 'with-external.json');
    await writeFile(path, JSON.stringify(withOther));
    const missing = await cli(['check', '--config', path, '--bundles', examples]);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toContain('error (bundles) worker "elsewhere" has no bundle');
    expect(
      (await cli(['check', '--config', path, '--bundles', examples, '--external', 'elsewhere'])).code,
    ).toBe(0);
    const alone = await cli(['check', '--config', path]);
    expect(alone.code).toBe(0);
    expect(alone.stdout).toContain('the configuration alone');
  });
});

describe('regards-worker check --model', () => {
  it("is clean on the example's model and bundles, with the configuration or alone", async () => {
    const alone = await cli(['check', '--model', 'deploy/models/DEMO_PRODUCT.xml', '--bundles', examples]);
    expect(alone.stdout).toContain('deploy/models/DEMO_PRODUCT.xml: clean');
    expect(alone.code).toBe(0);
    const both = await cli([
      'check',
      '--config',
      committed,
      '--model',
      'deploy/models/DEMO_PRODUCT.xml',
      '--bundles',
      examples,
    ]);
    expect(both.code).toBe(0);
  });

  it('names the worker, the model and each property that does not fit; exit 1', async () => {
    const result = await cli(['check', '--model', 'test/fixtures/models/BEHAVE.xml', '--bundles', examples]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      'error (model) worker "extract-metadata", model BEHAVE: property file is not an attribute of model BEHAVE',
    );
    expect(result.stdout).toContain(
      'worker "extract-metadata", model BEHAVE: property start_datetime is not an attribute',
    );
  });

  it('exits 2, saying why, on what is not a configuration, a model or a manifest; 64 without --bundles', async () => {
    const notConfig = await cli(['check', '--config', 'package.json']);
    expect(notConfig.code).toBe(2);
    expect(notConfig.stderr).toContain('package.json holds no worker or workflow configuration');
    for (const document of ['{}', '[]']) {
      const path = join(await tempDir(), 'empty.json');
      await writeFile(path, document);
      expect((await cli(['check', '--config', path])).code).toBe(2);
    }
    const missing = await cli(['check', '--config', 'no-such-file.json']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read no-such-file.json');
    const notModel = await cli(['check', '--model', 'package.json', '--bundles', examples]);
    expect(notModel.code).toBe(2);
    expect(notModel.stderr).toContain('package.json is not a REGARDS model');
    expect((await cli(['check', '--model', 'deploy/models/DEMO_PRODUCT.xml'])).code).toBe(64);
  });
});
