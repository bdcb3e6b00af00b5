import { afterEach, describe, expect, it, vi } from 'vitest';
import { startIdleGc } from '../../../adapter/execution/idle-gc.ts';

afterEach(() => {
  vi.useRealTimers();
});

describe('one collection after a burst, once idle', () => {
  it('collects once the host has worked and then stayed idle, never while busy or twice', () => {
    vi.useFakeTimers();
    let inFlight = 1;
    let collections = 0;
    const idleGc = startIdleGc({ idleMs: 1_000, inFlight: () => inFlight, collect: () => collections++ });
    vi.advanceTimersByTime(5_000);
    expect(collections).toBe(0); // has not worked yet
    idleGc.busy();
    vi.advanceTimersByTime(5_000);
    expect(collections).toBe(0); // still a request in flight
    inFlight = 0;
    vi.advanceTimersByTime(1_500);
    expect(collections).toBe(1);
    vi.advanceTimersByTime(10_000);
    expect(collections).toBe(1); // nothing new to give back
    idleGc.stop();
  });
});
