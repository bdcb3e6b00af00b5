/**
 * `npm run bench`: the host against a hand-written amqplib worker doing the same per-message work, on
 * the real REGARDS topology (the priority-255 request queue the manager declares), in one run, the
 * variants alternated over rounds (A B … B A) so that drift on a shared machine falls on all. Prints
 * per cell the median and min–max over rounds, and the ratio of medians to the raw worker; asserts
 * nothing (the machine is shared: read the figures).
 *
 * - saturation: N requests pre-filled, then the worker started and the queue drained at full speed:
 *   msg/s, worker CPU and broker CPU per message, RSS at the end; the raw worker once more on a plain
 *   queue, to show what the priority argument costs the broker;
 * - closed loop: 2 × prefetch requests outstanding, each timed from its publish to its response;
 * - replicas: 1, 2 and 4 processes draining one pre-filled queue;
 * - cold start: process start to consuming (raw) or to /readyz 200 (host, three example bundles).
 *
 * BENCH_QUICK=1: one short round of each, under a minute (CI runs it so that the benchmark never rots).
 * BENCH_PHASES=saturation,closed,replicas,cold picks phases; BENCH_VARIANTS=raw,host picks workers;
 * BENCH_PROFILE=<dir>: every worker process (and handler thread) writes a V8 CPU profile there.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import * as amqp from 'amqplib';
import { build } from '../build/build.ts';
import { buildHost, HOST_NODE_FLAGS } from '../build/host.ts';
import { HEADER, REQUEST_QUEUE_ARGUMENTS, RESPONSE_EXCHANGE, requestQueueName } from '../protocol/index.ts';

const ROOT = resolve(import.meta.dirname, '..');
const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const QUICK = process.env.BENCH_QUICK === '1';
const list = (value: string | undefined, fallback: number[]) => value?.split(',').map(Number) ?? fallback;
const PREFETCHES = list(process.env.BENCH_PREFETCHES, QUICK ? [10] : [1, 10, 50]);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (QUICK ? 1 : 3));
const SCALE = Number(process.env.BENCH_SCALE ?? (QUICK ? 0.05 : 1));
const REPLICAS = list(process.env.BENCH_REPLICAS, QUICK ? [1, 2] : [1, 2, 4]);
const PHASES = process.env.BENCH_PHASES?.split(',') ?? ['saturation', 'closed', 'replicas', 'cold'];
const PROFILE = process.env.BENCH_PROFILE
  ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`]
  : [];
/** Requests per saturation phase, by prefetch (prefetch 1 is slow: fewer). */
const saturationCount = (prefetch: number) =>
  Math.max(100, Math.round((prefetch === 1 ? 3000 : 8000) * SCALE));
const closedCount = (prefetch: number) => Math.max(100, Math.round((prefetch === 1 ? 2000 : 5000) * SCALE));
const WARMUP = QUICK ? 20 : 300;
/** How long after it is serving a process's idle RSS is read. */
const IDLE_AFTER_MS = QUICK ? 1_000 : 3_000;
const CLOCK_TICKS = 100; // USER_HZ on Linux
const run = promisify(execFile);

interface Figures {
  perSecond: number;
  p50: number;
  p99: number;
  cpuMicrosPerMessage: number;
  brokerMicrosPerMessage: number;
  rssMB: number;
  /** The highest RSS the process reached (VmHWM): under load, threads included. */
  peakRssMB: number;
  /** OS threads of the worker process at the end (Node's own, plus one per handler thread). */
  threads: number;
  /** Where cpuMicrosPerMessage went, by thread: the main thread, handler threads, V8's helpers (GC). */
  mainMicrosPerMessage: number;
  handlerMicrosPerMessage: number;
  v8MicrosPerMessage: number;
}

// ---------------------------------------------------------------------------------------------
// Setup: the broker's process (for its CPU), one connection observing every response, the projects.

