/**
 * Bundles swapped without a restart, in the three ways a new version arrives: the folder is a link
 * swapped for another, a Kubernetes ConfigMap volume swaps its `..data` link, or a new build is
 * written into the folder. In-flight requests finish on the version they started with.
 */
import { appendFile, cp, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from '../../build/build.ts';
import { packBundles } from '../../build/pack.ts';
import { HEARTBEAT_EXCHANGE, RESPONSE_EXCHANGE } from '../../protocol/index.ts';
import { useTempDirs } from '../helpers/files.ts';
import {
  connectTestBroker,
  type Observer,
  type Received,
  type TestBroker,
  uniqueType,
} from './helpers/broker.ts';
import { buildProject, ROOT, sourceAs, startTestHost, waitUntil } from './helpers/host.ts';

const tempDir = useTempDirs({ until: 'file' });
let broker: TestBroker;
let responses: Observer;

beforeAll(async () => {
  broker = await connectTestBroker();
  responses = await broker.observe(RESPONSE_EXCHANGE);
});
afterAll(() => broker?.close());

/** The behave fixture as `type`; version 2 prefixes every content it answers with "v2:". */
async function behaveSource(type: string, version: 1 | 2): Promise<string> {
  const source = await sourceAs('test/fixtures/behave.ts', type);
  return version === 1 ? source : source.replaceAll('content: body.content', "content: 'v2:' + body.content");
}

async function buildVersions(types: Record<string, 1 | 2>): Promise<string> {
  const sources: Record<string, string> = {};
  for (const [type, version] of Object.entries(types))
    sources[`${type}.ts`] = await behaveSource(type, version);
  return buildProject(sources);
}

/** Points `link` at `target` atomically, as `ln -sfn target tmp && mv -T tmp link` does. */
async function swapLink(link: string, target: string): Promise<void> {
  const next = `${link}.next`;
  await rm(next, { force: true });
  await symlink(target, next);
  await rename(next, link);
}

const idOf = (message: Received) => String(message.headers['regards.request.id']);
const contentOf = (message: Received) =>
  Buffer.from(String((message.json as { content?: string }).content ?? ''), 'base64').toString('utf8');

async function answersTo(ids: readonly string[], timeoutMs = 30_000): Promise<Received[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answers = (await responses.drain()).filter((m) => ids.includes(idOf(m)));
    if (new Set(answers.map(idOf)).size >= ids.length || Date.now() > deadline) return answers;
    await sleep(100);
  }
}

async function publish(type: string, count: number, body: unknown): Promise<string[]> {
  const ids = Array.from(
    { length: count },
    (_, i) => `${type}-${i}-${Math.random().toString(36).slice(2, 8)}`,
  );
  for (const requestId of ids) await broker.publishRequest(type, { requestId, body });
  return ids;
}

const swaps = (lines: readonly string[]) => lines.filter((line) => line.includes('"msg":"bundles swapped"'));

describe('a folder link swapped for another', () => {
  it('under load: none lost, each answered once, every answer from exactly one version', async () => {
    const type = uniqueType('swap');
    broker.forget(type);
    const dir = await tempDir();
    const current = join(dir, 'current');
    await symlink(await buildVersions({ [type]: 1 }), current);
    const v2 = await buildVersions({ [type]: 2 });
    const host = await startTestHost(current, { WORKER_PREFETCH: '10' });
    try {
      // A first wave under way when the new version arrives; a second one published once it serves.
      const first = await publish(type, 300, { action: 'sleep', ms: 100, content: 'c' });
      await waitUntil(
        async () => (await responses.drain()).filter((m) => first.includes(idOf(m))).length >= 40,
        20_000,
      );
      await swapLink(current, v2);
      await waitUntil(() => swaps(host.lines).length === 1, 20_000, 'the swap');
      const second = await publish(type, 100, { action: 'sleep', ms: 50, content: 'c' });
      const ids = [...first, ...second];
      const answers = await answersTo(ids);
      const contents = answers.map(contentOf);
      console.log(
        `swap under load: ${ids.length} requests, ${new Set(answers.map(idOf)).size} answered, ${answers.length - new Set(answers.map(idOf)).size} duplicates, ` +
          `${contents.filter((c) => c === 'c').length} by v1, ${contents.filter((c) => c === 'v2:c').length} by v2`,
      );
      expect(new Set(answers.map(idOf)).size).toBe(ids.length);
      expect(answers).toHaveLength(ids.length);
      expect(contents.every((c) => c === 'c' || c === 'v2:c')).toBe(true);
      expect(contents.filter((c) => c === 'c').length).toBeGreaterThanOrEqual(40);
      // Whatever arrives after the swap is served by the new version.
      expect(answers.filter((m) => second.includes(idOf(m))).map(contentOf)).toEqual(
        second.map(() => 'v2:c'),
      );
      expect(swaps(host.lines)).toHaveLength(1);
      // Every settle line says which version answered.
      const settled = host.lines.map((line) => JSON.parse(line)).filter((line) => line.msg === 'settled');
      expect(new Set(settled.map((line) => line.bundleSha256)).size).toBe(2);
    } finally {
      await host.stop();
    }
  }, 60_000);

  it('refuses a version whose bundle does not match its manifest, and keeps serving the running one', async () => {
    const type = uniqueType('tamper');
    broker.forget(type);
    const dir = await tempDir();
    const current = join(dir, 'current');
    await symlink(await buildVersions({ [type]: 1 }), current);
    const tampered = join(dir, 'tampered');
    await cp(await buildVersions({ [type]: 2 }), tampered, { recursive: true });
    const bundle = join(tampered, 'bundles', `${type}.mjs`);
    await writeFile(bundle, `${await readFile(bundle, 'utf8')}\n// tampered\n`);
    const host = await startTestHost(current);
    try {
      await swapLink(current, tampered);
      await waitUntil(
        () => host.lines.some((line) => line.includes('new bundles refused')),
        10_000,
        'the refusal',
      );
      expect(host.lines.find((line) => line.includes('new bundles refused'))).toMatch(
        /sha256 [0-9a-f]{64} differs/,
      );
      const [answer] = await answersTo(await publish(type, 1, { action: 'succeed', content: 'c' }));
      expect(answer && contentOf(answer)).toBe('c');
      expect(swaps(host.lines)).toEqual([]);
    } finally {
      await host.stop();
    }
  });
});

