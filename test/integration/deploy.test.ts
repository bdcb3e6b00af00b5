// No container engine runs here: this checks what deploy/ names and runs its commands locally.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CONFIG_VARIABLES, DEFAULTS } from '../../adapter/config.ts';
import { build } from '../../build/build.ts';
import { buildHost, HOST_NODE_FLAGS } from '../../build/host.ts';
import { DEFAULT_BASE } from '../../build/image.ts';
import { AMQP_URL } from './helpers/broker.ts';
import { ROOT, spawnProcess, waitUntil } from './helpers/host.ts';

const dockerfile = await readFile(join(ROOT, 'deploy/Dockerfile'), 'utf8');
const compose = await readFile(join(ROOT, 'deploy/compose.yaml'), 'utf8');

/** The JSON-style arrays of a file (`["a", "b"]`), which both files use for commands. */
function arrays(text: string, prefix: string): string[][] {
  return [...text.matchAll(new RegExp(`${prefix}\\s*(\\[[^\\]]*\\])`, 'g'))].map((m) =>
    JSON.parse(m[1] ?? '[]'),
  );
}

const run = (args: string[], env: Record<string, string>) =>
  spawnProcess(process.execPath, args, { PATH: process.env.PATH ?? '', ...env });

describe('deploy/Dockerfile', () => {
  it('builds both stages on NODE_IMAGE (the official Node 24 base by default), runs as non-root, and copies paths that exist', () => {
    expect(dockerfile).toMatch(new RegExp(`^ARG NODE_IMAGE=${DEFAULT_BASE}$`, 'm'));
    expect(DEFAULT_BASE).toBe('node:24-bookworm-slim');
    expect([...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1])).toEqual(
      Array(2).fill('$' + '{NODE_IMAGE}'),
    );
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/WORKER_BUNDLES=\/bundles/);
    const sources = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) =>
      (m[1] ?? '').split(' '),
    );
    expect(sources.length).toBeGreaterThan(3);
    for (const source of sources) expect(existsSync(join(ROOT, source)), source).toBe(true);
    expect(dockerfile).toContain('RUN node build/host.ts');
  });

  it('its entrypoint, run here as the image runs it, starts the adapter and drains on SIGTERM', async () => {
    const [entrypoint] = arrays(dockerfile, 'ENTRYPOINT');
    expect(entrypoint?.[0]).toBe('node');
    // The host's Node flags, said in three places, are the same in all three.
    expect(entrypoint?.slice(1, -1)).toEqual(HOST_NODE_FLAGS);
    const scripts = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')).scripts;
    // exec: npm passes SIGTERM and SIGINT to its child, which is then the host itself, not a shell.
    expect(scripts.start).toMatch(new RegExp(`; exec node ${HOST_NODE_FLAGS.join(' ')} lib/adapter.mjs$`));
    const host = await buildHost(ROOT);
    await build({ root: ROOT });
    const args = (entrypoint ?? []).slice(1).map((arg) => (arg === '/app/adapter.mjs' ? host : arg));
    const adapter = run(args, {
      AMQP_URL,
      WORKER_BUNDLES: join(ROOT, 'dist'),
      WORKER_HEALTH_PORT: '0',
      // Tracing on with no collector listening: still a clean drain and exit 0.
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1',
    });
    try {
      await waitUntil(() => adapter.output().includes('"msg":"started"'), 20_000, 'the adapter to start');
      const port = JSON.parse(
        adapter
          .output()
          .split('\n')
          .find((line) => line.includes('"msg":"started"')) ?? '{}',
      ).healthPort;
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    } finally {
      adapter.process.kill('SIGTERM');
    }
    expect(await adapter.exited).toBe(0);
  });
});

describe('deploy/compose.yaml', () => {
  it('mounts paths that exist, the bundles read-only at /bundles, and builds the image from deploy/Dockerfile', async () => {
    expect(compose).toContain('dockerfile: deploy/Dockerfile');
    expect(compose).toContain('"../dist:/bundles:ro"');
    expect(compose).toContain('read_only: true');
    expect(compose).toContain('OTEL_EXPORTER_OTLP_ENDPOINT: http://jaeger:4318');
    expect(compose).toMatch(/"4318:4318"/);
    for (const [volume] of arrays(compose, 'volumes:').map((list) =>
      list.map((v) => v.split(':')[0] ?? ''),
    )) {
      if (volume?.startsWith('.')) expect(existsSync(join(ROOT, 'deploy', volume)), volume).toBe(true);
    }
  });

  it('sets only variables the host reads, and stops it no sooner than its drain', () => {
    const adapter =
      (parse(compose) as { services: Record<string, Record<string, unknown>> }).services.adapter ?? {};
    const env = adapter.environment as Record<string, string>;
    const image = [...dockerfile.matchAll(/\b((?:AMQP|WORKER)_[A-Z_]+)=/g)].map((m) => m[1] ?? '');
    for (const name of [...Object.keys(env), ...image].filter((n) => !n.startsWith('OTEL_')))
      expect(CONFIG_VARIABLES, name).toContain(name);
    const drain = Number(env.WORKER_DRAIN_SECONDS ?? DEFAULTS.WORKER_DRAIN_SECONDS);
    expect(Number.parseInt(String(adapter.stop_grace_period), 10)).toBeGreaterThan(drain);
    // The image's base goes through to the Dockerfile, its default the Dockerfile's.
    const args = (adapter.build as { args?: Record<string, string> }).args ?? {};
    expect(args.NODE_IMAGE).toBe(`\${NODE_IMAGE:-${DEFAULT_BASE}}`);
  });

  it('its manager command, run here, starts the local Worker Manager with the configuration it names', async () => {
    const [command] = arrays(compose, 'command:');
    expect(command?.slice(0, 3)).toEqual(['node', 'cli/main.ts', 'manager']);
    const manager = run((command ?? []).slice(1), { AMQP_URL });
    try {
      await waitUntil(
        () => manager.output().includes('local Worker Manager started'),
        20_000,
        'the manager to start',
      );
      expect(manager.output()).toContain('archive-to-metadata');
    } finally {
      manager.process.kill('SIGINT');
    }
    expect(await manager.exited).toBe(0);
  });
});
