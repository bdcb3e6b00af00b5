import { spawn } from 'node:child_process';
import { appendFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { useTempDirs } from '../helpers/files.ts';
import { connectTestBroker, uniqueType } from './helpers/broker.ts';
import { hostEnv, ROOT, sourceAs, waitUntil } from './helpers/host.ts';

const tempDir = useTempDirs();
const type = uniqueType('dev');
const broker = await connectTestBroker();
broker.forget(type);
afterAll(() => broker.close());

describe('regards-worker dev', () => {
  it('rebuilds on a change and the running adapter swaps to it; a failed build keeps the running one', async () => {
    const dir = await tempDir(join(ROOT, 'dist'));
    await mkdir(join(dir, 'functions'));
    const source = (await sourceAs('test/fixtures/behave.ts', type)).replace(
      "'../../sdk/index.ts'",
      JSON.stringify(join(ROOT, 'sdk/index.ts')),
    );
    const file = join(dir, 'functions', 'behave.ts');
    await writeFile(file, source);
    const child = spawn(process.execPath, [join(ROOT, 'cli/main.ts'), 'dev'], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', ...hostEnv(join(dir, 'dist'), { WORKER_LOG_LEVEL: 'info' }) },
      stdio: ['ignore', 'pipe', 'pipe'],
      // As in a terminal: dev leads a process group, which Ctrl-C signals whole.
      detached: true,
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((done) => child.once('exit', done));
    const count = (text: string) => output.split(text).length - 1;
    try {
      // A change saved while the first build runs is seen too: the watcher is set up before it.
      await waitUntil(() => output.includes('dev: watching'), 20_000, 'the watcher');
      await appendFile(file, '\n// a change during the first build\n');
      await waitUntil(() => count('dev: built') === 2, 20_000, 'a rebuild after that change');
      await waitUntil(() => output.includes('"msg":"started"'), 20_000, 'the adapter');
      // A change of code: rebuilt, and the running adapter swaps to it (no second adapter).
      const swapsBefore = count('"msg":"bundles swapped"');
      await appendFile(file, "\nexport const changed = 'yes';\n");
      await waitUntil(() => count('dev: built') === 3, 20_000, 'a rebuild after the change');
      await waitUntil(() => count('"msg":"bundles swapped"') > swapsBefore, 20_000, 'the swap');
      expect(output).toMatch(/dev: behave\.ts changed; rebuilding/);
      // Atomic saves (a temporary file renamed over the source, as sed -i, vim and IDEs save): each one
      // seen, a plain write after them too, and the line names the source, not the temporary file.
      for (let save = 1; save <= 2; save += 1) {
        const built = count('dev: built');
        const temporary = join(dir, 'functions', `.behave.ts.${save}.tmp`);
        await writeFile(temporary, `${await readFile(file, 'utf8')}\nexport const saved${save} = ${save};\n`);
        await rename(temporary, file);
        await waitUntil(() => count('dev: built') > built, 20_000, `a rebuild after atomic save ${save}`);
      }
      const beforePlain = count('dev: built');
      await appendFile(file, "\nexport const plain = 'after the atomic saves';\n");
      await waitUntil(() => count('dev: built') > beforePlain, 20_000, 'a rebuild after a plain write');
      expect(output).not.toMatch(/dev: [^\n]*\.tmp/);
      await appendFile(file, '\nexport const broken = ;\n');
      await waitUntil(() => output.includes('the running adapter is kept'), 20_000, 'the failed build');
      expect(output).toMatch(/functions\/behave\.ts:\d+:\d+: /);
      expect(count('dev: adapter started')).toBe(1);
    } finally {
      // Ctrl-C: SIGINT to the terminal's whole foreground process group.
      process.kill(-(child.pid ?? 0), 'SIGINT');
    }
    expect(await exited).toBe(0);
    // The adapter was stopped once, and drained; not killed by a second signal.
    await waitUntil(() => output.includes('"msg":"stopped"'), 10_000, 'the adapter to stop');
    expect(output).not.toContain('"msg":"exiting now"');
  });
});