describe('a ConfigMap volume swapping its ..data link', () => {
  it('serves the new version; a new type starts consuming, a removed one stops', async () => {
    const kept = uniqueType('kept');
    const gone = uniqueType('gone');
    const fresh = uniqueType('fresh');
    for (const type of [kept, gone, fresh]) broker.forget(type);
    // As the kubelet lays out a ConfigMap volume: ..data -> a timestamped folder, entries link through it.
    const volume = await tempDir();
    await cp(await buildVersions({ [kept]: 1, [gone]: 1 }), join(volume, '..2026_11_26_v1'), {
      recursive: true,
    });
    await symlink('..2026_11_26_v1', join(volume, '..data'));
    await symlink('..data/manifest.json', join(volume, 'manifest.json'));
    await symlink('..data/bundles', join(volume, 'bundles'));
    const host = await startTestHost(volume);
    try {
      await cp(await buildVersions({ [kept]: 2, [fresh]: 2 }), join(volume, '..2026_11_26_v2'), {
        recursive: true,
      });
      await swapLink(join(volume, '..data'), '..2026_11_26_v2');
      await waitUntil(() => swaps(host.lines).length === 1, 10_000, 'the swap');
      await waitUntil(() => host.isReady(), 10_000, 'consuming the new type');
      expect(host.workers.map((worker) => worker.type).sort()).toEqual([fresh, kept].sort());
      const ids = [
        ...(await publish(kept, 1, { action: 'succeed', content: 'c' })),
        ...(await publish(fresh, 1, { action: 'succeed', content: 'c' })),
      ];
      expect((await answersTo(ids)).map(contentOf)).toEqual(['v2:c', 'v2:c']);
      // The removed type is no longer consumed: its request waits for a host that serves it.
      const waiting = await publish(gone, 1, { action: 'succeed', content: 'c' });
      expect(await answersTo(waiting, 2_000)).toEqual([]);
    } finally {
      await host.stop();
    }
  });
});

describe('a new build written into the folder', () => {
  it('is served once its manifest is written', async () => {
    const type = uniqueType('rebuild');
    broker.forget(type);
    const dist = await buildVersions({ [type]: 1 });
    const host = await startTestHost(dist);
    try {
      const project = join(dist, '..');
      const sdk = JSON.stringify(join(ROOT, 'sdk/index.ts'));
      const source = (await behaveSource(type, 2)).replace(/'(\.\.\/)+sdk\/index\.ts'/, sdk);
      await writeFile(join(project, 'functions', `${type}.ts`), source);
      await build({ root: project });
      await waitUntil(() => swaps(host.lines).length === 1, 10_000, 'the swap');
      const [answer] = await answersTo(await publish(type, 1, { action: 'succeed', content: 'c' }));
      expect(answer && contentOf(answer)).toBe('v2:c');
    } finally {
      await host.stop();
    }
  });
});

