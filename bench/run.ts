/**
 * `npm run bench`: the adapter against a raw amqplib worker doing the same per-message work, on the
 * same broker, in one run, at prefetch 1, 10 and 50. Prints figures and ratios; asserts nothing.
 *
 * A closed loop keeps 2 × prefetch requests outstanding (published as the Worker Manager does) and
 * times each from publish to its response. Both workers run as child processes so that their CPU
 * time and RSS are read from /proc. The adapter has the three example bundles loaded beside the
 * trivial one it serves, once with handlers in threads (the default) and once inline.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import * as amqp from 'amqplib';
import { build } from '../build/build.ts';
import { buildHost, HOST_NODE_FLAGS } from '../build/host.ts';
import { HEADER, REQUEST_QUEUE_ARGUMENTS, RESPONSE_EXCHANGE, requestQueueName } from '../protocol/index.ts';

const ROOT = resolve(import.meta.dirname, '..');
const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const PREFETCHES = (process.env.BENCH_PREFETCHES ?? '1,10,50').split(',').map(Number);
const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const MESSAGES: Record<number, number> = { 1: 3000 * SCALE, 10: 10000 * SCALE, 50: 10000 * SCALE };
const WARMUP = 500;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const CLOCK_TICKS = 100; // USER_HZ on Linux

interface Figures {
  perSecond: number;
  p50: number;
  p99: number;
  cpuMicrosPerMessage: number;
  rssMB: number;
}

const connection = await amqp.connect(AMQP_URL, { noDelay: true });
const channel = await connection.createChannel();
await channel.assertExchange(RESPONSE_EXCHANGE, 'topic', { durable: true });
const { queue: observer } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
await channel.bindQueue(observer, RESPONSE_EXCHANGE, '#');
const waiting = new Map<string, (at: number) => void>();
await channel.consume(
  observer,
  (message) => {
    const id = message?.properties.headers?.[HEADER.requestId];
    waiting.get(String(id))?.(performance.now());
  },
  { noAck: true },
);

const run = randomUUID().slice(0, 8);
const echoType = `bench-echo-${run}`;
const rawType = `bench-raw-${run}`;
const project = await benchProject();
const bundles = { thread: join(project, 'dist'), inline: await inlineCopy(join(project, 'dist')) };
// A collector that takes OTLP exports and discards them: the traced adapter's exports cost what they cost.
const collector = createHttpServer((request, response) => {
  request.resume();
  request.on('end', () => response.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
});
await new Promise<void>((done) => collector.listen(0, '127.0.0.1', done));
const collectorAddress = collector.address();
const collectorUrl = `http://127.0.0.1:${typeof collectorAddress === 'object' && collectorAddress ? collectorAddress.port : 0}`;
const TRACING = process.env.BENCH_TRACING !== '0';
const host = await buildHost(ROOT);
const created: string[] = [requestQueueName(echoType), requestQueueName(rawType)];

/** What is measured, one row each per prefetch; BENCH_VARIANTS=raw,adapter picks some by name. */
interface Variant {
  readonly name: string;
  readonly type: string;
  readonly start: (prefetch: number) => Promise<ChildProcess>;
}
const ALL_VARIANTS: readonly Variant[] = [
  { name: 'raw', type: rawType, start: startRaw },
  { name: 'adapter', type: echoType, start: (p) => startAdapter(p, bundles.thread, {}) },
  {
    name: 'adapter -metrics',
    type: echoType,
    start: (p) => startAdapter(p, bundles.thread, { WORKER_METRICS: 'off' }),
  },
  { name: 'adapter inline', type: echoType, start: (p) => startAdapter(p, bundles.inline, {}) },
  ...(TRACING
    ? [
        {
          name: 'adapter+tracing',
          type: echoType,
          start: (p: number) =>
            startAdapter(p, bundles.thread, { OTEL_EXPORTER_OTLP_ENDPOINT: collectorUrl }),
        },
      ]
    : []),
];
const VARIANTS = ALL_VARIANTS.filter(
  (variant) => process.env.BENCH_VARIANTS?.split(',').includes(variant.name) ?? true,
);

