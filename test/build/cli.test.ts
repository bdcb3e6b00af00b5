import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTempDirs } from '../helpers/files.ts';

const root = resolve(import.meta.dirname, '../..');
const main = join(root, 'cli/main.ts');
const tempDir = useTempDirs({ until: 'file' });

async function cli(args: string[], cwd = root): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [main, ...args], { cwd });
    return { code: 0, stdout, stderr };
  } catch (cause) {
    const failed = cause as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('regards-worker build and invoke', () => {
  let bundles: string;
  let work: string;
  beforeAll(async () => {
    bundles = join(await tempDir(join(root, 'dist')), 'out');
    const built = await cli(['build', '--out', bundles]);
    expect(built.code).toBe(0);
    expect(built.stdout).toMatch(/wrote .*manifest\.json \(3 workers\) in \d+ ms/);
    work = await tempDir();
  });

  async function body(value: unknown): Promise<string> {
    const path = join(work, `${Math.random()}.json`);
    await writeFile(path, JSON.stringify(value));
    return path;
  }

  it('prints the SUCCESS response as published, with its content decoded, and exits 0', async () => {
    await mkdir(join(work, 'in'), { recursive: true });
    await writeFile(join(work, 'in', 'f.txt'), 'abc');
    const request = await body({
      source: join(work, 'in', 'f.txt'),
      destination: join(work, 'out', 'f.txt'),
    });
    const { code, stdout } = await cli([
      'invoke',
      'move-file',
      '--bundles',
      bundles,
      '--body',
      request,
      '--header',
      'regards.request.id=req-7',
      '--header',
      'regards.tenant=P1',
    ]);
    expect(code).toBe(0);
    const printed = JSON.parse(stdout);
    expect(printed.exchange).toBe('regards.worker.manager.response');
    expect(printed.headers).toEqual({ 'regards.tenant': 'P1', 'regards.request.id': 'req-7' });
    expect(printed.body.status).toBe('SUCCESS');
    expect(JSON.parse(Buffer.from(printed.body.content, 'base64').toString())).toEqual(
      printed.decodedContent,
    );
    expect(printed.decodedContent).toMatchObject({ location: join(work, 'out', 'f.txt'), size: 3 });
  });

  it('exits 2 on INVALID_CONTENT, naming the failing field', async () => {
    const { code, stdout } = await cli([
      'invoke',
      'move-file',
      '--bundles',
      bundles,
      '--body',
      await body({ source: 1 }),
    ]);
    expect(code).toBe(2);
    expect(JSON.parse(stdout).body).toEqual({
      status: 'INVALID_CONTENT',
      messages: [
        'source: Invalid input: expected string, received number',
        'destination: Invalid input: expected string, received undefined',
      ],
    });
  });

  it('exits 3 on ERROR, runs a bundle given by path, and exits 64 on bad usage', async () => {
    const missing = await body({ path: join(work, 'no-such-file') });
    const byPath = await cli(['invoke', join(bundles, 'bundles/extract-metadata.mjs'), '--body', missing]);
    expect(byPath.code).toBe(3);
    expect(JSON.parse(byPath.stdout).body.status).toBe('ERROR');
    expect((await cli(['invoke', 'move-file'])).code).toBe(64);
    expect((await cli(['invoke', 'nope', '--bundles', bundles, '--body', missing])).stderr).toMatch(
      /no worker of type nope/,
    );
  });
});

describe('help, usage and npm start before a build', () => {
  it('--help goes to standard output with exit 0: the command list, or a command its own options', async () => {
    for (const args of [['--help'], ['help'], ['-h']]) {
      const asked = await cli(args);
      expect(asked.code).toBe(0);
      expect(asked.stdout).toMatch(/^usage: regards-worker <command>/);
    }
    const options: Record<string, string[]> = {
      build: ['--pack', '--out', '--functions'],
      check: ['--config', '--bundles', '--model', '--external', '--json'],
      invoke: ['--body', '--header', '--bundles'],
      send: ['--content-type', '--body', '--timeout', '--tenant', '--owner', '--session', '--request-id'],
      manager: ['--config', '--model'],
      config: ['--bundles', '--merge', '--out'],
      new: ['--root'],
      dev: ['swaps'],
      start: ['AMQP_URL'],
      demo: ['workflow'],
    };
    for (const [command, mentioned] of Object.entries(options))
      for (const asked of [await cli([command, '--help']), await cli(['help', command])]) {
        expect(asked.code).toBe(0);
        expect(asked.stdout).toMatch(new RegExp(`^usage: regards-worker ${command}`));
        for (const option of mentioned) expect(asked.stdout).toContain(option);
      }
  });

  it('refuses options a command does not take (exit 64), and a --timeout that is no number before publishing', async () => {
    for (const args of [
      ['dev', '--bogus-flag'],
      ['demo', '--fast'],
      ['start', '--port', '1'],
      ['build', '--nope'],
    ])
      expect((await cli(args)).code).toBe(64);
    const send = await cli(['send', '--content-type', 't', '--body', 'package.json', '--timeout', 'abc']);
    expect(send.code).toBe(64);
    expect(send.stderr).toContain('--timeout takes a number of seconds over 0, got "abc"');
  });

  it('no command, or an unknown one: usage on standard error, exit 64', async () => {
    expect(await cli([])).toMatchObject({ code: 64, stdout: '' });
    const unknown = await cli(['frobnicate']);
    expect(unknown.code).toBe(64);
    expect(unknown.stderr).toContain('unknown command frobnicate');
  });

  it('npm start where nothing is built says what to run, instead of a module-not-found stack', async () => {
    const scripts = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')).scripts;
    const empty = await tempDir();
    const started = await promisify(execFile)('sh', ['-c', scripts.start], { cwd: empty }).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(started).toMatchObject({ code: 1 });
    expect((started as { stderr: string }).stderr).toContain('run npm run build first');
    expect((started as { stderr: string }).stderr).not.toContain('Cannot find module');
  });
});
