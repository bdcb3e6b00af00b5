/**
 * Metrics in the Prometheus text format, served at GET /metrics: the only file that imports
 * prom-client. The consumer, heartbeats, publisher and host record through the small Recorder
 * interface, so that tests read what was recorded without scraping.
 */
import type { Ending } from '../protocol/index.ts';
import { SDK_VERSION } from '../sdk/version.ts';
import { ENDINGS } from './endings.ts';

/** What the host records. Every method is cheap: a label lookup and an add. */
export interface Recorder {
  /** A delivery was taken (+1) or finished (−1). */
  inFlight(type: string, delta: 1 | -1): void;
  /** A delivery ended so, its handler having taken `seconds`. */
  settled(type: string, ending: Ending, seconds: number): void;
  heartbeat(type: string, result: 'sent' | 'failed'): void;
  /** From a publish to its confirm. */
  confirmed(seconds: number): void;
  connected(up: boolean): void;
  reconnected(): void;
  /** The bundles of the version served now. */
  serving(bundles: readonly BundleVersion[]): void;
  /** A version not served: a new one that could not load (`refused`), or a served bundle changed on disk (`changed`). */
  versionRefused(reason: 'refused' | 'changed'): void;
}

export interface BundleVersion {
  readonly type: string;
  readonly sha256: string;
  readonly sdkVersion: string;
  /** The type's settings, beside which its duration and in-flight count are read. */
  readonly timeoutMs: number;
  readonly prefetch: number;
  /** Where its handlers run: the threads it holds now are counted at each scrape. */
  readonly executor: { threads?(): number };
}

export const NO_METRICS: Recorder = {
  inFlight: () => undefined,
  settled: () => undefined,
  heartbeat: () => undefined,
  confirmed: () => undefined,
  connected: () => undefined,
  reconnected: () => undefined,
  serving: () => undefined,
  versionRefused: () => undefined,
};

export const METRICS_PREFIX = 'regards_worker_';

export interface Metrics extends Recorder {
  readonly contentType: string;
  /** The text exposition of every metric. */
  scrape(): Promise<string>;
}

