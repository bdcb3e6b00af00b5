import { execFile } from 'node:child_process';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { useTempDirs } from '../helpers/files.ts';

const root = resolve(import.meta.dirname, '../..');
const tempDir = useTempDirs();
const exec = promisify(execFile);

/**
 * A project inside this repository's folder, so that `regards-worker` resolves to this package itself
 * (self-reference), its sources as the repository's own tests see them (vitest.config.ts).
 */
async function project(): Promise<string> {
  const dir = await tempDir(join(root, 'dist'));
  await writeFile(
    join(dir, 'vitest.config.ts'),
    "export default { ssr: { resolve: { conditions: ['regards-worker-source'] } } };\n",
  );
  return dir;
}

describe('regards-worker new', () => {
  it('scaffolds a function and a test that pass as generated, and build', async () => {
    const dir = await project();
    const { stdout } = await exec(process.execPath, [
      join(root, 'cli/main.ts'),
      'new',
      'hello-world',
      '--root',
      dir,
    ]);
    expect(stdout).toContain(join(dir, 'functions/hello-world.ts'));
    expect(await readFile(join(dir, 'functions/hello-world.ts'), 'utf8')).toContain("type: 'hello-world'");
    const tests = await exec(
      process.execPath,
      [join(root, 'node_modules/vitest/vitest.mjs'), 'run', '--root', dir],
      { cwd: dir },
    );
    expect(tests.stdout).toMatch(/Tests\s+.*2 passed/);
    const built = await exec(process.execPath, [join(root, 'cli/main.ts'), 'build'], { cwd: dir });
    expect(built.stdout).toContain('bundles/hello-world.mjs');
  });

  it('scaffolds files that pass the lint as generated, whatever the length of the name', async () => {
    const dir = await project();
    for (const file of ['biome.json', '.gitignore']) await copyFile(join(root, file), join(dir, file));
    const name = 'a-rather-long-worker-name-that-pushes-lines';
    await exec(process.execPath, [join(root, 'cli/main.ts'), 'new', name, '--root', dir]);
    const biome = join(root, 'node_modules/@biomejs/biome/bin/biome');
    const lint = await exec(
      process.execPath,
      [biome, 'check', `functions/${name}.ts`, `test/functions/${name}.test.ts`],
      { cwd: dir },
    ).catch((error: { stdout: string; stderr: string }) => ({ ...error, failed: true }));
    expect(lint).not.toHaveProperty('failed');
  });

  it('refuses a name that is not kebab-case, and a function that exists', async () => {
    const dir = await project();
    const run = (name: string) =>
      exec(process.execPath, [join(root, 'cli/main.ts'), 'new', name, '--root', dir]).then(
        () => 0,
        (error: { code: number }) => error.code,
      );
    expect(await run('Hello_World')).toBe(64);
    expect(await run('twice')).toBe(0);
    expect(await run('twice')).toBe(64);
    const long = await exec(process.execPath, [
      join(root, 'cli/main.ts'),
      'new',
      `a${'b'.repeat(299)}`,
      '--root',
      dir,
    ]).catch((error: { code: number; stderr: string }) => error);
    expect(long).toMatchObject({
      code: 64,
      stderr: expect.stringContaining('the name is 300 characters: it must be 2 to 64'),
    });
  });

  it('writes the sample request it suggests, which the new worker accepts', async () => {
    const dir = await project();
    const made = await exec(process.execPath, [
      join(root, 'cli/main.ts'),
      'new',
      'sample-one',
      '--root',
      dir,
    ]);
    expect(made.stdout).toContain('--body requests/sample-one.json');
    await exec(process.execPath, [join(root, 'cli/main.ts'), 'build'], { cwd: dir });
    const invoked = await exec(
      process.execPath,
      [join(root, 'cli/main.ts'), 'invoke', 'sample-one', '--body', 'requests/sample-one.json'],
      { cwd: dir },
    );
    expect(JSON.parse(invoked.stdout).body.status).toBe('SUCCESS');
  });
});