try {
  const results: Result[] = [];
  for (const prefetch of PREFETCHES) {
    const figures = new Map<string, Figures[]>(VARIANTS.map((variant) => [variant.name, []]));
    for (let round = 0; round < ROUNDS; round += 1) {
      // Alternate the order so that drift on a shared machine falls on all.
      const order = round % 2 === 0 ? VARIANTS : [...VARIANTS].reverse();
      for (const variant of order)
        figures.get(variant.name)?.push(await phase(variant.type, prefetch, variant.start));
    }
    results.push({ prefetch, rows: new Map([...figures].map(([name, list]) => [name, mean(list)])) });
  }
  print(results);
} finally {
  const cleanup = await connection.createChannel();
  for (const name of created) {
    await cleanup.deleteQueue(name).catch(() => undefined);
    await cleanup.deleteQueue(`${name}.retry`).catch(() => undefined);
    await cleanup.deleteExchange(name).catch(() => undefined);
  }
  await connection.close();
  collector.close();
  await rm(project, { recursive: true, force: true });
}

async function phase(
  type: string,
  prefetch: number,
  start: (prefetch: number) => Promise<ChildProcess>,
): Promise<Figures> {
  const queue = requestQueueName(type);
  await channel.assertExchange(queue, 'topic', { durable: true });
  await channel.assertQueue(queue, { durable: true, arguments: REQUEST_QUEUE_ARGUMENTS });
  await channel.bindQueue(queue, queue, '#');
  const child = await start(prefetch);
  try {
    const total = WARMUP + (MESSAGES[prefetch] ?? 1000);
    const window = 2 * prefetch;
    const latencies: number[] = [];
    let sent = 0;
    let measuredFrom = 0;
    let cpuFrom = 0;
    const pid = child.pid ?? 0;
    const finished = new Promise<number>((done) => {
      let completed = 0;
      const send = () => {
        const id = `${type}-${prefetch}-${sent}-${randomUUID().slice(0, 6)}`;
        const index = sent;
        sent += 1;
        const sentAt = performance.now();
        waiting.set(id, (at) => {
          waiting.delete(id);
          completed += 1;
          if (index >= WARMUP) latencies.push(at - sentAt);
          if (completed === WARMUP) {
            measuredFrom = at;
            cpuFrom = cpuTicks(pid);
          }
          if (completed === total) done(at);
          else if (sent < total) send();
        });
        channel.publish(queue, '#', Buffer.from(JSON.stringify({ n: index })), {
          headers: {
            [HEADER.tenant]: 'BENCH',
            [HEADER.requestId]: id,
            [HEADER.owner]: 'bench',
            [HEADER.session]: 'bench',
            [HEADER.contentType]: 'bench',
          },
          priority: 0,
          contentType: 'application/json',
          persistent: true,
        });
      };
      for (let i = 0; i < window && sent < total; i += 1) send();
    });
    const end = await finished;
    const cpu = cpuTicks(pid) - cpuFrom;
    latencies.sort((a, b) => a - b);
    const measured = total - WARMUP;
    return {
      perSecond: measured / ((end - measuredFrom) / 1000),
      p50: quantile(latencies, 0.5),
      p99: quantile(latencies, 0.99),
      cpuMicrosPerMessage: ((cpu / CLOCK_TICKS) * 1e6) / measured,
      rssMB: rssMB(pid),
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((done) => child.once('exit', done));
  }
}

async function startRaw(prefetch: number): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [join(ROOT, 'bench/raw-worker.ts'), requestQueueName(rawType), String(prefetch)],
    {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      env: { ...process.env, AMQP_URL },
    },
  );
  await new Promise<void>((ready, fail) => {
    child.once('message', () => ready());
    child.once('exit', (code) => fail(new Error(`raw worker exited with ${code}`)));
  });
  return child;
}

async function startAdapter(
  prefetch: number,
  bundlesDir: string,
  extraEnv: Record<string, string>,
): Promise<ChildProcess> {
  const port = await freePort();
  // The host as production runs it: precompiled (npm start).
  const flags = process.env.BENCH_ADAPTER_FLAGS?.split(' ').filter(Boolean) ?? HOST_NODE_FLAGS;
  const child = spawn(process.execPath, [...flags, host], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env,
      AMQP_URL,
      WORKER_BUNDLES: bundlesDir,
      WORKER_PREFETCH: String(prefetch),
      WORKER_HEALTH_PORT: String(port),
      ...extraEnv,
    },
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) return child;
    if (Date.now() > deadline || child.exitCode !== null) throw new Error('the adapter did not become ready');
    await new Promise((done) => setTimeout(done, 50));
  }
}

