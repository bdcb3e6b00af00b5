/**
 * GET /metrics after a run of requests of each outcome: the counts equal what was sent, per worker
 * type and outcome, and every metric of the host's own has moved.
 */
import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { SDK_VERSION } from '../../sdk/version.ts';
import { rabbitmqctl, uniqueType } from './helpers/broker.ts';
import { behaveSuite, buildBehave, startTestHost, waitUntil } from './helpers/host.ts';
import { needs, PROMTOOL } from './helpers/requirements.ts';

const { type, broker, responses, deadLetters, host } = await behaveSuite('metrics', {
  WORKER_MAX_ATTEMPTS: '2',
});

/** The value of one sample of the exposition, e.g. `name{worker_type="t",outcome="success"}`. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (wanted.every((label) => line.includes(label))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

const promtool = await needs("promtool's check of /metrics", [PROMTOOL]);

const scrape = async () => {
  const response = await fetch(`http://127.0.0.1:${host.healthPort}/metrics`);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return response.text();
};

describe('/metrics', () => {
  it('passes promtool check metrics: no gauge named like a counter, every name and help well-formed', async () => {
    if (!promtool) return;
    const text = await scrape();
    const checked = await new Promise<{ code: number; output: string }>((resolve) => {
      const child = execFile('promtool', ['check', 'metrics'], (error, stdout, stderr) =>
        resolve({ code: (error as { code?: number } | null)?.code ?? 0, output: stdout + stderr }),
      );
      child.stdin?.end(text);
    });
    expect(checked.output).toBe('');
    expect(checked.code).toBe(0);
  });

  it('says what runs: the host and Node versions, each bundle served with its sha256 and sdk', async () => {
    const text = await scrape();
    expect(
      sample(text, 'regards_worker_build_info', { version: SDK_VERSION, node_version: process.version }),
    ).toBe(1);
    const [served] = host.workers;
    expect(
      sample(text, 'regards_worker_bundle_info', {
        worker_type: type,
        sha256: served?.sha256 ?? '',
        sdk_version: SDK_VERSION,
      }),
    ).toBe(1);
    expect(text).toMatch(/^# TYPE regards_worker_bundle_versions_refused_total counter$/m);
    // The ceilings its duration and in-flight count are read against.
    expect(sample(text, 'regards_worker_time_limit_seconds', { worker_type: type })).toBe(
      (served?.timeoutMs ?? 0) / 1000,
    );
    expect(sample(text, 'regards_worker_prefetch', { worker_type: type })).toBe(served?.prefetch);
    const gaugesNamedTotal = [...text.matchAll(/^# TYPE (\S+_total) (gauge|histogram|summary)$/gm)].map(
      (m) => m[1],
    );
    expect(gaugesNamedTotal).toEqual([]);
  });

  it('counts each outcome per type, as sent; and every metric of ours moves', async () => {
    const sends: [string, unknown, Record<string, string>?][] = [
      ['s1', { action: 'succeed' }],
      ['s2', { action: 'succeed' }],
      ['s3', { action: 'succeed' }],
      ['i1', { action: 'invalid' }],
      ['i2', { action: 'dance' }],
      ['e1', { action: 'error' }],
      ['t1', { action: 'throw' }],
      ['u1', { action: 'succeed' }, { 'regards.tenant': '' }],
    ];
    for (const [id, body, headers] of sends)
      await broker.publishRequest(type, {
        requestId: `${type}-${id}`,
        body,
        ...(headers ? { headers } : {}),
      });
    await responses.waitFor((m) => String(m.headers['regards.request.id']).startsWith(type), 6);
    await deadLetters.waitFor((m) => String(m.headers['regards.request.id'] ?? '').startsWith(type), 1);
    await waitUntil(
      () => host.lines.filter((l) => l.includes('"msg":"settled"')).length >= 9,
      10_000,
      'all settled',
    );

    const text = await scrape();
    const settled = (outcome: string) =>
      sample(text, 'regards_worker_requests_settled_total', { worker_type: type, outcome });
    expect(settled('success')).toBe(3);
    expect(settled('invalid-content')).toBe(2);
    expect(settled('error')).toBe(1);
    expect(settled('retry')).toBe(1);
    expect(settled('dead-letter')).toBe(1);
    expect(settled('undecodable')).toBe(1);
    expect(sample(text, 'regards_worker_retries_total', { worker_type: type })).toBe(1);
    expect(sample(text, 'regards_worker_dead_letters_total', { worker_type: type })).toBe(2);
    expect(sample(text, 'regards_worker_handler_duration_seconds_count', { worker_type: type })).toBe(9);
    // Buckets up to the longest time limit WORKER_TIMEOUT_SECONDS allows.
    expect(
      sample(text, 'regards_worker_handler_duration_seconds_bucket', { le: '1500', worker_type: type }),
    ).toBe(9);
    expect(sample(text, 'regards_worker_requests_in_flight', { worker_type: type })).toBe(0);
    expect(
      sample(text, 'regards_worker_heartbeats_total', { worker_type: type, result: 'sent' }),
    ).toBeGreaterThan(0);
    expect(sample(text, 'regards_worker_publish_confirm_seconds_count')).toBeGreaterThanOrEqual(9);
    expect(sample(text, 'regards_worker_broker_connected')).toBe(1);
    expect(sample(text, 'regards_worker_broker_reconnects_total')).toBe(0);
    // The default process metrics.
    expect(sample(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
  });

  it('follows the connection: down, then up again, one reconnect', async () => {
    await rabbitmqctl('close_all_connections', 'integration test: metrics follow the connection');
    await waitUntil(
      async () => sample(await scrape(), 'regards_worker_broker_connected') === 0 || !host.isReady(),
      5_000,
    );
    await waitUntil(() => host.isReady(), 30_000, 'the host to reconnect');
    const text = await scrape();
    expect(sample(text, 'regards_worker_broker_connected')).toBe(1);
    expect(sample(text, 'regards_worker_broker_reconnects_total')).toBe(1);
  });

  it('is not served with WORKER_METRICS=off', async () => {
    const other = uniqueType('no-metrics');
    broker.forget(other);
    const quiet = await startTestHost(await buildBehave(other), { WORKER_METRICS: 'off' });
    try {
      expect((await fetch(`http://127.0.0.1:${quiet.healthPort}/metrics`)).status).toBe(404);
    } finally {
      await quiet.stop();
    }
  });
});