const brokerPid = Number(
  process.env.BENCH_BROKER_PID ??
    (await run('rabbitmqctl', ['eval', 'list_to_integer(os:getpid()).'])).stdout.trim(),
);
const connection = await amqp.connect(AMQP_URL, { noDelay: true });
const channel = await connection.createConfirmChannel();
await channel.assertExchange(RESPONSE_EXCHANGE, 'topic', { durable: true });
const { queue: observer } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
await channel.bindQueue(observer, RESPONSE_EXCHANGE, '#');
/** Called with each response's request id and when it arrived. */
let onResponse: (id: string, at: number) => void = () => undefined;
await channel.consume(
  observer,
  (message) => onResponse(String(message?.properties.headers?.[HEADER.requestId]), performance.now()),
  { noAck: true },
);

const runId = randomUUID().slice(0, 8);
const echoType = `bench-echo-${runId}`;
const rawType = `bench-raw-${runId}`;
const plainType = `bench-plain-${runId}`;
const project = await benchProject();
const bundles = { thread: join(project, 'dist'), inline: await inlineCopy(join(project, 'dist')) };
// A collector that takes OTLP exports and discards them: the traced host's exports cost what they cost.
const collector = createHttpServer((request, response) => {
  request.resume();
  request.on('end', () => response.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
});
await new Promise<void>((done) => collector.listen(0, '127.0.0.1', done));
const collectorAddress = collector.address();
const collectorUrl = `http://127.0.0.1:${typeof collectorAddress === 'object' && collectorAddress ? collectorAddress.port : 0}`;
const host = await buildHost(ROOT);
const queues = [echoType, rawType, plainType].map(requestQueueName);

interface Variant {
  readonly name: string;
  readonly type: string;
  readonly start: (prefetch: number) => Promise<ChildProcess>;
}
const raw: Variant = { name: 'raw', type: rawType, start: (p) => startRaw(rawType, p) };
const rawPlain: Variant = { name: 'raw, plain queue', type: plainType, start: (p) => startRaw(plainType, p) };
const adapter: Variant = { name: 'host', type: echoType, start: (p) => startAdapter(p, bundles.thread, {}) };
const ALL_VARIANTS: readonly Variant[] = [
  raw,
  adapter,
  { name: 'host inline', type: echoType, start: (p) => startAdapter(p, bundles.inline, {}) },
  {
    name: 'host -metrics',
    type: echoType,
    start: (p) => startAdapter(p, bundles.thread, { WORKER_METRICS: 'off' }),
  },
  {
    name: 'host +tracing',
    type: echoType,
    start: (p) => startAdapter(p, bundles.thread, { OTEL_EXPORTER_OTLP_ENDPOINT: collectorUrl }),
  },
  rawPlain,
];
/** BENCH_VARIANTS=raw,host picks some by name. */
const VARIANTS = ALL_VARIANTS.filter(
  (variant) => process.env.BENCH_VARIANTS?.split(',').includes(variant.name) ?? true,
);

type Cells = Map<string, Figures[]>;
const push = (cells: Cells, key: string, figures: Figures) =>
  cells.set(key, [...(cells.get(key) ?? []), figures]);

try {
  await prepareQueues();
  const saturated: Cells = new Map();
  const closed: Cells = new Map();
  const replicas: Cells = new Map();
  const starts = new Map<string, number[]>();
  const idle = new Map<string, number[]>();
  for (let round = 0; round < ROUNDS; round += 1) {
    // A B … B A: even rounds in order, odd rounds reversed.
    const ordered = <T>(items: readonly T[]) => (round % 2 === 0 ? [...items] : [...items].reverse());
    const pair = VARIANTS.filter((variant) => variant === raw || variant === adapter);
    if (PHASES.includes('saturation'))
      for (const prefetch of PREFETCHES)
        for (const variant of ordered(VARIANTS))
          push(saturated, `${prefetch}|${variant.name}`, await saturation(variant, prefetch, 1));
    if (PHASES.includes('closed'))
      for (const prefetch of PREFETCHES)
        for (const variant of ordered(pair))
          push(closed, `${prefetch}|${variant.name}`, await closedLoop(variant, prefetch));
    if (PHASES.includes('replicas'))
      for (const count of REPLICAS)
        for (const variant of ordered(pair))
          push(replicas, `${count}|${variant.name}`, await saturation(variant, 10, count));
    if (PHASES.includes('cold'))
      for (const [name, { ms, idleMB }] of Object.entries(await coldStarts())) {
        starts.set(name, [...(starts.get(name) ?? []), ms]);
        if (Number.isFinite(idleMB)) idle.set(name, [...(idle.get(name) ?? []), idleMB]);
      }
    console.error(`round ${round + 1} of ${ROUNDS} done`);
  }
  console.log(report(saturated, closed, replicas, starts, idle));
} finally {
  const cleanup = await connection.createChannel();
  for (const name of queues) {
    await cleanup.deleteQueue(name).catch(() => undefined);
    await cleanup.deleteQueue(`${name}.retry`).catch(() => undefined);
    await cleanup.deleteExchange(name).catch(() => undefined);
  }
  await connection.close();
  collector.close();
  await rm(project, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------
// Phases.

async function prepareQueues(): Promise<void> {
  for (const type of [echoType, rawType, plainType]) {
    const queue = requestQueueName(type);
    await channel.assertExchange(queue, 'topic', { durable: true });
    // As the Java manager declares it; the plain one without its priority.
    const { 'x-max-priority': _, ...plain } = REQUEST_QUEUE_ARGUMENTS;
    await channel.assertQueue(queue, {
      durable: true,
      arguments: type === plainType ? plain : REQUEST_QUEUE_ARGUMENTS,
    });
    await channel.bindQueue(queue, queue, '#');
  }
}

function publishRequest(type: string, id: string, n: number): void {
  channel.publish(requestQueueName(type), '#', Buffer.from(JSON.stringify({ n })), {
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
}

/** CPU ticks of processes. */
function ticksOf(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + cpuTicks(pid), 0);
}

function microsPerMessage(ticks: number, messages: number): number {
  return ((ticks / CLOCK_TICKS) * 1e6) / messages;
}

/** Pre-fills the queue, starts `replicas` workers, and times the drain from the moment all are ready. */
async function saturation(variant: Variant, prefetch: number, replicas: number): Promise<Figures> {
  const total = saturationCount(prefetch) * replicas;
  const phase = randomUUID().slice(0, 6);
  for (let n = 0; n < total; n += 1) publishRequest(variant.type, `${phase}-${n}`, n);
  await channel.waitForConfirms();
  let answered = 0;
  let last = 0;
  const drained = new Promise<void>((done) => {
    onResponse = (id, at) => {
      if (!id.startsWith(`${phase}-`)) return;
      answered += 1;
      last = at;
      if (answered === total) done();
    };
  });
  const children = await Promise.all(Array.from({ length: replicas }, () => variant.start(prefetch)));
  const pids = children.map((child) => child.pid ?? 0);
  try {
    const from = performance.now();
    const workerFrom = ticksOf(pids);
    const brokerFrom = cpuTicks(brokerPid);
    const byThreadFrom = pids.map(ticksByThread);
    await drained;
    const byThread = (kind: ThreadKind) =>
      microsPerMessage(
        pids.reduce((sum, pid, i) => sum + ticksByThread(pid)[kind] - (byThreadFrom[i]?.[kind] ?? 0), 0),
        total,
      );
    return {
      perSecond: total / ((last - from) / 1000),
      p50: Number.NaN,
      p99: Number.NaN,
      cpuMicrosPerMessage: microsPerMessage(ticksOf(pids) - workerFrom, total),
      mainMicrosPerMessage: byThread('main'),
      handlerMicrosPerMessage: byThread('handler'),
      v8MicrosPerMessage: byThread('v8'),
      brokerMicrosPerMessage: microsPerMessage(cpuTicks(brokerPid) - brokerFrom, total),
      rssMB: pids.reduce((sum, pid) => sum + rssMB(pid), 0) / replicas,
      peakRssMB: pids.reduce((sum, pid) => sum + rssMB(pid, 'VmHWM'), 0) / replicas,
      threads: pids.reduce((sum, pid) => sum + threadsOf(pid), 0) / replicas,
    };
  } finally {
    await stopAll(children);
  }
}

/** 2 × prefetch requests outstanding; each timed from its publish to its response. */
async function closedLoop(variant: Variant, prefetch: number): Promise<Figures> {
  const child = await variant.start(prefetch);
  const pid = child.pid ?? 0;
  try {
    const total = WARMUP + closedCount(prefetch);
    const phase = randomUUID().slice(0, 6);
    const sentAt = new Map<string, number>();
    const latencies: number[] = [];
    let sent = 0;
    let completed = 0;
    let measuredFrom = 0;
    let workerFrom = 0;
    let brokerFrom = 0;
    const end = await new Promise<number>((done) => {
      const send = () => {
        const id = `${phase}-${sent}`;
        sentAt.set(id, performance.now());
        publishRequest(variant.type, id, sent);
        sent += 1;
      };
      onResponse = (id, at) => {
        const started = sentAt.get(id);
        if (started === undefined) return;
        sentAt.delete(id);
        completed += 1;
        if (completed > WARMUP) latencies.push(at - started);
        if (completed === WARMUP) {
          measuredFrom = at;
          workerFrom = cpuTicks(pid);
          brokerFrom = cpuTicks(brokerPid);
        }
        if (completed === total) done(at);
        else if (sent < total) send();
      };
      for (let i = 0; i < 2 * prefetch && sent < total; i += 1) send();
    });
    latencies.sort((a, b) => a - b);
    const measured = total - WARMUP;
    return {
      perSecond: measured / ((end - measuredFrom) / 1000),
      p50: quantile(latencies, 0.5),
      p99: quantile(latencies, 0.99),
      cpuMicrosPerMessage: microsPerMessage(cpuTicks(pid) - workerFrom, measured),
      brokerMicrosPerMessage: microsPerMessage(cpuTicks(brokerPid) - brokerFrom, measured),
      rssMB: rssMB(pid),
      peakRssMB: rssMB(pid, 'VmHWM'),
      threads: threadsOf(pid),
      mainMicrosPerMessage: Number.NaN,
      handlerMicrosPerMessage: Number.NaN,
      v8MicrosPerMessage: Number.NaN,
    };
  } finally {
    await stopAll([child]);
  }
}

/**
 * Milliseconds from spawn to serving (Node alone, the raw worker consuming, the host ready), and the
 * RSS in MB IDLE_AFTER_MS later, with nothing to do.
 */
async function coldStarts(): Promise<Record<string, { ms: number; idleMB: number }>> {
  const timed = async (start: () => Promise<ChildProcess>) => {
    const from = performance.now();
    const child = await start();
    const ms = performance.now() - from;
    await new Promise((done) => setTimeout(done, IDLE_AFTER_MS));
    const idleMB = rssMB(child.pid ?? 0);
    await stopAll([child]);
    return { ms, idleMB };
  };
  const node = performance.now();
  await run(process.execPath, ['-e', '0']);
  return {
    'node -e 0': { ms: performance.now() - node, idleMB: Number.NaN },
    raw: await timed(() => startRaw(rawType, 10)),
    host: await timed(() => startAdapter(10, bundles.thread, {}, 5)),
    'host inline': await timed(() => startAdapter(10, bundles.inline, {}, 5)),
  };
}

async function stopAll(children: readonly ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((done) => {
          if (child.exitCode !== null || child.signalCode !== null) return done();
          child.once('exit', () => done());
          child.kill('SIGTERM');
        }),
    ),
  );
}

async function startRaw(type: string, prefetch: number): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [...PROFILE, join(ROOT, 'bench/raw-worker.ts'), requestQueueName(type), String(prefetch)],
    { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], env: { ...process.env, AMQP_URL } },
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
  pollMs = 20,
): Promise<ChildProcess> {
  const port = await freePort();
  // The host as production runs it: precompiled (npm start), with its Node flags.
  const flags = process.env.BENCH_ADAPTER_FLAGS?.split(' ').filter(Boolean) ?? HOST_NODE_FLAGS;
  // Its log as shipped (a line per settled message, at info) into a pipe, as a container runtime reads it.
  const child = spawn(process.execPath, [...flags, ...PROFILE, host], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...process.env,
      AMQP_URL,
      WORKER_BUNDLES: bundlesDir,
      WORKER_PREFETCH: String(prefetch),
      WORKER_HEALTH_PORT: String(port),
      ...extraEnv,
    },
  });
  child.stdout?.resume();
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) return child;
    if (Date.now() > deadline || child.exitCode !== null) throw new Error('the host did not become ready');
    await new Promise((done) => setTimeout(done, pollMs));
  }
}

