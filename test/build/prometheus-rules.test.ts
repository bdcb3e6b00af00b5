/**
 * deploy/prometheus/rules.yaml: valid for Prometheus (promtool check rules), each alert proven by
 * promtool's own unit tests (rules.test.yaml: it fires for what is in trouble, not for what is healthy),
 * and an alert for every metric of the table of docs/production.md.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { needs, PROMTOOL } from '../integration/helpers/requirements.ts';

const root = resolve(import.meta.dirname, '../..');
const folder = join(root, 'deploy/prometheus');
const ready = await needs('the alert rules tests', [PROMTOOL]);
const promtool = (...args: string[]) =>
  promisify(execFile)('promtool', args, { cwd: folder }).then(
    ({ stdout }) => ({ code: 0, output: stdout }),
    (error: { code: number; stdout: string; stderr: string }) => ({
      code: error.code,
      output: error.stdout + error.stderr,
    }),
  );

describe.runIf(ready)('deploy/prometheus', () => {
  it('holds rules Prometheus loads (promtool check rules)', async () => {
    const checked = await promtool('check', 'rules', 'rules.yaml');
    expect(checked.output).toContain('SUCCESS');
    expect(checked.code).toBe(0);
  });

  it("passes promtool's unit tests: each alert fires for the one in trouble, not for the healthy one", async () => {
    const tested = await promtool('test', 'rules', 'rules.test.yaml');
    expect(tested.output).toContain('SUCCESS');
    expect(tested.code).toBe(0);
  });

  it('alerts on every metric of the table of docs/production.md, each alert tested, with a severity, a for and the names in its text', async () => {
    const readme = await readFile(join(root, 'docs/production.md'), 'utf8');
    const table = readme.slice(readme.indexOf('## Metrics'), readme.indexOf('## TLS'));
    const metrics = [...table.matchAll(/^\| `(regards_worker_[a-z_]+)`/gm)].map((m) => m[1] ?? '');
    const rules = parse(await readFile(join(folder, 'rules.yaml'), 'utf8'));
    const all = rules.groups.flatMap((group: { rules: Record<string, unknown>[] }) => group.rules);
    const text = JSON.stringify(all);
    // The info metrics are what a dashboard shows; every other metric is in some rule.
    for (const metric of metrics.filter((name) => !name.endsWith('_info'))) expect(text).toContain(metric);
    const alerts = all.filter((rule: { alert?: string }) => rule.alert !== undefined);
    const tests = parse(await readFile(join(folder, 'rules.test.yaml'), 'utf8'));
    const tested = tests.tests.flatMap((t: { alert_rule_test: { alertname: string }[] }) =>
      t.alert_rule_test.map((a) => a.alertname),
    );
    for (const alert of alerts) {
      expect(tested).toContain(alert.alert);
      expect(alert.labels.severity).toMatch(/^(warning|critical)$/);
      expect(alert.for).toBeDefined();
      expect(alert.annotations.summary).toMatch(/\{\{ \$labels\.(worker_type|instance) \}\}/);
    }
  });
});