/** Loads prom-client only when metrics are on (`WORKER_METRICS`). */
export async function createMetrics(): Promise<Metrics> {
  const { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } = await import('prom-client');
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // Gauges whose names end in _total, which the exposition format keeps for counters (promtool refuses
  // them): the same counts are the sums of nodejs_active_handles, _requests and _resources by type.
  for (const total of [
    'nodejs_active_handles_total',
    'nodejs_active_requests_total',
    'nodejs_active_resources_total',
  ])
    registry.removeSingleMetric(total);
  const name = (suffix: string) => `${METRICS_PREFIX}${suffix}`;
  const settledTotal = new Counter({
    name: name('requests_settled_total'),
    help: 'Requests settled, by worker type and outcome (the log line\'s "outcome")',
    labelNames: ['worker_type', 'outcome'],
    registers: [registry],
  });
  const handlerSeconds = new Histogram({
    name: name('handler_duration_seconds'),
    help: 'Time from taking a request to its decision (validation and handler), by worker type',
    labelNames: ['worker_type'],
    // Up to the longest time limit WORKER_TIMEOUT_SECONDS allows (1,500 s).
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 600, 900, 1200, 1500],
    registers: [registry],
  });
  const inFlight = new Gauge({
    name: name('requests_in_flight'),
    help: 'Requests taken and not yet settled, by worker type',
    labelNames: ['worker_type'],
    registers: [registry],
  });
  const retries = new Counter({
    name: name('retries_total'),
    help: 'Requests sent to the retry queue after an undetermined failure, by worker type',
    labelNames: ['worker_type'],
    registers: [registry],
  });
  const deadLetters = new Counter({
    name: name('dead_letters_total'),
    help: 'Requests put in the DLQ (dead-lettered or rejected), by worker type',
    labelNames: ['worker_type'],
    registers: [registry],
  });
  const heartbeats = new Counter({
    name: name('heartbeats_total'),
    help: 'Heartbeats to the Worker Manager, by worker type and result (sent or failed)',
    labelNames: ['worker_type', 'result'],
    registers: [registry],
  });
  const confirmSeconds = new Histogram({
    name: name('publish_confirm_seconds'),
    help: 'Time from a publish to the broker confirming it',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  const brokerConnected = new Gauge({
    name: name('broker_connected'),
    help: '1 while connected to the broker, 0 otherwise',
    registers: [registry],
  });
  const reconnects = new Counter({
    name: name('broker_reconnects_total'),
    help: 'Connections to the broker made again after one was lost',
    registers: [registry],
  });
  const buildInfo = new Gauge({
    name: name('build_info'),
    help: 'Always 1: the host version and the Node version it runs on',
    labelNames: ['version', 'node_version'],
    registers: [registry],
  });
  buildInfo.set({ version: SDK_VERSION, node_version: process.version }, 1);
  const bundleInfo = new Gauge({
    name: name('bundle_info'),
    help: 'Always 1 for each bundle of the version served: worker type, sha256 and the sdk it was built with',
    labelNames: ['worker_type', 'sha256', 'sdk_version'],
    registers: [registry],
  });
  const timeLimit = new Gauge({
    name: name('time_limit_seconds'),
    help: "The handler time limit of each worker type served (its duration's ceiling)",
    labelNames: ['worker_type'],
    registers: [registry],
  });
  const prefetchLimit = new Gauge({
    name: name('prefetch'),
    help: 'Requests each worker type served takes at once (its in-flight ceiling)',
    labelNames: ['worker_type'],
    registers: [registry],
  });
  let served: readonly BundleVersion[] = [];
  new Gauge({
    name: name('handler_threads'),
    help: 'Handler threads alive now, by worker type (0 for inline handlers)',
    labelNames: ['worker_type'],
    registers: [registry],
    collect() {
      this.reset();
      for (const bundle of served) this.set({ worker_type: bundle.type }, bundle.executor.threads?.() ?? 0);
    },
  });
  const refusedVersions = new Counter({
    name: name('bundle_versions_refused_total'),
    help: 'Bundles not served: a new version that could not load (refused), or a served bundle changed on disk (changed)',
    labelNames: ['reason'],
    registers: [registry],
  });
  // Both reasons at 0 from the start: a rate or an alert reads a series that exists.
  for (const reason of ['refused', 'changed']) refusedVersions.labels({ reason }).inc(0);
  return {
    contentType: registry.contentType,
    scrape: () => registry.metrics(),
    inFlight: (type, delta) => inFlight.inc({ worker_type: type }, delta),
    settled(type, ending, seconds) {
      settledTotal.inc({ worker_type: type, outcome: ending });
      handlerSeconds.observe({ worker_type: type }, seconds);
      if (ending === 'retry') retries.inc({ worker_type: type });
      if (ENDINGS[ending].deadLettered) deadLetters.inc({ worker_type: type });
    },
    heartbeat: (type, result) => heartbeats.inc({ worker_type: type, result }),
    confirmed: (seconds) => confirmSeconds.observe(seconds),
    connected: (up) => brokerConnected.set(up ? 1 : 0),
    reconnected: () => reconnects.inc(),
    serving(bundles) {
      served = bundles;
      for (const gauge of [bundleInfo, timeLimit, prefetchLimit]) gauge.reset();
      for (const bundle of bundles) {
        const worker_type = bundle.type;
        bundleInfo.set({ worker_type, sha256: bundle.sha256, sdk_version: bundle.sdkVersion }, 1);
        timeLimit.set({ worker_type }, bundle.timeoutMs / 1000);
        prefetchLimit.set({ worker_type }, bundle.prefetch);
      }
    },
    versionRefused: (reason) => refusedVersions.inc({ reason }),
  };
}
