import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from '../../build/build.ts';
import type { BuildFailed } from '../../build/problems.ts';
import type { Manifest } from '../../sdk/bundle.ts';
import { useTempDirs } from '../helpers/files.ts';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
const tempDir = useTempDirs();

describe('build of the example functions', () => {
  let manifest: Manifest;
  let outDir: string;
  beforeAll(async () => {
    await mkdir(join(root, 'dist'), { recursive: true });
    outDir = await mkdtemp(join(root, 'dist', '.test-'));
    manifest = (await build({ root, outDir })).manifest;
  });
  afterAll(() => rm(outDir, { recursive: true, force: true }));

  it('writes one bundle per function and a manifest describing each', async () => {
    expect(manifest.workers.map((w) => w.type).sort()).toEqual([
      'extract-archive',
      'extract-metadata',
      'move-file',
    ]);
    expect((await readdir(join(outDir, 'bundles'))).sort()).toEqual([
      'extract-archive.mjs',
      'extract-archive.mjs.map',
      'extract-metadata.mjs',
      'extract-metadata.mjs.map',
      'move-file.mjs',
      'move-file.mjs.map',
    ]);
    for (const worker of manifest.workers) {
      const code = await readFile(join(outDir, worker.bundle));
      expect(worker.sha256).toBe(createHash('sha256').update(code).digest('hex'));
      expect(worker.bytes).toBe(code.length);
      expect(code.toString()).toContain(`//# sourceMappingURL=${worker.type}.mjs.map`);
      expect(worker.sdkVersion).toMatch(/^\d+\.\d+\.\d+/);
    }
    const move = manifest.workers.find((w) => w.type === 'move-file');
    expect(move).toMatchObject({
      accepts: ['move-file-request'],
      produces: 'file-location',
      source: 'functions/move-file.ts',
    });
    expect(move?.inputSchema).toMatchObject({ type: 'object', required: ['source', 'destination'] });
  });

  it('makes self-contained bundles: each one, alone in an empty folder, imports with plain node and runs', async () => {
    for (const worker of manifest.workers) {
      const alone = await tempDir();
      const copy = join(alone, 'bundle.mjs');
      await copyFile(join(outDir, worker.bundle), copy);
      const script = `
        const { default: worker } = await import(${JSON.stringify(copy)});
        const ctx = { signal: new AbortController().signal, log: console, progress: async () => {} };
        const body = new TextEncoder().encode('{}');
        const outcome = await worker.run({ body, requestId: 'r', tenant: 't', owner: 'o', session: 's', contentType: 'c', attempt: 1, headers: {} }, ctx);
        console.log(JSON.stringify({ type: worker.type, status: outcome.status }));`;
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
        cwd: alone,
        env: {},
      });
      // An empty body fails every example's schema: the definition ran its validation.
      expect(JSON.parse(stdout)).toEqual({ type: worker.type, status: 'INVALID_CONTENT' });
    }
  });
});