// ---------------------------------------------------------------------------------------------
// The report.

function report(
  saturated: Cells,
  closed: Cells,
  replicas: Cells,
  starts: Map<string, number[]>,
  idle: Map<string, number[]>,
): string {
  const f = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '-');
  const median = (values: readonly number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1
      ? (sorted[middle] as number)
      : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
  };
  const spread = (values: readonly number[], digits = 0) =>
    values.length < 2
      ? f(median(values), digits)
      : `${f(median(values), digits)} (${f(Math.min(...values), digits)}–${f(Math.max(...values), digits)})`;
  const of = (cells: Cells, key: string, field: keyof Figures) =>
    median((cells.get(key) ?? []).map((figures) => figures[field]));
  const table = (title: string, cells: Cells, first: string, fields: readonly (keyof Figures)[]) => {
    const names: Record<keyof Figures, string> = {
      perSecond: 'msg/s',
      p50: 'p50 ms',
      p99: 'p99 ms',
      cpuMicrosPerMessage: 'CPU µs/msg',
      brokerMicrosPerMessage: 'broker µs/msg',
      rssMB: 'RSS MB',
      peakRssMB: 'peak RSS MB',
      threads: 'threads',
      mainMicrosPerMessage: 'main µs',
      handlerMicrosPerMessage: 'handlers µs',
      v8MicrosPerMessage: 'V8 helpers µs',
    };
    const rows = [...cells].map(([key, figures]) => {
      const [group, name] = key.split('|') as [string, string];
      const rawMedian = of(cells, `${group}|raw`, 'perSecond');
      return [
        group,
        name,
        ...fields.map((field) =>
          spread(
            figures.map((x) => x[field]),
            field === 'p50' || field === 'p99' ? 2 : 0,
          ),
        ),
        name === 'raw' ? '' : f(of(cells, key, 'perSecond') / rawMedian, 2),
      ];
    });
    const header = [first, 'worker', ...fields.map((field) => names[field]), 'msg/s vs raw'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
    const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ');
    return [title, line(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.map(line), ''].join(
      '\n',
    );
  };
  const lines = [
    `broker ${AMQP_URL.replace(/\/\/[^@]*@/, '//')}, ${ROUNDS} round(s), variants alternated; median (min–max) over rounds`,
    '',
    table(
      `saturation: N requests pre-filled (${PREFETCHES.map((p) => `${saturationCount(p)} at prefetch ${p}`).join(', ')}), drained at full speed`,
      saturated,
      'prefetch',
      ['perSecond', 'cpuMicrosPerMessage', 'brokerMicrosPerMessage', 'rssMB', 'peakRssMB', 'threads'],
    ),
    table(
      'where the worker CPU of a saturation goes, µs per message by thread: the main thread, handler threads, V8 helpers (GC, compilation)',
      saturated,
      'prefetch',
      ['cpuMicrosPerMessage', 'mainMicrosPerMessage', 'handlerMicrosPerMessage', 'v8MicrosPerMessage'],
    ),
    table(
      'closed loop: 2 × prefetch requests outstanding, latency from publish to response',
      closed,
      'prefetch',
      ['perSecond', 'p50', 'p99', 'cpuMicrosPerMessage', 'brokerMicrosPerMessage'],
    ),
    table(
      'replicas: processes draining one pre-filled queue at prefetch 10 (CPU and RSS per process)',
      replicas,
      'processes',
      ['perSecond', 'cpuMicrosPerMessage', 'brokerMicrosPerMessage', 'rssMB'],
    ),
    `cold start, ms from spawn to serving (raw: consuming; host: /readyz 200, three example bundles and the echo one); idle RSS ${IDLE_AFTER_MS / 1000} s later`,
    ...[...starts].map(
      ([name, values]) =>
        `  ${name.padEnd(12)} ${spread(values)}${idle.has(name) ? `, idle ${spread(idle.get(name) ?? [])} MB` : ''}`,
    ),
    '',
    'targets (ratios of medians in this run):',
  ];
  const target = (what: string, value: number, limit: number, atLeast: boolean, detail = '') =>
    lines.push(
      `  ${what}: ${Number.isFinite(value) ? ((atLeast ? value >= limit : value <= limit) ? 'met' : 'NOT met') : 'not measured'} (${f(value, 2)}${detail})`,
    );
  const ratio = (cells: Cells, a: string, b: string, field: keyof Figures) =>
    of(cells, a, field) / of(cells, b, field);
  // Issue 20's targets: handlers in threads (the default) and inline, against the raw worker.
  for (const p of PREFETCHES) {
    target(
      `host/raw msg/s >= 1.00 at prefetch ${p}`,
      ratio(saturated, `${p}|host`, `${p}|raw`, 'perSecond'),
      1,
      true,
    );
    target(
      `host/raw CPU per message <= 1.30 at prefetch ${p}`,
      ratio(saturated, `${p}|host`, `${p}|raw`, 'cpuMicrosPerMessage'),
      1.3,
      false,
    );
    target(
      `host inline/raw CPU per message <= 1.10 at prefetch ${p}`,
      ratio(saturated, `${p}|host inline`, `${p}|raw`, 'cpuMicrosPerMessage'),
      1.1,
      false,
    );
    target(
      `tracing on/off msg/s >= 0.90 at prefetch ${p}`,
      ratio(saturated, `${p}|host +tracing`, `${p}|host`, 'perSecond'),
      0.9,
      true,
    );
    target(
      `metrics on/off msg/s >= 0.98 at prefetch ${p}`,
      ratio(saturated, `${p}|host`, `${p}|host -metrics`, 'perSecond'),
      0.98,
      true,
      `; CPU ${f(of(saturated, `${p}|host`, 'cpuMicrosPerMessage'))} vs ${f(of(saturated, `${p}|host -metrics`, 'cpuMicrosPerMessage'))} µs/msg`,
    );
  }
  if (PREFETCHES.includes(10)) {
    const rawPeak = of(saturated, '10|raw', 'peakRssMB');
    target(
      'host peak RSS under load <= raw + 40 MB at prefetch 10',
      of(saturated, '10|host', 'peakRssMB') - rawPeak,
      40,
      false,
      ` MB more than raw's ${f(rawPeak, 1)}`,
    );
  }
  const startOf = (name: string) => median(starts.get(name) ?? []);
  const idleOf = (name: string) => median(idle.get(name) ?? []);
  target(
    'host cold start <= raw + 100 ms',
    startOf('host') - startOf('raw'),
    100,
    false,
    ' ms more than raw',
  );
  target(
    'host idle RSS <= raw + 30 MB',
    idleOf('host') - idleOf('raw'),
    30,
    false,
    ` MB more than raw's ${f(idleOf('raw'), 1)}`,
  );
  const high = Math.max(...PREFETCHES);
  const priority = ratio(saturated, `${high}|raw`, `${high}|raw, plain queue`, 'brokerMicrosPerMessage');
  lines.push(
    `  the priority-255 queue costs the broker ${f(priority, 2)}× a plain queue's CPU per message (raw worker)`,
  );
  lines.push(
    '',
    'host: handlers in threads (the default), metrics on; host inline: the same bundles on the event loop;',
    'host -metrics: WORKER_METRICS=off; host +tracing: every span (3 per message) exported over OTLP/HTTP',
  );
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Helpers.

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
  console.error(`host bundles: ${manifest.workers.map((w) => w.type).join(', ')}`);
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

type ThreadKind = 'main' | 'handler' | 'v8';

/** CPU ticks of a process's threads, by kind (their names: handler threads are named `handler <type>`). */
function ticksByThread(pid: number): Record<ThreadKind, number> {
  const ticks = { main: 0, handler: 0, v8: 0 };
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // a thread that ended meanwhile
    }
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const used = Number(fields[11]) + Number(fields[12]);
    if (tid === String(pid)) ticks.main += used;
    else if (name.startsWith('handler ')) ticks.handler += used;
    else if (name.startsWith('V8')) ticks.v8 += used;
  }
  return ticks;
}

function threadsOf(pid: number): number {
  const match = /Threads:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) : Number.NaN;
}

/** VmRSS, or VmHWM: the highest it has been. */
function rssMB(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
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