/** A project with the three example functions and the echo worker, built into its own dist/. */
async function benchProject(): Promise<string> {
  await mkdir(join(ROOT, 'dist'), { recursive: true });
  const dir = await mkdtemp(join(ROOT, 'dist', '.bench-'));
  await cp(join(ROOT, 'functions'), join(dir, 'functions'), { recursive: true });
  const echo = (await readFile(join(ROOT, 'bench/echo.ts'), 'utf8')).replace(
    "'bench-echo'",
    JSON.stringify(echoType),
  );
  await writeFile(join(dir, 'functions', 'echo.ts'), echo);
  const sdk = JSON.stringify(join(ROOT, 'sdk/index.ts'));
  for (const name of await readdir(join(dir, 'functions'))) {
    if (!name.endsWith('.ts')) continue;
    const path = join(dir, 'functions', name);
    await writeFile(path, (await readFile(path, 'utf8')).replace("'../sdk/index.ts'", sdk));
  }
  const { manifest } = await build({ root: dir });
  console.log(`adapter bundles: ${manifest.workers.map((w) => w.type).join(', ')}`);
  return dir;
}

/** The same bundles, every worker set to run inline (the manifest says so; the bundles are the same bytes). */
async function inlineCopy(dist: string): Promise<string> {
  const copy = `${dist}-inline`;
  await cp(dist, copy, { recursive: true });
  const manifest = JSON.parse(await readFile(join(copy, 'manifest.json'), 'utf8'));
  for (const worker of manifest.workers) worker.isolation = 'inline';
  await writeFile(join(copy, 'manifest.json'), JSON.stringify(manifest, null, 2));
  return copy;
}

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime
}

function rssMB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

function mean(figures: readonly Figures[]): Figures {
  const avg = (key: keyof Figures) => figures.reduce((sum, f) => sum + f[key], 0) / figures.length;
  return {
    perSecond: avg('perSecond'),
    p50: avg('p50'),
    p99: avg('p99'),
    cpuMicrosPerMessage: avg('cpuMicrosPerMessage'),
    rssMB: avg('rssMB'),
  };
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => done(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

interface Result {
  prefetch: number;
  rows: ReadonlyMap<string, Figures>;
}

function print(results: readonly Result[]): void {
  const f = (n: number, digits = 0) => n.toFixed(digits);
  const row = (prefetch: number, name: string, x: Figures, raw?: Figures) =>
    `${f(prefetch).padStart(8)} | ${name.padEnd(16)} | ${f(x.perSecond).padStart(7)} | ${f(x.p50, 2).padStart(6)} | ${f(x.p99, 2).padStart(6)} | ${f(x.cpuMicrosPerMessage).padStart(10)} | ${f(x.rssMB, 1).padStart(6)} |${raw ? ` ${f(x.perSecond / raw.perSecond, 2)}` : ''}`;
  const lines = [
    `broker ${AMQP_URL.replace(/\/\/[^@]*@/, '//')}, ${ROUNDS} round(s) per cell, ${WARMUP} warm-up messages per phase`,
    '',
    'prefetch | worker           |   msg/s | p50 ms | p99 ms | CPU µs/msg | RSS MB | msg/s vs raw',
    '-------- | ---------------- | ------- | ------ | ------ | ---------- | ------ | ------------',
  ];
  for (const { prefetch, rows } of results) {
    const raw = rows.get('raw');
    for (const [name, figures] of rows)
      lines.push(row(prefetch, name, figures, name === 'raw' ? undefined : raw));
  }
  /** The ratio of two rows' throughput at each prefetch where both ran, and a verdict against `target`. */
  const compare = (what: string, a: string, b: string, target: number, detail = false) => {
    for (const { prefetch, rows } of results) {
      const x = rows.get(a);
      const y = rows.get(b);
      if (x === undefined || y === undefined) continue;
      const ratio = x.perSecond / y.perSecond;
      lines.push(
        `  ${what} >= ${f(target, 2)} at prefetch ${prefetch}: ${ratio >= target ? 'met' : 'NOT met'} (${f(ratio, 2)}` +
          (detail
            ? `; CPU ${f(x.cpuMicrosPerMessage)} vs ${f(y.cpuMicrosPerMessage)} µs/msg, RSS ${f(x.rssMB, 1)} vs ${f(y.rssMB, 1)} MB)`
            : ')'),
      );
    }
  };
  lines.push('', 'targets (throughput ratios in this run):');
  compare('adapter/raw', 'adapter', 'raw', 0.9);
  compare('threads/inline', 'adapter', 'adapter inline', 0.9, true);
  compare('metrics on/off', 'adapter', 'adapter -metrics', 0.98, true);
  compare('tracing/adapter', 'adapter+tracing', 'adapter', 0.9, true);
  lines.push(
    '',
    'adapter: handlers in threads (the default), metrics on; adapter -metrics: WORKER_METRICS=off;',
    'adapter inline: the same bundles run on the event loop;',
    'adapter+tracing: threads, exporting every span (3 per message) over OTLP/HTTP to a local collector',
  );
  console.log(lines.join('\n'));
}
