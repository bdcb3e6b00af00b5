/**
 * The generic host: loads the bundles, keeps one consumer channel per worker type on the broker
 * (re-made after any reconnect), heartbeats for the types it consumes, health endpoints, and an
 * orderly drain on stop.
 */
import { requestQueueName } from '../protocol/index.ts';
import { type ConsumerHandle, connectBroker, type Session } from './amqp.ts';
import { importBundle, verifyBundles } from './bundles.ts';
import type { Config } from './config.ts';
import { handleDelivery, type WorkerRuntime } from './consumer.ts';
import { startHealth } from './health.ts';
import { type Heartbeats, startHeartbeats } from './heartbeat.ts';
import { startIdleGc } from './idle-gc.ts';
import { inlineExecutor } from './inline.ts';
import { startIoProbe } from './io-probe.ts';
import type { HostLogger } from './log.ts';
import { type Pool, startPool, THREAD_IDLE_MS } from './pool.ts';
import type { Executor } from './process.ts';

export interface Host {
  readonly instanceId: string;
  readonly healthPort: number;
  readonly workers: readonly WorkerRuntime[];
  isReady(): boolean;
  /** Stop consuming and heartbeating, let in-flight requests finish within the drain time, close. */
  stop(): Promise<void>;
}

const CHANNEL_REOPEN_MS = 1000;

export async function startHost(config: Config, log: HostLogger): Promise<Host> {
  const bundles = await verifyBundles(config.bundles);
  if (bundles.length === 0) throw new Error(`the manifest in ${config.bundles} lists no workers`);
  const pools: Pool[] = [];
  const started = await Promise.allSettled(
    bundles.map(async (bundle): Promise<WorkerRuntime> => {
      const { entry } = bundle;
      const prefetch = entry.prefetch ?? config.prefetch;
      let executor: Executor;
      if ((entry.isolation ?? 'thread') === 'inline') {
        executor = inlineExecutor((await importBundle(bundle)).definition);
      } else {
        // Only the thread imports the bundle: the main thread never holds its code.
        const pool = await startPool({
          type: entry.type,
          bundlePath: bundle.path,
          size: prefetch,
          memoryMb: entry.memoryMb ?? config.memoryMb,
          log,
        });
        pools.push(pool);
        executor = pool;
      }
      return {
        type: entry.type,
        executor,
        timeoutMs: entry.timeoutMs ?? config.timeoutMs,
        prefetch,
        policy: {
          maxAttempts: entry.maxAttempts ?? config.maxAttempts,
          backoffBaseMs: config.retryBaseMs,
          backoffMaxMs: config.retryMaxMs,
        },
        limits: config.limits,
      };
    }),
  );
  const failed = started.find((result) => result.status === 'rejected');
  if (failed !== undefined) {
    await Promise.all(pools.map((pool) => pool.close()));
    throw failed.reason;
  }
  const workers = started.map((result) => (result as PromiseFulfilledResult<WorkerRuntime>).value);

  const consumers = new Map<string, ConsumerHandle>();
  const inFlight = new Set<Promise<unknown>>();
  const idleGc = startIdleGc({ idleMs: THREAD_IDLE_MS * 2, inFlight: () => inFlight.size });
  const stopSignal = new AbortController();
  let connected = false;
  let stopping = false;
  let generation = 0;
  let heartbeats: Heartbeats | undefined;
  const isReady = () => connected && !stopping && consumers.size === workers.length;
  const ioProbe = startIoProbe({ deadlineMs: config.ioStallMs });
  const health = await startHealth(config.healthPort, { isReady, notAlive: ioProbe.stalled });

  const live = (gen: number) => !stopping && gen === generation && connected;

  /** Declares the type's queue again and consumes, retrying with backoff until it works or the session ends. */
  const consumeAgain = (session: Session, worker: WorkerRuntime, gen: number, delayMs: number): void => {
    setTimeout(() => {
      if (!live(gen) || consumers.has(worker.type)) return;
      session
        .declareTopology([worker.type])
        .then(() => consume(session, worker, gen))
        .then(
          () => log.info('consuming again', { workerType: worker.type }),
          (error: Error) => {
            log.warn('cannot consume yet; retrying', {
              workerType: worker.type,
              error: error.message,
              retryInMs: Math.min(delayMs * 2, config.reconnectMaxMs),
            });
            consumeAgain(session, worker, gen, Math.min(delayMs * 2, config.reconnectMaxMs));
          },
        );
    }, delayMs).unref();
  };

  const consume = async (session: Session, worker: WorkerRuntime, gen: number): Promise<void> => {
    const handle = await session.openConsumer({
      queue: requestQueueName(worker.type),
      prefetch: worker.prefetch,
      onDelivery: (delivery, port) => {
        const handling = handleDelivery(worker, delivery, port, { log, stop: stopSignal.signal });
        inFlight.add(handling);
        void handling.finally(() => {
          inFlight.delete(handling);
          idleGc.busy();
        });
      },
      onCancelled: () => {
        // Not consuming any more: no heartbeat for this type, /readyz says not ready, until it consumes again.
        consumers.delete(worker.type);
        if (!live(gen)) return;
        log.warn(
          'the broker cancelled the consumer (its queue was deleted or its node is down); consuming again',
          {
            workerType: worker.type,
          },
        );
        consumeAgain(session, worker, gen, CHANNEL_REOPEN_MS);
      },
      onClosed: (error) => {
        consumers.delete(worker.type);
        // A lost connection closes every channel before it is reported: decide once it would be.
        setTimeout(() => {
          if (!live(gen) || consumers.has(worker.type)) return;
          // A channel-level failure (a consumer timeout, say) takes down this type's channel only.
          log.warn('consumer channel closed; reopening it', {
            workerType: worker.type,
            error: error?.message,
          });
          consumeAgain(session, worker, gen, 0);
        }, CHANNEL_REOPEN_MS).unref();
      },
    });
    consumers.set(worker.type, handle);
  };

  const broker = await connectBroker({
    url: config.amqpUrl,
    reconnectMaxMs: config.reconnectMaxMs,
    log,
    setup: async (session) => {
      const gen = ++generation;
      if (stopping) return;
      await session.declareTopology(workers.map((worker) => worker.type));
      const publisher = await session.openPublisher();
      connected = true;
      for (const worker of workers) await consume(session, worker, gen);
      heartbeats?.stop();
      heartbeats = startHeartbeats({
        types: () => [...consumers.keys()],
        tenant: config.tenant,
        instanceId: config.instanceId,
        intervalMs: config.heartbeatMs,
        publisher,
        log,
      });
      log.info('consuming', { workerTypes: workers.map((w) => w.type), instanceId: config.instanceId });
    },
    onDisconnect: (error) => {
      connected = false;
      heartbeats?.stop();
      heartbeats = undefined;
      consumers.clear();
      log.warn('disconnected from the broker; in-flight requests will be redelivered', {
        error: error.message,
      });
    },
  });

  return {
    instanceId: config.instanceId,
    healthPort: health.port,
    workers,
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
      await Promise.all(pools.map((pool) => pool.close()));
      await health.close();
      ioProbe.stop();
      idleGc.stop();
      log.info('stopped');
    },
  };
}
