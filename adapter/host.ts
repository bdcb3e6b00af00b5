/**
 * The generic host: serves a set of bundles (swapped whole when a new version appears), keeps one
 * consumer channel per worker type on the broker (re-made after any reconnect), heartbeats for the
 * types it consumes, health endpoints, and an orderly drain on stop.
 */
import { requestQueueName } from '../protocol/index.ts';
import { connectBroker } from './amqp.ts';
import type { Broker, ConsumerHandle, Session } from './broker-ports.ts';
import { type BundleSet, type OnBroken, openBundleSet } from './bundle-set.ts';
import { fingerprintOf, watchBundles } from './bundle-watcher.ts';
import type { Config } from './config.ts';
import { handleDelivery, type WorkerRuntime } from './consumer.ts';
import { startHealth } from './health.ts';
import { type Heartbeats, startHeartbeats } from './heartbeat.ts';
import { startIdleGc } from './idle-gc.ts';
import { startIoProbe } from './io-probe.ts';
import type { HostLogger } from './log.ts';
import { createMetrics, NO_METRICS, type Recorder } from './metrics.ts';
import { THREAD_IDLE_MS } from './pool.ts';

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
/** How often the bundles folder is looked at for a new version. */
export const BUNDLES_POLL_MS = 1000;

export async function startHost(config: Config, log: HostLogger): Promise<Host> {
  // prom-client loads while the bundles are verified.
  const metricsLoading = config.metrics ? createMetrics() : Promise.resolve(undefined);
  metricsLoading.catch(() => undefined);
  /** A served type whose bundle changed on disk: said, no longer consumed, heartbeated or ready until a new version. */
  const onBroken: OnBroken = (set, type, reason) => {
    if (set !== current) return;
    metrics.versionRefused('changed');
    log.error('bundle changed since it was verified: this type is no longer served until a new version', {
      workerType: type,
      reason,
    });
    const consumer = consumers.get(type);
    consumers.delete(type);
    void consumer?.cancel().catch(() => undefined);
  };
  /** The types the version being served can serve. */
  const serving = () => [...current.workers.keys()].filter((type) => !current.broken.has(type));
  let current: BundleSet = await openBundleSet(config, log, await fingerprintOf(config.bundles), onBroken);
  /** Sets replaced by a newer version, closing once their last delivery has finished. */
  const retiring = new Set<BundleSet>();

  const consumers = new Map<string, ConsumerHandle>();
  const inFlight = new Set<Promise<unknown>>();
  const idleGc = startIdleGc({ idleMs: THREAD_IDLE_MS * 2, inFlight: () => inFlight.size });
  const stopSignal = new AbortController();
  let connected = false;
  let stopping = false;
  let generation = 0;
  let heartbeats: Heartbeats | undefined;
  let session: Session | undefined;
  const isReady = () =>
    connected && !stopping && current.broken.size === 0 && serving().every((type) => consumers.has(type));
  const ioProbe = startIoProbe({ deadlineMs: config.ioStallMs });
  const served = await metricsLoading;
  const metrics: Recorder = served ?? NO_METRICS;
  metrics.serving([...current.workers.values()]);
  const health = await startHealth(config.healthPort, {
    isReady,
    notAlive: ioProbe.stalled,
    metrics: served,
  });

  const live = (gen: number) => !stopping && gen === generation && connected;

  /** Declares the type's queue again and consumes, retrying with backoff until it works or the session ends. */
  const consumeAgain = (on: Session, type: string, gen: number, delayMs: number): void => {
    setTimeout(() => {
      if (!live(gen) || consumers.has(type) || !serving().includes(type)) return;
      on.declareTopology([type], current.workers.get(type)?.emits ?? [])
        .then(() => consume(on, type, gen))
        .then(
          () => log.info('consuming again', { workerType: type }),
          (error: Error) => {
            const retryInMs = Math.min(Math.max(delayMs, 100) * 2, config.reconnectMaxMs);
            log.warn('cannot consume yet; retrying', { workerType: type, error: error.message, retryInMs });
            consumeAgain(on, type, gen, retryInMs);
          },
        );
    }, delayMs).unref();
  };

  const consume = async (on: Session, type: string, gen: number): Promise<void> => {
    const openedWith = current;
    const prefetch = openedWith.workers.get(type)?.prefetch ?? config.prefetch;
    const handle = await on.openConsumer({
      queue: requestQueueName(type),
      prefetch,
      onDelivery: (delivery, port) => {
        // The version served now; a type just removed finishes with the version it was opened with.
        const set = current.workers.has(type) ? current : openedWith;
        const worker = set.workers.get(type) as WorkerRuntime;
        const leave = set.enter();
        const handling = handleDelivery(worker, delivery, port, { log, metrics, stop: stopSignal.signal });
        inFlight.add(handling);
        void handling.finally(() => {
          inFlight.delete(handling);
          leave();
          idleGc.busy();
        });
      },
      onCancelled: () => {
        // Not consuming any more: no heartbeat for this type, /readyz says not ready, until it consumes again.
        if (consumers.get(type) === handle) consumers.delete(type);
        if (!live(gen) || !serving().includes(type)) return;
        log.warn(
          'the broker cancelled the consumer (its queue was deleted or its node is down); consuming again',
          {
            workerType: type,
          },
        );
        consumeAgain(on, type, gen, CHANNEL_REOPEN_MS);
      },
      onClosed: (error) => {
        if (consumers.get(type) === handle) consumers.delete(type);
        // A lost connection closes every channel before it is reported: decide once it would be.
        setTimeout(() => {
          if (!live(gen) || consumers.has(type) || !serving().includes(type)) return;
          // A channel-level failure (a consumer timeout, say) takes down this type's channel only.
          log.warn('consumer channel closed; reopening it', { workerType: type, error: error?.message });
          consumeAgain(on, type, gen, 0);
        }, CHANNEL_REOPEN_MS).unref();
      },
    });
    consumers.set(type, handle);
  };

  /** A new version: verified and started beside the running one, then served; the old one drains. */
  const swap = async (fingerprint: string): Promise<void> => {
    let next: BundleSet | undefined;
    try {
      next = await openBundleSet(config, log, fingerprint, onBroken);
      // Served only once every bundle has loaded in its thread: a version that cannot is refused.
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
    if (stopping) return void next.close();
    const old = current;
    current = next;
    const added = [...next.workers.keys()].filter((type) => !old.workers.has(type));
    const removed = [...old.workers.keys()].filter((type) => !next.workers.has(type));
    const leaving = removed.flatMap((type) => {
      const consumer = consumers.get(type);
      consumers.delete(type);
      return consumer === undefined ? [] : [consumer];
    });
    await Promise.all(leaving.map((consumer) => consumer.cancel()));
    if (session !== undefined && connected) {
      // New types, and those the old version could no longer serve.
      for (const type of next.workers.keys())
        if (!consumers.has(type)) consumeAgain(session, type, generation, 0);
    }
    metrics.serving([...next.workers.values()]);
    log.info('bundles swapped', {
      workerTypes: [...next.workers.values()].map((w) => `${w.type}@${w.sha256.slice(0, 12)}`),
      added,
      removed,
    });
    retiring.add(old);
    void old.retire().then(async () => {
      retiring.delete(old);
      await Promise.all(leaving.map((consumer) => consumer.close()));
    });
  };
  const watcher = watchBundles({
    dir: config.bundles,
    intervalMs: BUNDLES_POLL_MS,
    current: () => current.fingerprint,
    onChange: swap,
  });

  const stopLocal = async () => {
    watcher.stop();
    await Promise.all([current, ...retiring].map((set) => set.close()));
    await health.close();
    ioProbe.stop();
    idleGc.stop();
  };
  let broker: Broker;
  try {
    broker = await connectBroker({
      urls: config.amqpUrls,
      tls: config.tls,
      connectionName: `regards-worker ${config.instanceId}`,
      metrics,
      reconnectMaxMs: config.reconnectMaxMs,
      log,
      setup: async (opened) => {
        const gen = ++generation;
        if (stopping) return;
        const types = serving();
        await opened.declareTopology(
          types,
          [...current.workers.values()].flatMap((worker) => worker.emits),
        );
        const publisher = await opened.openPublisher();
        session = opened;
        connected = true;
        metrics.connected(true);
        if (gen > 1) metrics.reconnected();
        for (const type of types) await consume(opened, type, gen);
        heartbeats?.stop();
        heartbeats = startHeartbeats({
          types: () => [...consumers.keys()],
          tenant: config.tenant,
          instanceId: config.instanceId,
          intervalMs: config.heartbeatMs,
          publisher,
          log,
          metrics,
        });
        log.info('consuming', { workerTypes: types, instanceId: config.instanceId });
      },
      onDisconnect: (error) => {
        connected = false;
        session = undefined;
        metrics.connected(false);
        heartbeats?.stop();
        heartbeats = undefined;
        consumers.clear();
        log.warn('disconnected from the broker; in-flight requests will be redelivered', {
          error: error.message,
        });
      },
    });
  } catch (error) {
    // Nothing keeps running behind a host that could not start.
    await stopLocal();
    throw error;
  }

  const first = current;
  return {
    instanceId: config.instanceId,
    healthPort: health.port,
    // A stop ends the threads, loading or not: that is no failure.
    failed: first.loaded.then(
      () => new Promise<Error>(() => undefined),
      (error: Error) => (stopping ? new Promise<Error>(() => undefined) : error),
    ),
    get workers() {
      return [...current.workers.values()];
    },
    isReady,
    async stop() {
      if (stopping) return;
      stopping = true;
      heartbeats?.stop();
      await Promise.all([...consumers.values()].map((consumer) => consumer.cancel()));
      const pending = [...inFlight];
      log.info('draining', { inFlight: pending.length, drainMs: config.drainMs });
      let timer: NodeJS.Timeout | undefined;
      const drained = await Promise.race([
        Promise.allSettled(pending).then(() => true),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(false), config.drainMs);
        }),
      ]);
      clearTimeout(timer);
      if (!drained) {
        stopSignal.abort(new Error('drain deadline passed'));
        log.warn('drain deadline passed; unfinished requests stay unacked and will be redelivered', {
          unfinished: inFlight.size,
        });
      }
      await Promise.all([...consumers.values()].map((consumer) => consumer.close()));
      await broker.close();
      await stopLocal();
      log.info('stopped');
    },
  };
}
