import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

async function demo(env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [join(ROOT, 'cli/main.ts'), 'demo'],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', ...env },
        timeout: 90_000,
      },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('npm run demo', () => {
  it('runs the two-step workflow, prints each ResponseEvent and the chain’s trace as a tree, exits 0', async () => {
    const { code, stdout } = await demo();
    expect(code).toBe(0);
    // The workflow's three (GRANTED twice, SUCCESS), then the single product's two (GRANTED, SUCCESS).
    expect(stdout.match(/^ResponseEvent /gm)).toHaveLength(5);
    expect(stdout).toMatch(/^ResponseEvent SUCCESS +worker extract-metadata$/m);
    expect(stdout).toMatch(/^ {2}content: FeatureCollection of 4 features$/m);
    expect(stdout).toMatch(
      /^ {4}\{"type":"Feature","id":"products\/granule-1\.geojson".*"bbox":\[1\.2,43\.5,2\.2,44\.5\]/m,
    );
    // The single product, NetCDF-4 (functions/samples/): its cells' extent (centres 43.5 to 44.5 by a third
    // of a degree, -2 to -1 by a quarter) and its times (0, 5 and 10 minutes after 10:00).
    expect(stdout).toMatch(
      /^ {2}NetCDF-4: footprint bbox \[-2\.125,43\.33333\d*,-0\.875,44\.66666\d*\], time coverage 2024-05-01T10:00:00Z → 2024-05-01T10:10:00Z \(calendar standard\)$/m,
    );
    // The single-product request: extract-metadata updates the product's feature in rs-fem (stood in for).
    expect(stdout).toMatch(
      /^FeatureUpdateRequestEvent to rs-fem {2}feature URN:FEATURE:DATA:DEMO:[0-9a-f-]{36}:V1 \(model DEMO_PRODUCT\)$/m,
    );
    expect(stdout).toMatch(
      /^ {2}\{"properties":\{"start_datetime":"2024-05-01T10:00:00Z","end_datetime":"2024-05-01T10:10:00Z","product":\{"format":"NetCDF-4"/m,
    );
    // Checked as rs-fem would, against the product's model (deploy/models/DEMO_PRODUCT.xml).
    expect(stdout).toMatch(/^ {2}rs-fem would store it \(request id new, model DEMO_PRODUCT checked\)$/m);
    expect(stdout).toMatch(/^trace [0-9a-f]{32}$/m);
    expect(stdout).toMatch(/^submit archive-to-metadata \(producer/m);
    expect(stdout).toMatch(/^ {2}process regards\.worker\.extract-archive\.request \(consumer, [\d.]+ ms/m);
    expect(stdout).toMatch(/^ {6}process regards\.worker\.extract-metadata\.request \(consumer/m);
  });

  it('says how to start RabbitMQ when it is unreachable, and exits non-zero', async () => {
    const { code, stderr } = await demo({ AMQP_URL: 'amqp://guest:guest@127.0.0.1:1' });
    expect(code).toBe(1);
    expect(stderr).toContain('RabbitMQ is not reachable at amqp://guest:***@127.0.0.1:1');
    expect(stderr).toContain('rabbitmq-server -detached && rabbitmqctl await_startup');
  });
});
