import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import {
  type ContractError,
  defineWorker,
  error,
  invalid,
  type Outcome,
  success,
  type WorkerDefinition,
} from '../../sdk/index.ts';
import { context, rawRequest } from '../helpers/requests.ts';

/** The definition's own run, below the host: bytes in, plain outcome out. */
const run = (worker: WorkerDefinition, body: unknown): Promise<Outcome> =>
  worker.run(rawRequest(body), context());

const echo = defineWorker({
  type: 'echo',
  accepts: ['echo-request'],
  input: z.object({ name: z.string(), files: z.array(z.object({ path: z.string() })).optional() }),
  handler: ({ body }) => success({ content: { hello: body.name } }),
});

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array | undefined) => new TextDecoder().decode(data);

describe('defineWorker validates the definition', () => {
  const base = { accepts: ['a'] as [string], input: z.object({}), handler: () => success() };
  it.each([
    ['', /type "" must be/],
    ['has space', /type "has space" must be/],
    ['x'.repeat(129), /must be 1 to 128/],
  ])('refuses type %j', (type, message) => {
    expect(() => defineWorker({ ...base, type })).toThrow(message);
  });
  it('accepts the full character set and keeps the exact case', () => {
    expect(defineWorker({ ...base, type: 'My.Worker_2-x' }).type).toBe('My.Worker_2-x');
  });
  it('refuses empty accepts, a bad timeout, and says all problems at once', () => {
    try {
      defineWorker({ ...base, type: 'ok', accepts: [] as unknown as [string], timeoutMs: -1 });
      expect.unreachable();
    } catch (cause) {
      expect((cause as ContractError).code).toBe('INVALID_DEFINITION');
      expect((cause as Error).message).toMatch(
        /accepts must be a non-empty list.*timeoutMs must be an integer from 1 to 1500000/,
      );
    }
  });
});

describe('run: body to outcome', () => {
  it('validates the body and encodes JSON content as UTF-8', async () => {
    const outcome = await run(echo, { name: 'Ada' });
    expect(outcome.status).toBe('SUCCESS');
    if (outcome.status === 'SUCCESS') expect(JSON.parse(text(outcome.content))).toEqual({ hello: 'Ada' });
  });

  it('answers INVALID_CONTENT naming each failing field', async () => {
    const outcome = await run(echo, { name: 3, files: [{ path: 'ok' }, { path: 7 }] });
    expect(outcome).toEqual({
      status: 'INVALID_CONTENT',
      messages: [
        'name: Invalid input: expected string, received number',
        'files[1].path: Invalid input: expected string, received number',
      ],
    });
  });

  it('names the first 50 failing fields and counts the others', async () => {
    const files = Array.from({ length: 10_000 }, () => ({ path: 1 }));
    const outcome = await run(echo, { name: 'x', files });
    if (outcome.status !== 'INVALID_CONTENT') throw new Error(outcome.status);
    expect(outcome.messages).toHaveLength(51);
    expect(outcome.messages[49]).toBe('files[49].path: Invalid input: expected string, received number');
    expect(outcome.messages[50]).toBe('… and 9950 more issues');
  });

  it('refuses isolation values it does not know', () => {
    expect(() =>
      defineWorker({
        type: 't',
        accepts: ['a'],
        input: z.object({}),
        handler: () => success(),
        isolation: 'fork' as 'thread',
      }),
    ).toThrow(/isolation must be one of thread, inline/);
  });

  it('answers INVALID_CONTENT for a body that is not JSON, or not UTF-8', async () => {
    for (const body of [bytes('{not json'), new Uint8Array([0x7b, 0xff, 0x7d])]) {
      const outcome = await echo.run(rawRequest(body), context());
      expect(outcome.status).toBe('INVALID_CONTENT');
      if (outcome.status !== 'SUCCESS') expect(outcome.messages[0]).toMatch(/^body is not valid UTF-8 JSON/);
    }
  });

  it('passes string and byte content through, and headers, messages and new requests', async () => {
    const worker = defineWorker({
      type: 'w',
      accepts: ['x'],
      input: z.unknown(),
      handler: (_, ctx) =>
        ctx.signal.aborted
          ? error('aborted')
          : success({
              content: new Uint8Array([0, 255]),
              headers: { step: 'one' },
              messages: ['done'],
              requests: [{ contentType: 'next', body: 'raw text', owner: 'me' }],
            }),
    });
    const outcome = await run(worker, null);
    expect(outcome).toEqual({
      status: 'SUCCESS',
      content: new Uint8Array([0, 255]),
      headers: { step: 'one' },
      messages: ['done'],
      requests: [{ contentType: 'next', body: bytes('raw text'), owner: 'me', session: undefined }],
      events: [],
    });
  });

  it('turns invalid() and error() into plain verdicts', async () => {
    const worker = defineWorker({
      type: 'w',
      accepts: ['x'],
      input: z.object({ fail: z.boolean() }),
      handler: ({ body }) => (body.fail ? error('boom', 'twice') : invalid('bad product')),
    });
    expect(await run(worker, { fail: true })).toEqual({ status: 'ERROR', messages: ['boom', 'twice'] });
    expect(await run(worker, { fail: false })).toEqual({
      status: 'INVALID_CONTENT',
      messages: ['bad product'],
    });
  });

  it('throws NOT_A_RESULT for a handler that returns something else (an undetermined failure)', async () => {
    const worker = defineWorker({
      type: 'w',
      accepts: ['x'],
      input: z.unknown(),
      handler: (() => ({ status: 'OK' })) as never,
    });
    await expect(run(worker, {})).rejects.toMatchObject({ code: 'NOT_A_RESULT' });
  });

  it('lets a handler throw through: the host decides what a throw becomes', async () => {
    const worker = defineWorker({
      type: 'w',
      accepts: ['x'],
      input: z.unknown(),
      handler: () => {
        throw new Error('disk on fire');
      },
    });
    await expect(run(worker, {})).rejects.toThrow('disk on fire');
  });

  it('answers ERROR when the content fails the output schema', async () => {
    const worker = defineWorker({
      type: 'w',
      accepts: ['x'],
      input: z.unknown(),
      output: z.object({ size: z.number() }),
      handler: () => success({ content: { size: 'big' } as unknown as { size: number } }),
    });
    expect(await run(worker, {})).toEqual({
      status: 'ERROR',
      messages: ['output does not match its schema: size: Invalid input: expected number, received string'],
    });
  });

  it('describes its input as JSON Schema', () => {
    expect(echo.inputJsonSchema()).toMatchObject({
      type: 'object',
      required: ['name'],
      properties: { name: { type: 'string' } },
    });
  });
});
