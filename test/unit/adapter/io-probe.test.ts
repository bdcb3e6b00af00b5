import { describe, expect, it } from 'vitest';
import { startIoProbe } from '../../../adapter/telemetry/io-probe.ts';

describe('the file I/O probe behind /livez', () => {
  it('is quiet while operations answer, and says so once one waits past the deadline', async () => {
    let clock = 0;
    let release: () => void = () => undefined;
    let started = 0;
    const probe = startIoProbe({
      deadlineMs: 1_000,
      intervalMs: 60_000,
      now: () => clock,
      probe: () => {
        started += 1;
        return new Promise<void>((resolve) => {
          release = resolve;
        });
      },
    });
    try {
      clock = 1_000;
      expect(probe.stalled()).toBeUndefined();
      clock = 2_500;
      expect(probe.stalled()).toBe(
        'file I/O has not answered for 2.5 s: the threads of the file-system pool are blocked',
      );
      release();
      await new Promise((resolve) => setImmediate(resolve));
      expect(probe.stalled()).toBeUndefined();
      expect(started).toBe(1);
    } finally {
      probe.stop();
    }
  });

  it('counts an operation that failed as an answer', async () => {
    const probe = startIoProbe({ deadlineMs: 0, probe: () => Promise.reject(new Error('EACCES')) });
    await new Promise((resolve) => setImmediate(resolve));
    expect(probe.stalled()).toBeUndefined();
    probe.stop();
  });
});
