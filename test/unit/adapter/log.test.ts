import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../adapter/telemetry/log.ts';

describe('structured logs', () => {
  it('writes one JSON line with level, message, child fields and fields; errors shown plainly', () => {
    const lines: string[] = [];
    const log = createLogger('info', (line) => lines.push(line)).child({ workerType: 'w' });
    log.debug('hidden');
    log.warn('failed', { requestId: 'r1', error: new Error('boom'), big: 10n });
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0] ?? '');
    expect(entry).toMatchObject({
      level: 'warn',
      msg: 'failed',
      workerType: 'w',
      requestId: 'r1',
      big: '10',
    });
    expect(entry.error).toMatchObject({
      name: 'Error',
      message: 'boom',
      stack: expect.stringContaining('Error: boom'),
    });
    expect(entry.time).toMatch(/^\d{4}-\d\d-\d\dT/);
  });
});