describe('build failures are reported together', () => {
  const sdk = JSON.stringify(join(root, 'sdk/index.ts'));
  const amqplib = JSON.stringify(join(root, 'node_modules/amqplib/channel_api.js'));
  const worker = (type: string) =>
    `import * as z from 'zod';\nimport { defineWorker, success } from ${sdk};\nexport default defineWorker({ type: ${JSON.stringify(type)}, accepts: ['x'], input: z.object({}), handler: () => success() });\n`;

  async function project(files: Record<string, string>): Promise<string> {
    const dir = await tempDir(join(root, 'dist'));
    await mkdir(join(dir, 'functions'));
    for (const [name, source] of Object.entries(files)) {
      await mkdir(join(dir, 'functions', name, '..'), { recursive: true });
      await writeFile(join(dir, 'functions', name), source);
    }
    return dir;
  }

  async function problemsOf(dir: string) {
    const failure = (await build({ root: dir }).catch((cause) => cause)) as BuildFailed;
    expect(failure.code).toBe('BUILD_FAILED');
    return failure.problems;
  }

  it("refuses a native addon among a function's packages, and a package that is not there, naming each", async () => {
    const dir = await project({
      'a-gyp.ts': `import addon from 'gyp-addon';\nconsole.log(addon);\n${worker('gyp')}`,
      'b-loader.ts': `import addon from 'loaded-addon';\nconsole.log(addon);\n${worker('loader')}`,
      'c-dot-node.ts': `import addon from 'dot-node-addon';\nconsole.log(addon);\n${worker('dot-node')}`,
      'd-missing.ts': `import gone from 'not-installed-here';\nconsole.log(gone);\n${worker('missing')}`,
    });
    const packages: Record<string, Record<string, string>> = {
      'gyp-addon': { 'package.json': '{"name":"gyp-addon","main":"index.js","gypfile":true}' },
      'loaded-addon': {
        'package.json': '{"name":"loaded-addon","main":"index.js","dependencies":{"node-gyp-build":"^4"}}',
      },
      'dot-node-addon': {
        'package.json': '{"name":"dot-node-addon","main":"index.js"}',
        'index.js': "module.exports = require('./build/addon.node');\n",
        'build/addon.node': 'not really compiled code',
      },
    };
    for (const [name, files] of Object.entries(packages))
      for (const [file, text] of Object.entries({ 'index.js': 'module.exports = 1;\n', ...files })) {
        await mkdir(join(dir, 'node_modules', name, file, '..'), { recursive: true });
        await writeFile(join(dir, 'node_modules', name, file), text);
      }
    // What esbuild cannot bundle stops the bundling: those two first, the others once they are gone.
    const esbuildTexts = (await problemsOf(dir)).map((problem) => problem.text).sort();
    expect(esbuildTexts).toEqual([
      expect.stringMatching(/^Could not resolve "not-installed-here".*not installed in this project/),
      expect.stringMatching(/^dot-node-addon is a native addon \(No loader is configured for "\.node" files/),
    ]);
    await rm(join(dir, 'functions/c-dot-node.ts'));
    await rm(join(dir, 'functions/d-missing.ts'));
    expect((await problemsOf(dir)).map((problem) => problem.text)).toEqual([
      expect.stringMatching(/^gyp-addon is a native addon \(it builds binding.gyp\): a bundle is one/),
      expect.stringMatching(
        /^loaded-addon is a native addon \(it loads compiled code through node-gyp-build\)/,
      ),
    ]);
  });

  it('names file, line and text for code that does not compile', async () => {
    const dir = await project({
      'ok.ts': worker('ok'),
      'broken.ts': 'export default {\n  oops: (,\n};\n',
      'other.ts': 'const = 1;\n',
    });
    const problems = await problemsOf(dir);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ file: 'functions/broken.ts', line: 2, text: expect.any(String) }),
        expect.objectContaining({ file: 'functions/other.ts', line: 1 }),
      ]),
    );
    expect(await readdir(dir)).not.toContain('manifest.json');
  });

  it('collects missing default exports, invalid definitions, duplicate types and impure bundles', async () => {
    const dir = await project({
      'a-first.ts': worker('Same'),
      'b-second.ts': worker('same'),
      'c-no-default.ts': `export const x = 1;\n`,
      'd-not-a-worker.ts': `export default { hello: 'world' };\n`,
      'e-bad-type.ts': worker('has spaces'),
      'f-impure.ts': `import ${amqplib.replace(/^"|"$/g, "'")};\n${worker('impure')}`,
    });
    const problems = await problemsOf(dir);
    const byFile = Object.fromEntries(problems.map((p) => [p.file, p.text]));
    expect(byFile).toEqual({
      'functions/b-second.ts': expect.stringContaining(
        'worker type same is already defined by functions/a-first.ts',
      ),
      'functions/c-no-default.ts': expect.stringContaining('no default export'),
      'functions/d-not-a-worker.ts': expect.stringContaining('not a defineWorker'),
      'functions/e-bad-type.ts': expect.stringContaining('type "has spaces" must be'),
      'functions/f-impure.ts': expect.stringContaining('bundles must stay pure: amqplib'),
    });
  });

  it('names a forbidden package once, at the line that imports it, whatever its files', async () => {
    const dir = await project({
      'lib/transport.ts': `export const x = 1;\nimport * as amqp from 'amqplib';\nexport const connect = amqp.connect;\n`,
      'g-indirect.ts': `import { connect } from './lib/transport.ts';\nconsole.log(connect);\n${worker('indirect')}`,
    });
    const problems = (await problemsOf(dir)).filter((p) => p.text.includes('amqplib'));
    expect(problems).toEqual([
      {
        file: 'functions/lib/transport.ts',
        line: 2,
        text: expect.stringContaining(
          'bundles must stay pure: amqplib is imported (by functions/g-indirect.ts)',
        ),
      },
    ]);
  });

  it('writes the same manifest for the same sources (reproducible), a date only with SOURCE_DATE_EPOCH', async () => {
    const [one, two] = [await tempDir(join(root, 'dist')), await tempDir(join(root, 'dist'))];
    await build({ root, outDir: one });
    await build({ root, outDir: two });
    const again = await readFile(join(two, 'manifest.json'), 'utf8');
    expect(again).toBe(await readFile(join(one, 'manifest.json'), 'utf8'));
    expect(JSON.parse(again).builtAt).toBeUndefined();
    process.env.SOURCE_DATE_EPOCH = '1700000000';
    try {
      await build({ root, outDir: one });
    } finally {
      delete process.env.SOURCE_DATE_EPOCH;
    }
    expect(JSON.parse(await readFile(join(one, 'manifest.json'), 'utf8')).builtAt).toBe(
      '2023-11-14T22:13:20.000Z',
    );
  });
});
