/**
 * The one table of endings (adapter/delivery/endings.ts): the span status is read from it (a `rejected`
 * delivery once got none while the metrics counted it dead-lettered), and the table of docs/host.md is it.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Span, SpanStatusCode } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { ENDINGS } from '../../../adapter/delivery/endings.ts';
import { recordEnding } from '../../../adapter/telemetry/tracing.ts';
import type { Ending } from '../../../protocol/index.ts';

/** A span that keeps the status it was given. */
function recordingSpan(): Span & { status: { code: SpanStatusCode; message?: string } | undefined } {
  const span = {
    status: undefined as { code: SpanStatusCode; message?: string } | undefined,
    setAttributes: () => span,
    setStatus: (status: { code: SpanStatusCode; message?: string }) => {
      span.status = status;
      return span;
    },
  };
  return span as unknown as Span & { status: { code: SpanStatusCode; message?: string } | undefined };
}

describe('endings', () => {
  it('give a CONSUMER span the ERROR status exactly when the request was not answered SUCCESS or INVALID_CONTENT', () => {
    const errors = (Object.keys(ENDINGS) as Ending[]).filter((ending) => {
      const span = recordingSpan();
      recordEnding(span, ending, { type: 't', attempt: 1, requestId: 'r', reason: `because ${ending}` });
      return span.status?.code === SpanStatusCode.ERROR;
    });
    expect(errors).toEqual([
      'error',
      'retry',
      'dead-letter',
      'undecodable',
      'unconfirmed',
      'rejected',
      'abandoned',
    ]);
  });

  it('put a rejected delivery among the dead-lettered, with a warning and a failed span', () => {
    expect(ENDINGS.rejected).toMatchObject({ failed: true, deadLettered: true, level: 'warn' });
  });

  it('are the table of docs/host.md, row for row', async () => {
    const readme = await readFile(join(import.meta.dirname, '../../../docs/host.md'), 'utf8');
    const rows = readme
      .split('\n')
      .filter((line) => /^\| `[a-z-]+` +\|/.test(line) && line.split('|').length === 7)
      .map((line) =>
        line
          .split('|')
          .slice(1, -1)
          .map((cell) => cell.trim()),
      );
    const expected = Object.entries(ENDINGS).map(([ending, facts]) => [
      `\`${ending}\``,
      facts.meaning,
      facts.failed ? 'ERROR' : 'unset',
      facts.deadLettered ? 'yes' : 'no',
      facts.level,
    ]);
    expect(rows).toEqual(expected);
  });
});
