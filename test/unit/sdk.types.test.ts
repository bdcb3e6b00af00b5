// Type tests: checked by `tsc --noEmit` (npm run typecheck); the runtime assertions are trivial on purpose.
import { describe, expectTypeOf, it } from 'vitest';
import * as z from 'zod';
import { defineWorker, error, type Request, type Result, success } from '../../sdk/index.ts';

describe('the function contract, at compile time', () => {
  it('infers request.body from the input schema', () => {
    defineWorker({
      type: 't',
      accepts: ['a'],
      input: z.object({ path: z.string(), size: z.number().default(0) }),
      handler(request) {
        expectTypeOf(request.body).toEqualTypeOf<{ path: string; size: number }>();
        expectTypeOf(request).toExtend<Request<{ path: string; size: number }>>();
        expectTypeOf(request.attempt).toBeNumber();
        return success();
      },
    });
  });

  it('refuses a result that is not a Result', () => {
    defineWorker({
      type: 't',
      accepts: ['a'],
      input: z.object({}),
      // @ts-expect-error a plain object is not a Result
      handler: () => ({ status: 'OK' }),
    });
    defineWorker({
      type: 't',
      accepts: ['a'],
      input: z.object({}),
      // @ts-expect-error a function is not content
      handler: () => success({ content: () => 1 }),
    });
  });

  it('checks content against the output schema', () => {
    defineWorker({
      type: 't',
      accepts: ['a'],
      input: z.object({}),
      output: z.object({ size: z.number() }),
      // @ts-expect-error size must be a number
      handler: () => success({ content: { size: 'big' } }),
    });
    defineWorker({
      type: 't',
      accepts: ['a'],
      input: z.object({}),
      output: z.object({ size: z.number() }),
      handler: async ({ body }) =>
        Object.keys(body).length > 0 ? error('no') : success({ content: { size: 1 } }),
    });
  });

  it('types the helpers', () => {
    expectTypeOf(error('x')).toExtend<Result>();
    expectTypeOf(success({ content: 'text' })).toExtend<Result<string>>();
    // @ts-expect-error headers are strings
    success({ headers: { n: 1 } });
  });
});
