/**
 * The benchmark's short mode, so that it never rots: it runs against the broker and prints its tables
 * and targets. No figure is asserted (the machine is shared): only that it ran and said what it measured.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, spawnProcess } from './helpers/host.ts';

describe('npm run bench, BENCH_QUICK=1', () => {
  it('runs every section and prints its tables and targets', async () => {
    const bench = spawnProcess(process.execPath, [join(ROOT, 'bench/run.ts')], {
      ...process.env,
      BENCH_QUICK: '1',
    });
    expect(await bench.exited).toBe(0);
    const output = bench.output();
    for (const section of ['saturation:', 'closed loop:', 'replicas:', 'cold start', 'targets'])
      expect(output).toContain(section);
    for (const worker of ['raw', 'host', 'host inline', 'host -metrics', 'host +tracing', 'raw, plain queue'])
      expect(output).toMatch(new RegExp(`\\| ${worker.replace('+', '\\+')} +\\|`));
    expect(output).toMatch(/host\/raw msg\/s >= 1\.00 at prefetch 10: (met|NOT met) \(\d/);
    expect(output).toMatch(/the priority-255 queue costs the broker \d/);
    // Issue 20's targets: CPU with threads and inline, peak RSS under load, idle RSS, cold start.
    expect(output).toMatch(/host inline\/raw CPU per message <= 1\.10 at prefetch 10: (met|NOT met) \(\d/);
    expect(output).toMatch(/host peak RSS under load <= raw \+ 40 MB at prefetch 10: (met|NOT met) \(\d/);
    expect(output).toMatch(/host idle RSS <= raw \+ 30 MB: (met|NOT met) \(\d/);
    expect(output).toMatch(/host cold start <= raw \+ 100 ms: (met|NOT met) \(\d/);
    // Where the CPU goes, by thread: the host's handler threads are counted apart from its main thread.
    const byThread = output.slice(output.indexOf('where the worker CPU'));
    const hostRow = /\n10 +\| host +\| (\d+) [^|]*\| (\d+) [^|]*\| (\d+) [^|]*\| (\d+)/.exec(byThread);
    expect(hostRow).not.toBeNull();
    const [total, main, handlers] = (hostRow ?? []).slice(1).map(Number) as [number, number, number];
    expect(Math.min(total, main, handlers)).toBeGreaterThan(0);
  }, 180_000);
});
