/** `regards-worker new <name>`: a new function, its test and a sample request, which pass as generated. */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { EXIT, type Io, UsageError } from './io.ts';

const NAME = /^[a-z][a-z0-9-]{0,62}[a-z0-9]$/;

export async function newCommand(args: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: { root: { type: 'string', default: '.' } },
  });
  const name = positionals[0];
  if (name === undefined || positionals.length > 1)
    throw new UsageError('usage: regards-worker new <name> (kebab-case)');
  if (!NAME.test(name))
    throw new UsageError(
      name.length > 64 || name.length < 2
        ? `the name is ${name.length} characters: it must be 2 to 64`
        : `the name ${JSON.stringify(name)} must be kebab-case: a-z, 0-9 and -, starting with a letter`,
    );
  const root = resolve(io.cwd, values.root);
  const files = [
    [join(root, 'functions', `${name}.ts`), functionSource(name)],
    [join(root, 'test', 'functions', `${name}.test.ts`), testSource(name)],
    // A request its input schema accepts, for invoke.
    [join(root, 'requests', `${name}.json`), `${JSON.stringify({ message: 'hello' })}\n`],
  ] as const;
  for (const [path, source] of files) {
    await mkdir(dirname(path), { recursive: true });
    try {
      await writeFile(path, source, { flag: 'wx' });
    } catch (error) {
      if ((error as { code?: string }).code === 'EEXIST') throw new UsageError(`${path} exists already`);
      throw error;
    }
    io.out(`wrote ${path}\n`);
  }
  io.out(`next: npm test, then npm run build and npm run invoke -- ${name} --body requests/${name}.json\n`);
  return EXIT.ok;
}

function functionSource(name: string): string {
  return `/**
 * ${name}: describe what this worker does, what it accepts and what it answers.
 */
import * as z from 'zod';
import { defineWorker, invalid, success } from '../sdk/index.ts';

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

function testSource(name: string): string {
  return `import { describe, expect, it } from 'vitest';
import worker from '../../functions/${name}.ts';
import { contentOf, run } from '../helpers/requests.ts';

describe('${name}', () => {
  it('answers with the message', async () => {
    expect(contentOf(await run(worker, { message: 'hello' }))).toEqual({ echoed: 'hello' });
  });

  it('refuses a blank message, and a body without one', async () => {
    expect(await run(worker, { message: ' ' })).toEqual({
      status: 'INVALID_CONTENT',
      messages: ['message: must not be blank'],
    });
    expect((await run(worker, {})).status).toBe('INVALID_CONTENT');
  });
});
`;
}
