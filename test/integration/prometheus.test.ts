/**
 * A real Prometheus (Debian's package, on a port and in a folder of this test's own) scrapes a running
 * host through traffic of every outcome, with deploy/prometheus/rules.yaml loaded: each metric of the
 * table of docs/production.md is there with its labels, and every query of the Grafana dashboard
 * (deploy/grafana/regards-worker.json) returns data: no misspelt metric or label.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTempDirs } from '../helpers/files.ts';
import { behaveSuite, ROOT, waitUntil } from './helpers/host.ts';
import { needs, PROMETHEUS } from './helpers/requirements.ts';

const ready = await needs('the Prometheus tests', [PROMETHEUS]);
const { type, broker, responses, deadLetters, host } = await behaveSuite('prometheus', {
  WORKER_MAX_ATTEMPTS: '2',
});
const tempDir = useTempDirs({ until: 'file' });
let prometheus: ChildProcess | undefined;
let api = '';

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

/** The result of an instant query. */
async function query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const response = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await response.json()) as { status: string; error?: string; data: { result: [] } };
  if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
  return body.data.result;
}

beforeAll(async () => {
  if (!ready) return;
  const dir = await tempDir();
  const port = await freePort();
  api = `http://127.0.0.1:${port}`;
  await writeFile(
    join(dir, 'prometheus.yml'),
    [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      'rule_files:',
      `  - ${join(ROOT, 'deploy/prometheus/rules.yaml')}`,
      'scrape_configs:',
      '  - job_name: regards-worker',
      '    static_configs:',
      `      - targets: ['127.0.0.1:${host.healthPort}']`,
      '',
    ].join('\n'),
  );
  prometheus = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: 'ignore' },
  );
  // Ready, and scraping the host (its targets are picked up a few seconds after start).
  const scraping = async () => {
    const targets = (await fetch(`${api}/api/v1/targets`)
      .then((r) => (r.ok ? r.json() : undefined))
      .catch(() => undefined)) as { data: { activeTargets: { health: string }[] } } | undefined;
    return targets?.data.activeTargets.some((t) => t.health === 'up') ?? false;
  };
  await waitUntil(scraping, 30_000, 'Prometheus to scrape the host');
  // Traffic of every outcome: success, invalid content, error, a failure retried then dead-lettered, undecodable.
  const sends: [string, unknown, Record<string, string>?][] = [
    ['s1', { action: 'succeed' }],
    ['i1', { action: 'invalid' }],
    ['e1', { action: 'error' }],
    ['t1', { action: 'throw' }],
    ['u1', { action: 'succeed' }, { 'regards.tenant': '' }],
  ];
  for (const [id, body, headers] of sends)
    await broker.publishRequest(type, { requestId: `${type}-${id}`, body, ...(headers ? { headers } : {}) });
  await responses.waitFor((m) => String(m.headers['regards.request.id']).startsWith(type), 3);
  await deadLetters.waitFor((m) => String(m.headers['regards.request.id'] ?? '').startsWith(type), 2);
  // Scraped a few times since, so that rates have two samples at least.
  await new Promise((resolve) => setTimeout(resolve, 4_000));
}, 90_000);
afterAll(async () => {
  if (prometheus?.exitCode === null) {
    const exited = new Promise((resolve) => prometheus?.once('exit', resolve));
    prometheus.kill('SIGTERM');
    await exited;
  }
});

describe.runIf(ready)('a real Prometheus scraping a host', () => {
  it('has each metric of the table of docs/production.md, with its labels', async () => {
    const readme = await readFile(join(ROOT, 'docs/production.md'), 'utf8');
    const table = readme.slice(readme.indexOf('## Metrics'), readme.indexOf('## TLS'));
    const rows = [...table.matchAll(/^\| `(regards_worker_[a-z_]+)` +\| ([^|]*)\|/gm)];
    expect(rows.length).toBeGreaterThan(10);
    for (const [, metric, labelCell] of rows) {
      // Label names, not the values said in parentheses.
      const names = (labelCell ?? '').replace(/\([^)]*\)/g, '');
      const labels = [...names.matchAll(/`([a-z_]+)`/g)].map((m) => m[1] ?? '');
      const series =
        metric?.endsWith('_seconds') && metric !== 'regards_worker_time_limit_seconds'
          ? `${metric}_count`
          : metric;
      const result = await query(series ?? '');
      expect(result.length, `${metric} has no series`).toBeGreaterThan(0);
      for (const label of labels)
        expect(
          result.some((r) => r.metric[label] !== undefined),
          `${metric} lacks ${label}`,
        ).toBe(true);
    }
  });

  it('scrapes the host', async () => {
    const response = await fetch(`${api}/api/v1/targets`);
    const body = (await response.json()) as {
      data: { activeTargets: { health: string; lastError: string }[] };
    };
    expect(body.data.activeTargets.map((t) => [t.health, t.lastError])).toEqual([['up', '']]);
  });

  it('has loaded the alert rules', async () => {
    const response = await fetch(`${api}/api/v1/rules`);
    const body = (await response.json()) as {
      data: { groups: { rules: { name: string; health: string }[] }[] };
    };
    const rules = body.data.groups.flatMap((group) => group.rules);
    expect(rules.length).toBeGreaterThan(10);
    for (const rule of rules) expect(rule.health, rule.name).not.toBe('err');
  });

  it('returns data for every query of the Grafana dashboard', async () => {
    const dashboard = JSON.parse(await readFile(join(ROOT, 'deploy/grafana/regards-worker.json'), 'utf8'));
    const targets = dashboard.panels.flatMap((panel: { title: string; targets: { expr: string }[] }) =>
      panel.targets.map((target) => ({ panel: panel.title, expr: target.expr })),
    );
    expect(targets.length).toBeGreaterThan(15);
    for (const { panel, expr } of targets) {
      const evaluated = expr.replaceAll('$worker_type', type).replaceAll('$__rate_interval', '10s');
      const result = await query(evaluated);
      expect(result.length, `${panel}: ${evaluated} returns nothing`).toBeGreaterThan(0);
    }
  });
});
