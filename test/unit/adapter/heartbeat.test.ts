import { describe, expect, it } from 'vitest';
import { startHeartbeats } from '../../../adapter/broker/heartbeat.ts';
import { NO_METRICS } from '../../../adapter/telemetry/metrics.ts';

describe('heartbeats', () => {
  it('count each one sent or failed, per type', async () => {
    const recorded: string[] = [];
    const metrics = {
      ...NO_METRICS,
      heartbeat: (type: string, result: string) => recorded.push(`${type} ${result}`),
    };
    const quiet = { debug() {}, info() {}, warn() {}, error() {} };
    const beats = startHeartbeats({
      types: () => ['A', 'b'],
      tenant: 'T',
      instanceId: 'i',
      intervalMs: 60_000,
      publisher: { publish: async () => undefined },
      log: quiet,
      metrics,
    });
    await new Promise((resolve) => setImmediate(resolve));
    beats.stop();
    const failing = startHeartbeats({
      types: () => ['A'],
      tenant: 'T',
      instanceId: 'i',
      intervalMs: 60_000,
      publisher: { publish: async () => Promise.reject(new Error('channel closed')) },
      log: quiet,
      metrics,
    });
    await new Promise((resolve) => setImmediate(resolve));
    failing.stop();
    expect(recorded).toEqual(['A sent', 'b sent', 'A failed']);
  });
});
