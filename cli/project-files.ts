/**
 * The files `init` writes for a new worker project, and `new` for a new function: pure text, from
 * the names and versions given. A generated project passes its own test, build and lint as written.
 */
import { exportConfiguration } from '../manager/export.ts';
import packageJson from '../package.json' with { type: 'json' };
import { deployFiles } from './project-deploy-files.ts';

/** What a generated project depends on: the versions this package was built and tested with. */
const VERSIONS = {
  'regards-worker': packageJson.version,
  zod: packageJson.dependencies.zod,
  '@biomejs/biome': packageJson.devDependencies['@biomejs/biome'],
  '@types/node': packageJson.devDependencies['@types/node'],
  node: packageJson.devDependencies.node,
  typescript: packageJson.devDependencies.typescript,
  vitest: packageJson.devDependencies.vitest,
};

/** A function's source: its type is its name; it accepts `<name>-request` and produces `<name>-result`. */
export function functionSource(name: string): string {
  return `/**
 * ${name}: describe what this worker does, what it accepts and what it answers.
 */
import { defineWorker, invalid, success } from 'regards-worker';
import * as z from 'zod';

export default defineWorker({
  type: '${name}',
  accepts: ['${name}-request'],
  produces: '${name}-result',
  input: z.object({ message: z.string() }),
  output: z.object({ echoed: z.string() }),
  handler({ body, requestId }, { log }) {
    if (body.message.trim() === '') return invalid('message: must not be blank');
    log.info('echoing', { requestId });
    return success({ content: { echoed: body.message } });
  },
});
`;
}

/** The function's test: the request as the host decodes it, the answer as the host settles it. */
export function testSource(name: string): string {
  return `import { invokeWorker } from 'regards-worker/testing';
import { describe, expect, it } from 'vitest';
import worker from '../../functions/${name}.ts';

describe('${name}', () => {
  it('answers with the message', async () => {
    const answer = await invokeWorker(worker, { message: 'hello' });
    expect(answer.status).toBe('SUCCESS');
    expect(answer.content).toEqual({ echoed: 'hello' });
  });

  it('refuses a blank message, and a body without one', async () => {
    expect(await invokeWorker(worker, { message: ' ' })).toMatchObject({
      status: 'INVALID_CONTENT',
      messages: ['message: must not be blank'],
    });
    expect((await invokeWorker(worker, {})).status).toBe('INVALID_CONTENT');
  });
});
`;
}

/** A request body the function's schema accepts, for invoke. */
export function requestSource(): string {
  return json({ message: 'hello' });
}

/** Where `new` puts a function's files, below the project. */
export function functionFiles(name: string): [path: string, text: string][] {
  return [
    [`functions/${name}.ts`, functionSource(name)],
    [`test/functions/${name}.test.ts`, testSource(name)],
    [`requests/${name}.json`, requestSource()],
  ];
}

export interface ProjectOptions {
  /** The project's npm name. */
  readonly name: string;
  /** Its first function. */
  readonly worker: string;
  /** How it depends on regards-worker: a version range by default, or a path or tarball. */
  readonly packageSpec?: string | undefined;
}

