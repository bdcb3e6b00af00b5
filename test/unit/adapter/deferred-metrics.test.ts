/**
 * The metrics a host loads once it serves: what is recorded before prom-client is loaded is counted
 * all the same, in order, and a scrape loads them if nothing has yet.
 */
import { describe, expect, it } from 'vitest';
import { deferredMetrics } from '../../../adapter/telemetry/metrics.ts';

describe('deferred metrics', () => {
  it('replay what was recorded before they loaded, and load at the first scrape', async () => {
    const metrics = deferredMetrics((error) => {
      throw error;
    });
    metrics.inFlight('echo', 1);
    metrics.settled('echo', 'success', 0.002);
    metrics.inFlight('echo', -1);
    metrics.inFlight('echo', 1);
    const text = await metrics.scrape();
    expect(text).toContain('regards_worker_requests_settled_total{worker_type="echo",outcome="success"} 1');
    expect(text).toContain('regards_worker_requests_in_flight{worker_type="echo"} 1');
    expect(metrics.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    // Once loaded, a count goes straight to prom-client.
    metrics.settled('echo', 'success', 0.002);
    expect(await metrics.scrape()).toContain(
      'regards_worker_requests_settled_total{worker_type="echo",outcome="success"} 2',
    );
  });
});
