/**
 * The host's metrics: what is recorded before prom-client is loaded is counted all the same, a scrape
 * loads it if nothing has yet, and the series read as Prometheus reads them.
 */
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../../adapter/telemetry/metrics.ts';

const noFailure = (error: Error) => {
  throw error;
};

describe('metrics', () => {
  it('count what was recorded before they loaded, and load at the first scrape', async () => {
    const metrics = createMetrics(noFailure);
    metrics.inFlight('echo', 1);
    metrics.settled('echo', 'success', 0.002);
    metrics.inFlight('echo', -1);
    metrics.inFlight('echo', 1);
    const text = await metrics.scrape();
    expect(text).toContain('regards_worker_requests_settled_total{worker_type="echo",outcome="success"} 1');
    expect(text).toContain('regards_worker_requests_in_flight{worker_type="echo"} 1');
    expect(metrics.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    metrics.settled('echo', 'success', 0.002);
    expect(await metrics.scrape()).toContain(
      'regards_worker_requests_settled_total{worker_type="echo",outcome="success"} 2',
    );
  });

  it('cumulate histogram buckets, with the sum and count, per worker type', async () => {
    const metrics = createMetrics(noFailure);
    for (const seconds of [0.001, 0.004, 0.007, 0.2, 2000]) metrics.settled('a', 'success', seconds);
    metrics.settled('b', 'retry', 0.01);
    const text = await metrics.scrape();
    const bucket = (le: string, type: string) =>
      `regards_worker_handler_duration_seconds_bucket{le="${le}",worker_type="${type}"}`;
    expect(text).toContain(`${bucket('0.005', 'a')} 2\n`);
    expect(text).toContain(`${bucket('0.01', 'a')} 3\n`);
    expect(text).toContain(`${bucket('0.25', 'a')} 4\n`);
    expect(text).toContain(`${bucket('1500', 'a')} 4\n`);
    expect(text).toContain(`${bucket('+Inf', 'a')} 5\n`);
    // A bound counts what equals it.
    expect(text).toContain(`${bucket('0.005', 'b')} 0\n`);
    expect(text).toContain(`${bucket('0.01', 'b')} 1\n`);
    expect(text).toContain('regards_worker_handler_duration_seconds_sum{worker_type="a"} 2000.212\n');
    expect(text).toContain('regards_worker_handler_duration_seconds_count{worker_type="a"} 5\n');
    expect(text).toContain('regards_worker_retries_total{worker_type="b"} 1\n');
    expect(text).toContain('# TYPE regards_worker_handler_duration_seconds histogram');
  });

  it('have their series without labels at 0 from the start', async () => {
    const text = await createMetrics(noFailure).scrape();
    expect(text).toContain('regards_worker_broker_reconnects_total 0\n');
    expect(text).toContain('regards_worker_broker_connected 0\n');
    expect(text).toContain('regards_worker_publish_confirm_seconds_bucket{le="+Inf"} 0\n');
    expect(text).toContain('regards_worker_publish_confirm_seconds_count 0\n');
  });

  it('read what is served at each scrape', async () => {
    const metrics = createMetrics(noFailure);
    const bundle = (type: string, threads: number) => ({
      type,
      sha256: `${type}-sha`,
      sdkVersion: '1.0.0',
      timeoutMs: 30_000,
      prefetch: 4,
      executor: { threads: () => threads },
    });
    metrics.serving([bundle('a', 2), bundle('b', 0)]);
    let text = await metrics.scrape();
    expect(text).toContain('regards_worker_handler_threads{worker_type="a"} 2\n');
    expect(text).toContain('regards_worker_time_limit_seconds{worker_type="b"} 30\n');
    expect(text).toContain(
      'regards_worker_bundle_info{worker_type="a",sha256="a-sha",sdk_version="1.0.0"} 1\n',
    );
    metrics.serving([bundle('b', 1)]);
    text = await metrics.scrape();
    expect(text).not.toContain('worker_type="a"}');
    expect(text).toContain('regards_worker_prefetch{worker_type="b"} 4\n');
  });
});
