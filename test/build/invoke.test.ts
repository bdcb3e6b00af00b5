/**
 * `regards-worker invoke` runs a handler as the host does: in a thread of its own under its time limit
 * (a runaway handler is stopped), printing what the host would publish (events, new requests, then the
 * response), a failure's stack mapped to the function's source, a body from standard input.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildProject, ROOT } from '../integration/helpers/host.ts';

const URN = 'URN:FEATURE:DATA:PROJECT1:0f4d6d3c-1a2b-4c5d-8e9f-000000000042:V1';
const SOURCE = `import * as z from 'zod';
import { defineWorker, featureUpdate, success } from '../../sdk/index.ts';

export default defineWorker({
  type: 'invoked',
  accepts: ['invoked'],
  timeoutMs: 1000,
  emits: ['feature-update'],
  featureProperties: z.strictObject({ note: z.string() }),
  input: z.object({ action: z.enum(['spin', 'throw', 'fan-out']) }),
  handler({ body }) {
    if (body.action === 'spin') while (true) {}
    if (body.action === 'throw') throw new Error('boom');
    return success({
      requests: [{ contentType: 'next', body: { n: 1 } }, { contentType: 'next', body: { n: 2 } }],
      events: [featureUpdate({ urn: '${URN}', model: 'M', properties: { note: 'x' } })],
    });
  },
});
`;
/** The line of SOURCE that throws. */
const THROW_LINE = SOURCE.split('\n').findIndex((line) => line.includes("throw new Error('boom')")) + 1;

let bundles: string;
beforeAll(async () => {
  bundles = await buildProject({ 'invoked.ts': SOURCE });
});

function invoke(body: string, input?: string) {
  return new Promise<{ code: number; stdout: string; stderr: string; ms: number }>((resolve) => {
    const started = Date.now();
    const child = execFile(
      process.execPath,
      [join(ROOT, 'cli/main.ts'), 'invoke', 'invoked', '--bundles', bundles, '--body', '-'],
      { timeout: 60_000 },
      (error, stdout, stderr) =>
        resolve({
          code: (error as { code?: number } | null)?.code ?? 0,
          stdout,
          stderr,
          ms: Date.now() - started,
        }),
    );
    child.stdin?.end(input ?? body);
  });
}

describe('regards-worker invoke', () => {
  it('stops a runaway handler at its time limit, in its thread, and says it would be retried (exit 4)', async () => {
    const result = await invoke(JSON.stringify({ action: 'spin' }));
    expect(result.code).toBe(4);
    expect(result.stdout).toContain('handler timed out');
    // The time limit (1 s) and the abort grace, not for ever.
    expect(result.ms).toBeLessThan(20_000);
  });

  it('prints the events and new requests it would publish, before the response', async () => {
    const { code, stdout } = await invoke(JSON.stringify({ action: 'fan-out' }));
    expect(code).toBe(0);
    const exchanges = [...stdout.matchAll(/^ {2}"exchange": "([^"]+)"/gm)].map((match) => match[1]);
    expect(exchanges).toEqual([
      'regards.broadcast.fr.cnes.regards.modules.feature.dto.event.in.FeatureUpdateRequestEvent',
      'regards.broadcast.fr.cnes.regards.modules.workermanager.amqp.events.in.RequestEvent',
      'regards.broadcast.fr.cnes.regards.modules.workermanager.amqp.events.in.RequestEvent',
      'regards.worker.manager.response',
    ]);
  });

  it("shows a thrown error's stack at the function's own file and line", async () => {
    const { code, stderr } = await invoke(JSON.stringify({ action: 'throw' }));
    expect(code).toBe(4);
    expect(stderr).toContain('Error: boom');
    expect(stderr).toMatch(new RegExp(`functions/invoked\\.ts:${THROW_LINE}:\\d+`));
  });
});
