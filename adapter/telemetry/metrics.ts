/**
 * Metrics in the Prometheus text format, served at GET /metrics: the only file that imports
 * prom-client. The consumer, heartbeats, publisher and host record through the small Recorder
 * interface into the host's own series (series.ts: plain numbers); prom-client is loaded later, for
 * its registry, its text exposition and the process's default metrics.
 */
import type { Ending } from '../../protocol/index.ts';
import { SDK_VERSION } from '../../sdk/version.ts';
import { ENDINGS } from '../delivery/endings.ts';
import { Histogram, ReadGauge, type ScrapedSeries, Tally } from './series.ts';

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
  /** The text exposition of every metric; loads prom-client first if it is not yet. */
  scrape(): Promise<string>;
  /** Loads prom-client (again, a no-op); a failure is told to `failed`, and scrapes then fail. */
  load(): Promise<void>;
}

/** Every series of the host. */
function instruments(served: () => readonly BundleVersion[]) {
  const name = (suffix: string) => `${METRICS_PREFIX}${suffix}`;
  const counter = (suffix: string, help: string, labelNames: string[] = []) =>
    new Tally(name(suffix), help, 'counter', labelNames);
  const gauge = (suffix: string, help: string, labelNames: string[] = []) =>
    new Tally(name(suffix), help, 'gauge', labelNames);
  const type = ['worker_type'];
  return {
    handlerThreads: new ReadGauge(
      name('handler_threads'),
      'Handler threads alive now, by worker type (0 for inline handlers)',
      () =>
        served().map((bundle) => ({
          labels: { worker_type: bundle.type },
          value: bundle.executor.threads?.() ?? 0,
        })),
    ),
    settledTotal: counter(
      'requests_settled_total',
      'Requests settled, by worker type and outcome (the log line\'s "outcome")',
      ['worker_type', 'outcome'],
    ),
    handlerSeconds: new Histogram(
      name('handler_duration_seconds'),
      'Time from taking a request to its decision (validation and handler), by worker type',
      // Up to the longest time limit WORKER_TIMEOUT_SECONDS allows (1,500 s).
      [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 600, 900, 1200, 1500],
      type,
    ),
    inFlight: gauge('requests_in_flight', 'Requests taken and not yet settled, by worker type', type),
    retries: counter(
      'retries_total',
      'Requests sent to the retry queue after an undetermined failure, by worker type',
      type,
    ),
    deadLetters: counter(
      'dead_letters_total',
      'Requests put in the DLQ (dead-lettered or rejected), by worker type',
      type,
    ),
    heartbeats: counter(
      'heartbeats_total',
      'Heartbeats to the Worker Manager, by worker type and result (sent or failed)',
      ['worker_type', 'result'],
    ),
    confirmSeconds: new Histogram(
      name('publish_confirm_seconds'),
      'Time from a publish to the broker confirming it',
      [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    ),
    brokerConnected: gauge('broker_connected', '1 while connected to the broker, 0 otherwise'),
    reconnects: counter('broker_reconnects_total', 'Connections to the broker made again after one was lost'),
    buildInfo: gauge('build_info', 'Always 1: the host version and the Node version it runs on', [
      'version',
      'node_version',
    ]),
    bundleInfo: new ReadGauge(
      name('bundle_info'),
      'Always 1 for each bundle of the version served: worker type, sha256 and the sdk it was built with',
      () =>
        served().map((bundle) => ({
          labels: { worker_type: bundle.type, sha256: bundle.sha256, sdk_version: bundle.sdkVersion },
          value: 1,
        })),
    ),
    timeLimit: new ReadGauge(
      name('time_limit_seconds'),
      "The handler time limit of each worker type served (its duration's ceiling)",
      () =>
        served().map((bundle) => ({ labels: { worker_type: bundle.type }, value: bundle.timeoutMs / 1000 })),
    ),
    prefetchLimit: new ReadGauge(
      name('prefetch'),
      'Requests each worker type served takes at once (its in-flight ceiling)',
      () => served().map((bundle) => ({ labels: { worker_type: bundle.type }, value: bundle.prefetch })),
    ),
    refusedVersions: counter(
      'bundle_versions_refused_total',
      'Bundles not served: a new version that could not load (refused), or a served bundle changed on disk (changed)',
      ['reason'],
    ),
  };
}

/**
 * The host's metrics. What is recorded goes into plain numbers from the start; prom-client, its
 * registry and the default metrics of the process (some 40 ms to load, OpenTelemetry's API included,
 * for exemplars) are loaded by `load`, which a host's start need not wait for, or by the first scrape.
 */
export function createMetrics(failed: (error: Error) => void): Metrics {
  let served: readonly BundleVersion[] = [];
  const m = instruments(() => served);
  m.buildInfo.set(1, SDK_VERSION, process.version);
  // Both reasons at 0 from the start: a rate or an alert reads a series that exists.
  for (const reason of ['refused', 'changed']) m.refusedVersions.add(0, reason);
  let loading: Promise<Registry | undefined> | undefined;
  let registry: Registry | undefined;
  const load = () => {
    loading ??= registryOf(Object.values(m)).then(
      (loaded) => {
        registry = loaded;
        return loaded;
      },
      (error: Error) => {
        failed(error);
        return undefined;
      },
    );
    return loading;
  };
  return {
    // Read once a scrape has resolved, so from the loaded registry.
    get contentType() {
      return registry?.contentType ?? 'text/plain';
    },
    load: async () => {
      await load();
    },
    async scrape() {
      const loaded = await load();
      if (loaded === undefined) throw new Error('metrics could not be loaded');
      return loaded.metrics();
    },
    inFlight: (type, delta) => m.inFlight.add(delta, type),
    settled(type, ending, seconds) {
      m.settledTotal.add(1, type, ending);
      m.handlerSeconds.observe(seconds, type);
      if (ending === 'retry') m.retries.add(1, type);
      if (ENDINGS[ending].deadLettered) m.deadLetters.add(1, type);
    },
    heartbeat: (type, result) => m.heartbeats.add(1, type, result),
    confirmed: (seconds) => m.confirmSeconds.observe(seconds),
    connected: (up) => m.brokerConnected.set(up ? 1 : 0),
    reconnected: () => m.reconnects.add(1),
    serving(bundles) {
      served = bundles;
    },
    versionRefused: (reason) => m.refusedVersions.add(1, reason),
  };
}

type Registry = InstanceType<typeof import('prom-client')['Registry']>;

/** prom-client's registry, with the default metrics of the process and the host's own series. */
async function registryOf(series: readonly ScrapedSeries[]): Promise<Registry> {
  const prom = await import('prom-client');
  const registry = new prom.Registry();
  prom.collectDefaultMetrics({ register: registry });
  // Gauges whose names end in _total, which the exposition format keeps for counters (promtool refuses
  // them): the same counts are the sums of nodejs_active_handles, _requests and _resources by type.
  for (const total of [
    'nodejs_active_handles_total',
    'nodejs_active_requests_total',
    'nodejs_active_resources_total',
  ])
    registry.removeSingleMetric(total);
  // The registry reads a metric through its name, type and get(): the host's series give those.
  for (const one of series) registry.registerMetric(one as unknown as import('prom-client').Metric);
  return registry;
}
