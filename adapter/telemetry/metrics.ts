/**
 * Metrics in the Prometheus text format, served at GET /metrics: the only file that imports
 * prom-client. The consumer, heartbeats, publisher and host record through the small Recorder
 * interface, so that tests read what was recorded without scraping.
 */
import type { Ending } from '../../protocol/index.ts';
import { SDK_VERSION } from '../../sdk/version.ts';
import { ENDINGS } from '../delivery/endings.ts';

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

type Prom = typeof import('prom-client');

/** Every metric of the host, registered in `registry`. */
function instruments(
  prom: Prom,
  registry: InstanceType<Prom['Registry']>,
  served: () => readonly BundleVersion[],
) {
  const registers = [registry];
  const counter = (suffix: string, help: string, labelNames: string[] = []) =>
    new prom.Counter({ name: `${METRICS_PREFIX}${suffix}`, help, labelNames, registers });
  const gauge = (suffix: string, help: string, labelNames: string[] = []) =>
    new prom.Gauge({ name: `${METRICS_PREFIX}${suffix}`, help, labelNames, registers });
  const histogram = (suffix: string, help: string, buckets: number[], labelNames: string[] = []) =>
    new prom.Histogram({ name: `${METRICS_PREFIX}${suffix}`, help, buckets, labelNames, registers });
  new prom.Gauge({
    name: `${METRICS_PREFIX}handler_threads`,
    help: 'Handler threads alive now, by worker type (0 for inline handlers)',
    labelNames: ['worker_type'],
    registers,
    collect() {
      this.reset();
      for (const bundle of served()) this.set({ worker_type: bundle.type }, bundle.executor.threads?.() ?? 0);
    },
  });
  const type = ['worker_type'];
  return {
    settledTotal: counter(
      'requests_settled_total',
      'Requests settled, by worker type and outcome (the log line\'s "outcome")',
      ['worker_type', 'outcome'],
    ),
    handlerSeconds: histogram(
      'handler_duration_seconds',
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
    confirmSeconds: histogram(
      'publish_confirm_seconds',
      'Time from a publish to the broker confirming it',
      [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    ),
    brokerConnected: gauge('broker_connected', '1 while connected to the broker, 0 otherwise'),
    reconnects: counter('broker_reconnects_total', 'Connections to the broker made again after one was lost'),
    buildInfo: gauge('build_info', 'Always 1: the host version and the Node version it runs on', [
      'version',
      'node_version',
    ]),
    bundleInfo: gauge(
      'bundle_info',
      'Always 1 for each bundle of the version served: worker type, sha256 and the sdk it was built with',
      ['worker_type', 'sha256', 'sdk_version'],
    ),
    timeLimit: gauge(
      'time_limit_seconds',
      "The handler time limit of each worker type served (its duration's ceiling)",
      type,
    ),
    prefetchLimit: gauge(
      'prefetch',
      'Requests each worker type served takes at once (its in-flight ceiling)',
      type,
    ),
    refusedVersions: counter(
      'bundle_versions_refused_total',
      'Bundles not served: a new version that could not load (refused), or a served bundle changed on disk (changed)',
      ['reason'],
    ),
  };
}

/** Loads prom-client only when metrics are on (`WORKER_METRICS`). */
export async function createMetrics(): Promise<Metrics> {
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
  let served: readonly BundleVersion[] = [];
  const m = instruments(prom, registry, () => served);
  m.buildInfo.set({ version: SDK_VERSION, node_version: process.version }, 1);
  // Both reasons at 0 from the start: a rate or an alert reads a series that exists.
  for (const reason of ['refused', 'changed']) m.refusedVersions.labels({ reason }).inc(0);
  return {
    contentType: registry.contentType,
    scrape: () => registry.metrics(),
    inFlight: (type, delta) => m.inFlight.inc({ worker_type: type }, delta),
    settled(type, ending, seconds) {
      m.settledTotal.inc({ worker_type: type, outcome: ending });
      m.handlerSeconds.observe({ worker_type: type }, seconds);
      if (ending === 'retry') m.retries.inc({ worker_type: type });
      if (ENDINGS[ending].deadLettered) m.deadLetters.inc({ worker_type: type });
    },
    heartbeat: (type, result) => m.heartbeats.inc({ worker_type: type, result }),
    confirmed: (seconds) => m.confirmSeconds.observe(seconds),
    connected: (up) => m.brokerConnected.set(up ? 1 : 0),
    reconnected: () => m.reconnects.inc(),
    serving(bundles) {
      served = bundles;
      for (const gauge of [m.bundleInfo, m.timeLimit, m.prefetchLimit]) gauge.reset();
      for (const bundle of bundles) {
        const worker_type = bundle.type;
        m.bundleInfo.set({ worker_type, sha256: bundle.sha256, sdk_version: bundle.sdkVersion }, 1);
        m.timeLimit.set({ worker_type }, bundle.timeoutMs / 1000);
        m.prefetchLimit.set({ worker_type }, bundle.prefetch);
      }
    },
    versionRefused: (reason) => m.refusedVersions.inc({ reason }),
  };
}

/** The metrics, once `load` has loaded them; until then what is recorded is kept, and replayed in order. */
export interface DeferredMetrics extends Metrics {
  /** Loads prom-client (again a no-op); a failure is told to `failed` and leaves no metrics. */
  load(): Promise<void>;
}

/**
 * The host's metrics, loaded once it is ready: prom-client and its default metrics take some 40 ms to
 * load (OpenTelemetry's API included, for exemplars), which a host's start need not wait for. What is
 * recorded meanwhile is kept and replayed; once loaded, the methods are prom-client's own (nothing in
 * between on the path of a message). A scrape waits for the load.
 */
export function deferredMetrics(failed: (error: Error) => void): DeferredMetrics {
  const methods = Object.keys(NO_METRICS) as (keyof Recorder)[];
  let pending: ((loaded: Recorder) => void)[] = [];
  let loading: Promise<void> | undefined;
  let loaded: Metrics | undefined;
  const become = (recorder: Recorder) => {
    Object.assign(deferred, Object.fromEntries(methods.map((name) => [name, recorder[name]])));
    for (const call of pending) call(recorder);
    pending = [];
  };
  const deferred = {
    // Read once a scrape has resolved, so from the loaded registry.
    get contentType() {
      return loaded?.contentType ?? 'text/plain';
    },
    load: async () => {
      loading ??= createMetrics().then(
        (metrics) => {
          loaded = metrics;
          become(metrics);
        },
        (error: Error) => {
          failed(error);
          become(NO_METRICS);
        },
      );
      await loading;
    },
    async scrape() {
      await deferred.load();
      if (loaded === undefined) throw new Error('metrics could not be loaded');
      return loaded.scrape();
    },
  } as DeferredMetrics;
  for (const name of methods)
    Object.assign(deferred, {
      [name]: (...args: unknown[]) =>
        pending.push((recorder) => (recorder[name] as (...values: unknown[]) => void)(...args)),
    });
  return deferred;
}
