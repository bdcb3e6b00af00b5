/** The trivial worker the benchmark runs in the adapter: validate a small body, answer it back. */
import * as z from 'zod';
import { defineWorker, success } from '../sdk/index.ts';

export default defineWorker({
  type: 'bench-echo',
  accepts: ['bench'],
  input: z.object({ n: z.number().int() }),
  handler: ({ body }) => success({ content: { n: body.n } }),
});