/** Every file of a new project, by its path below the project's folder. */
export function projectFiles(options: ProjectOptions): [path: string, text: string][] {
  const { worker } = options;
  return [
    ['package.json', json(projectPackage(options))],
    ['tsconfig.json', json(TSCONFIG)],
    ['biome.json', json(BIOME)],
    ['.gitignore', 'node_modules/\ndist/\n*.tgz\n'],
    ['README.md', readme(options)],
    ['.ci/run', CI_SCRIPT],
    ...functionFiles(worker),
    [
      'deploy/regards-workers.json',
      json(
        exportConfiguration({
          workers: [{ type: worker, accepts: [`${worker}-request`], produces: `${worker}-result` }],
        }),
      ),
    ],
    ...deployFiles(worker, VERSIONS['regards-worker']),
  ];
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

function projectPackage({ name, packageSpec }: ProjectOptions) {
  const run = (command: string) => `regards-worker ${command}`;
  return {
    name,
    version: '0.1.0',
    private: true,
    type: 'module',
    engines: { node: '>=24' },
    scripts: {
      test: 'vitest run',
      build: run('build --pack'),
      invoke: run('invoke'),
      dev: run('dev'),
      new: run('new'),
      check: run('check --config deploy/regards-workers.json'),
      config: run('config --merge deploy/regards-workers.json --out deploy/regards-workers.json'),
      manager: run('manager --config deploy/regards-workers.json'),
      send: run('send'),
      start: run('start'),
      typecheck: 'tsc --noEmit',
      lint: 'biome check .',
      format: 'biome check --write .',
    },
    dependencies: {
      'regards-worker': packageSpec ?? `^${VERSIONS['regards-worker']}`,
      zod: VERSIONS.zod,
    },
    // Install scripts npm may run: esbuild's binary, and Node 24 for the npm scripts.
    allowScripts: packageJson.allowScripts,
    devDependencies: {
      '@biomejs/biome': VERSIONS['@biomejs/biome'],
      '@types/node': VERSIONS['@types/node'],
      // npm scripts run on this Node, whatever the machine's own.
      node: VERSIONS.node,
      typescript: VERSIONS.typescript,
      vitest: VERSIONS.vitest,
    },
  };
}

const TSCONFIG = {
  compilerOptions: {
    target: 'es2024',
    lib: ['es2024'],
    module: 'nodenext',
    moduleResolution: 'nodenext',
    types: ['node'],
    strict: true,
    noUncheckedIndexedAccess: true,
    verbatimModuleSyntax: true,
    isolatedModules: true,
    erasableSyntaxOnly: true,
    allowImportingTsExtensions: true,
    skipLibCheck: true,
    noEmit: true,
  },
  include: ['functions', 'test'],
};

const BIOME = {
  $schema: './node_modules/@biomejs/biome/configuration_schema.json',
  files: { includes: ['**', '!dist', '!node_modules'] },
  formatter: { indentStyle: 'space', indentWidth: 2, lineWidth: 110 },
  javascript: { formatter: { quoteStyle: 'single', semicolons: 'always' } },
  // As JSON.stringify writes it: the generated files are formatted already.
  json: { formatter: { expand: 'always' } },
  linter: { rules: { preset: 'recommended' } },
};

const CI_SCRIPT = `#!/usr/bin/env bash
# CI: install, check, test, then build the bundles archive that operators deploy (dist/bundles.tar.gz).
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --no-audit --no-fund
npm run typecheck
npm run lint
npm test
npm run build
`;

function readme({ name, worker }: ProjectOptions): string {
  return `# ${name}

REGARDS workers, each one function in \`functions/\`, run by the generic regards-worker host.

## The loop

- install, once: \`npm install\`
- write a function: \`npm run new -- <name>\` writes \`functions/<name>.ts\`, its test and a sample request
- test: \`npm test\`; \`regards-worker/testing\` runs a function as the host does, with no broker
- type-check and lint: \`npm run typecheck && npm run lint\`
- build: \`npm run build\` writes \`dist/bundles/<type>.mjs\`, \`dist/manifest.json\` and \`dist/bundles.tar.gz\`
- invoke: \`npm run invoke -- ${worker} --body requests/${worker}.json\` runs one request and prints what the
  host would publish
- dev: \`npm run dev\` runs the host on the local RabbitMQ, rebuilt and swapped on every change
- manager and send: \`npm run manager\`, then
  \`npm run send -- --content-type ${worker}-request --body requests/${worker}.json\`
- REGARDS configuration: \`npm run config\` writes \`deploy/regards-workers.json\` for the built bundles (its
  workflows kept); \`npm run check\` checks it as the Worker Manager would
- pack: \`npm run build\` also prints the sha256 of \`dist/bundles.tar.gz\`, what you hand to operators
- deploy: the generic image with that archive mounted: \`deploy/compose.yaml\`, \`deploy/kubernetes\`

A function may import any npm package of this project's: the build bundles it into the function's one
file. A package with a native addon, or one the bundler cannot resolve, is refused at build, named.

The host runs the bundles of its own sdk version (the manifest records it): rebuild your functions when
you update \`regards-worker\` to a new major (below 1.0, a new minor).

\`.ci/run\` is the CI script: install, type-check, lint, test, build.
`;
}
