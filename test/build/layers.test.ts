/**
 * The layers' "never" rules (README, Architecture) are the linter's (biome.json, noRestrictedImports
 * per folder): a file importing across one is refused, naming the rule; the imports that are allowed
 * pass. Checked on probe files in a copy of the layout, with this repository's own configuration.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { useTempDirs } from '../helpers/files.ts';

const root = resolve(import.meta.dirname, '../..');
const tempDir = useTempDirs();

/** Lints `files` (path → source) laid out as in this repository; the output of biome. */
async function lint(files: Record<string, string>): Promise<{ failed: boolean; output: string }> {
  const dir = await tempDir();
  const config = JSON.parse(await readFile(join(root, 'biome.json'), 'utf8'));
  // The copy is no git checkout; the layout is what the rules see.
  delete config.vcs;
  config.$schema = undefined;
  await writeFile(join(dir, 'biome.json'), JSON.stringify(config));
  for (const [path, source] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), source);
  }
  const biome = join(root, 'node_modules/@biomejs/biome/bin/biome');
  return promisify(execFile)(process.execPath, [biome, 'lint', '--max-diagnostics=50', '.'], {
    cwd: dir,
  }).then(
    ({ stdout, stderr }) => ({ failed: false, output: stdout + stderr }),
    (error: { stdout: string; stderr: string }) => ({ failed: true, output: error.stdout + error.stderr }),
  );
}

const uses = (specifier: string) => `import * as m from '${specifier}';\nexport const x = m;\n`;

describe("the layers' import rules, enforced by the linter", () => {
  it('refuse each import across a "never" rule, naming it', async () => {
    const { failed, output } = await lint({
      'protocol/a.ts': uses('../adapter/host.ts'),
      'protocol/b.ts': uses('node:fs/promises'),
      'protocol/c.ts': uses('amqplib'),
      'sdk/a.ts': uses('../adapter/telemetry/log.ts'),
      'sdk/b.ts': uses('@opentelemetry/api'),
      'adapter/a.ts': uses('../build/build.ts'),
      'adapter/b.ts': uses('../functions/move-file.ts'),
      'adapter/broker/c.ts': uses('../../cli/main.ts'),
      'cli/a.ts': uses('../adapter/execution/pool.ts'),
      'functions/a.ts': uses('../adapter/execution/pool.ts'),
      'functions/lib/b.ts': uses('../../sdk/index.ts'),
    });
    expect(failed).toBe(true);
    for (const file of ['protocol/a.ts', 'protocol/b.ts', 'protocol/c.ts', 'sdk/a.ts', 'sdk/b.ts']) {
      expect(output).toContain(`${file}:1:20 lint/style/noRestrictedImports`);
    }
    for (const file of [
      'adapter/a.ts',
      'adapter/b.ts',
      'adapter/broker/c.ts',
      'cli/a.ts',
      'functions/a.ts',
      'functions/lib/b.ts',
    ]) {
      expect(output).toContain(`${file}:1:20 lint/style/noRestrictedImports`);
    }
    expect(output).toContain('protocol/ is pure');
    expect(output).toContain('a function imports regards-worker by its name');
    expect(output).toContain('the command uses the host through adapter/index.ts');
  });

  it('let the allowed imports through', async () => {
    const { failed, output } = await lint({
      'protocol/a.ts': uses('./names.ts'),
      'protocol/b.ts': uses('node:crypto'),
      'sdk/a.ts': uses('../protocol/feature-update.ts'),
      'adapter/a.ts': uses('../protocol/index.ts'),
      'functions/a.ts': uses('regards-worker'),
      'adapter/broker/b.ts': uses('../../protocol/index.ts'),
      'cli/a.ts': uses('../adapter/index.ts'),
      'cli/b.ts': uses('../adapter/main.ts'),
      'cli/c.ts': uses('../protocol/index.ts'),
    });
    expect(output).not.toContain('noRestrictedImports');
    expect(failed).toBe(false);
  });
});
