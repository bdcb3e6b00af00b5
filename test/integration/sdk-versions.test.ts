/**
 * The sdk a bundle was built with, as its manifest records it, decides whether this host runs it: one
 * built with another major (below 1.0, another minor) is refused, naming both versions, and the others
 * are served.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sdkSupported } from '../../adapter/bundles/manifest.ts';
import { RESPONSE_EXCHANGE } from '../../protocol/index.ts';
import { SDK_VERSION } from '../../sdk/version.ts';
import { connectTestBroker, type Observer, type TestBroker, uniqueType } from './helpers/broker.ts';
import { buildBehave, startTestHost } from './helpers/host.ts';

const current = uniqueType('sdk-current');
const future = uniqueType('sdk-future');
let broker: TestBroker;
let responses: Observer;
beforeAll(async () => {
  broker = await connectTestBroker();
  broker.forget(current);
  broker.forget(future);
  responses = await broker.observe(RESPONSE_EXCHANGE);
});
afterAll(() => broker?.close());

describe('the sdk versions a host runs', () => {
  it.each([
    ['0.1.0', '0.1.0', true],
    ['0.1.7', '0.1.0', true],
    ['0.2.0', '0.1.0', false],
    ['1.0.0', '0.1.0', false],
    ['1.4.2', '1.2.0', true],
    ['2.0.0', '1.9.0', false],
  ])('a bundle of sdk %s on a host of sdk %s: %s', (bundle, host, runs) => {
    expect(sdkSupported(bundle, host)).toBe(runs);
  });

  it('refuses a bundle of another sdk major, naming both versions, and serves the others', async () => {
    const bundles = await buildBehave(current, future);
    const manifestPath = join(bundles, 'manifest.json');
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8'));
    for (const entry of manifest.workers) if (entry.type === future) entry.sdkVersion = '9.0.0';
    await writeFile(manifestPath, JSON.stringify(manifest));
    const host = await startTestHost(bundles);
    try {
      expect(host.workers.map((worker) => worker.type)).toEqual([current]);
      const refusal = host.lines.find((line) =>
        line.includes('"msg":"bundle refused; the others are served"'),
      );
      expect(refusal).toContain(
        `worker ${future} was built with sdk 9.0.0; this host runs sdk ${SDK_VERSION}`,
      );
      expect(refusal).toContain('"level":"error"');
      await broker.publishRequest(current, { requestId: `${current}-served`, body: { action: 'succeed' } });
      expect(
        await responses.waitFor((m) => m.headers['regards.request.id'] === `${current}-served`),
      ).toHaveLength(1);
    } finally {
      await host.stop();
    }
  });
});
