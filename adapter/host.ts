/**
 * The generic host, wired: the bundles folder and its watcher, the broker connection, health
 * endpoints, metrics and probes, around the lifecycle (lifecycle.ts) that consumes, swaps versions
 * and drains.
 */
import { connectBroker } from './broker/amqp.ts';
import { startHeartbeats } from './broker/heartbeat.ts';
import { type BundleSet, type OnBroken, openBundleSet } from './bundles/set.ts';
import { fingerprintOf, watchBundles } from './bundles/watcher.ts';
import type { Config } from './config.ts';
import { handleDelivery, type WorkerRuntime } from './delivery/consumer.ts';
import { startIdleGc } from './execution/idle-gc.ts';
import { THREAD_IDLE_MS } from './execution/pool.ts';
import { HostLifecycle } from './lifecycle.ts';
import { startHealth } from './telemetry/health.ts';
import { startIoProbe } from './telemetry/io-probe.ts';
import type { HostLogger } from './telemetry/log.ts';
import { createMetrics, NO_METRICS, type Recorder } from './telemetry/metrics.ts';

export interface Host {
  readonly instanceId: string;
  readonly healthPort: number;
  /** The workers of the version being served. */
  readonly workers: readonly WorkerRuntime[];
  isReady(): boolean;
  /**
   * Resolves (never rejects) if the version the host started with cannot serve after all: a bundle
   * that does not load in its thread. The host then has to stop: `main` exits 1.
   */
  readonly failed: Promise<Error>;
  /** Stop consuming and heartbeating, let in-flight requests finish within the drain time, close. */
  stop(): Promise<void>;
}

const CHANNEL_REOPEN_MS = 1000;
/**
 * How long after it serves the host loads prom-client (some 25 ms of its thread, which would hold the
 * first requests and probes), unless a scrape asks for the metrics first.
 */
const METRICS_LOAD_AFTER_MS = 1000;
/** How often the bundles folder is looked at for a new version. */
export const BUNDLES_POLL_MS = 1000;

export async function startHost(config: Config, log: HostLogger): Promise<Host> {
  const served = config.metrics
    ? createMetrics((error) => log.error('metrics could not be loaded', { error: error.message }))
    : undefined;
  const metrics: Recorder = served ?? NO_METRICS;
  let lifecycle: HostLifecycle | undefined;
  const onBroken: OnBroken = (set, type, reason) => lifecycle?.broken(set, type, reason);
  // The broker is reached while the bundles are verified (each waits on its own I/O); its first
  // session is set up once there is a lifecycle, and not at all if the bundles cannot be served.
  const created = Promise.withResolvers<HostLifecycle | undefined>();
  const broker = await connectBroker({
    urls: config.amqpUrls,
    tls: config.tls,
    connectionName: `regards-worker ${config.instanceId}`,
    metrics,
    reconnectMaxMs: config.reconnectMaxMs,
    log,
    setup: async (session) => (await created.promise)?.connected(session),
    onDisconnect: (error) => lifecycle?.disconnected(error),
  });
  let first: BundleSet;
  try {
    first = await openBundleSet(config, log, await fingerprintOf(config.bundles), onBroken);
  } catch (error) {
    created.resolve(undefined);
    await broker.close();
    throw error;
  }
  const ioProbe = startIoProbe({ deadlineMs: config.ioStallMs });
  metrics.serving([...first.workers.values()]);
  const idleGc = startIdleGc({ idleMs: THREAD_IDLE_MS * 2, inFlight: () => host.inFlight });
  const host = newLifecycle(config, log, metrics, first, () => idleGc.busy());
  lifecycle = host;
  created.resolve(host);
  const health = await startHealth(config.healthPort, {
    isReady: () => host.isReady(),
    notAlive: ioProbe.stalled,
    metrics: served,
  });
  const watcher = watchBundles({
    dir: config.bundles,
    intervalMs: BUNDLES_POLL_MS,
    current: () => host.current.fingerprint,
    onChange: (fingerprint) => swap(config, log, metrics, host, fingerprint, onBroken),
  });
  const stopLocal = async () => {
    watcher.stop();
    await host.close();
    await health.close();
    ioProbe.stop();
    idleGc.stop();
  };
  try {
    await broker.connected;
  } catch (error) {
    // Nothing keeps running behind a host that could not start.
    await broker.close();
    await stopLocal();
    throw error;
  }
  // Serving: prom-client is loaded when the host is idle, or at the first scrape (see createMetrics).
  setTimeout(() => void served?.load(), METRICS_LOAD_AFTER_MS).unref();
  const stopped = () => host.state === 'draining' || host.state === 'stopped';
  return {
    instanceId: config.instanceId,
    healthPort: health.port,
    // A stop ends the threads, loading or not: that is no failure.
    failed: first.loaded.then(
      () => new Promise<Error>(() => undefined),
      (error: Error) => (stopped() ? new Promise<Error>(() => undefined) : error),
    ),
    get workers() {
      return [...host.current.workers.values()];
    },
    isReady: () => host.isReady(),
    async stop() {
      if (stopped()) return;
      await host.drain(config.drainMs);
      await broker.close();
      await stopLocal();
      log.info('stopped');
    },
  };
}

function newLifecycle(
  config: Config,
  log: HostLogger,
  metrics: Recorder,
  first: BundleSet,
  finished: () => void,
): HostLifecycle {
  return new HostLifecycle({
    first,
    log,
    metrics,
    reconnectMaxMs: config.reconnectMaxMs,
    reopenMs: CHANNEL_REOPEN_MS,
    startHeartbeats: (types, publisher) =>
      startHeartbeats({
        types,
        tenant: config.tenant,
        instanceId: config.instanceId,
        intervalMs: config.heartbeatMs,
        publisher,
        log,
        metrics,
      }),
    handle: (worker, delivery, port, stop) => handleDelivery(worker, delivery, port, { log, metrics, stop }),
    finished,
  });
}

/** A new version: verified and loaded beside the running one, then served; one that cannot load is refused. */
async function swap(
  config: Config,
  log: HostLogger,
  metrics: Recorder,
  host: HostLifecycle,
  fingerprint: string,
  onBroken: OnBroken,
): Promise<void> {
  let next: BundleSet | undefined;
  try {
    next = await openBundleSet(config, log, fingerprint, onBroken);
    await next.loaded;
  } catch (error) {
    await next?.close();
    metrics.versionRefused('refused');
    log.error('new bundles refused; the running version keeps serving', {
      bundles: config.bundles,
      error: (error as Error).message,
    });
    return;
  }
  await host.swap(next);
}