describe('a bundles archive (build --pack) as WORKER_BUNDLES', () => {
  it('is served, swapped when a new archive is moved into its place, and a broken one refused', async () => {
    const type = uniqueType('packed');
    broker.forget(type);
    const shipped = await tempDir();
    const archive = join(shipped, 'bundles.tar.gz');
    await rename((await packBundles(await buildVersions({ [type]: 1 }))).path, archive);
    const host = await startTestHost(archive);
    try {
      const [first] = await answersTo(await publish(type, 1, { action: 'succeed', content: 'c' }));
      expect(first && contentOf(first)).toBe('c');
      // What an operator does: the new archive written beside, then renamed over the old one.
      await rename((await packBundles(await buildVersions({ [type]: 2 }))).path, `${archive}.next`);
      await rename(`${archive}.next`, archive);
      await waitUntil(() => swaps(host.lines).length === 1, 10_000, 'the swap');
      const [second] = await answersTo(await publish(type, 1, { action: 'succeed', content: 'c' }));
      expect(second && contentOf(second)).toBe('v2:c');
      // Not an archive: refused, said, and version 2 keeps serving.
      await writeFile(`${archive}.next`, 'not a tar.gz');
      await rename(`${archive}.next`, archive);
      await waitUntil(
        () => host.lines.some((line) => line.includes('"msg":"new bundles refused')),
        10_000,
        'the refusal',
      );
      expect(host.lines.find((line) => line.includes('new bundles refused'))).toContain(
        'the bundles archive cannot be unpacked',
      );
      const [third] = await answersTo(await publish(type, 1, { action: 'succeed', content: 'c' }));
      expect(third && contentOf(third)).toBe('v2:c');
    } finally {
      await host.stop();
    }
    // Each version's unpacked folder is gone with it (the suite's teardown fails on regards-* leftovers).
  });

  it('a bundle that does not match the manifest stops the host at start', async () => {
    const type = uniqueType('packed-bad');
    const dist = await buildVersions({ [type]: 1 });
    const manifest = JSON.parse(await readFile(join(dist, 'manifest.json'), 'utf8'));
    await writeFile(join(dist, manifest.workers[0].bundle), 'export default {};\n');
    const { path } = await packBundles(dist);
    await expect(startTestHost(path)).rejects.toThrow(/sha256/);
  });
});

describe('a bundle changed on disk without a new version (its manifest unchanged)', () => {
  it('is said at error level; the type is no longer consumed, heartbeated or ready, its requests wait in the queue; a new version serves again', async () => {
    const type = uniqueType('changed');
    broker.forget(type);
    const bundles = await buildVersions({ [type]: 1 });
    const heartbeats = await broker.observe(HEARTBEAT_EXCHANGE);
    const host = await startTestHost(bundles, { WORKER_PREFETCH: '4', WORKER_HEARTBEAT_SECONDS: '0.2' });
    try {
      // Its first thread has loaded the verified bundle.
      await broker.publishRequest(type, { requestId: `${type}-first`, body: { action: 'succeed' } });
      await answersTo([`${type}-first`]);
      await appendFile(join(bundles, 'bundles', `${type}.mjs`), '\n// changed in place, no new manifest\n');
      // The first thread busy: the next request needs a second thread, which finds the file changed.
      await broker.publishRequest(type, { requestId: `${type}-busy`, body: { action: 'sleep', ms: 1_000 } });
      await sleep(100);
      await broker.publishRequest(type, { requestId: `${type}-next`, body: { action: 'succeed' } });
      await waitUntil(
        () =>
          host.lines.some(
            (l) => l.includes('"level":"error"') && l.includes('bundle changed since it was verified'),
          ),
        10_000,
        'the error line',
      ).catch((error: Error) => {
        throw new Error(`${error.message}\n${host.lines.slice(-8).join('\n')}`);
      });
      expect(host.isReady()).toBe(false);
      const brokeAt = Date.parse(
        JSON.parse(host.lines.find((l) => l.includes('bundle changed since it was verified')) ?? '{}').time,
      );
      await broker.publishRequest(type, { requestId: `${type}-later`, body: { action: 'succeed' } });
      await sleep(1_000);
      // No heartbeat of the type dated after it broke (the last one may have been on its way).
      const beats = (await heartbeats.drain()).filter((m) => (m.json as { type?: string }).type === type);
      const dates = beats.map((m) => Date.parse((m.json as { heartBeatDate: string }).heartBeatDate));
      expect(dates.filter((date) => date > brokeAt + 50)).toEqual([]);
      expect((await responses.drain()).filter((m) => idOf(m) === `${type}-later`)).toEqual([]);
      // A new version (a new build into the folder) serves again, the waiting requests included.
      const v2 = (await behaveSource(type, 2)).replace(
        /'(\.\.\/)+sdk\/index\.ts'/,
        JSON.stringify(join(ROOT, 'sdk/index.ts')),
      );
      await writeFile(join(bundles, '..', 'functions', `${type}.ts`), v2);
      await build({ root: join(bundles, '..'), outDir: bundles });
      await answersTo([`${type}-later`]);
      await waitUntil(() => host.isReady(), 10_000, 'ready again');
    } finally {
      await host.stop();
    }
  });
});
