/**
 * The bundles a host serves, as one value: the manifest's workers, verified, each with its
 * executor (a pool of threads, or inline). A new version is a new set that replaces the current one
 * whole; deliveries keep the set they started with, and a retired set closes its pools once the
 * last of them has finished.
 */
import { readFile } from 'node:fs/promises';
import { isBundleArchive } from '../../sdk/bundle.ts';
import { resolveSettings } from '../../sdk/settings.ts';
import type { Config } from '../config.ts';
import type { WorkerRuntime } from '../delivery/consumer.ts';
import type { Executor } from '../delivery/process.ts';
import { inlineExecutor } from '../execution/inline.ts';
import { type Pool, startPool } from '../execution/pool.ts';
import type { HostLogger } from '../telemetry/log.ts';
import { unpackBundles } from './archive.ts';
import { checkBundlesLoad } from './load-check.ts';
import { importBundle, type VerifiedBundle, verifyBundles } from './manifest.ts';

export interface BundleSet {
  /** What identifies this version of the folder (see watcher.ts). */
  readonly fingerprint: string;
  readonly workers: ReadonlyMap<string, WorkerRuntime>;
  /**
   * Settles once each thread-isolated bundle has been seen to load as a thread would load it
   * (load-check.ts), or rejects naming the one that could not: the set serves meanwhile.
   */
  readonly loaded: Promise<void>;
  /**
   * Types whose bundle no longer loads in a new thread (changed on disk since it was verified, or
   * removed), with the reason: not to be served by this set any more.
   */
  readonly broken: ReadonlyMap<string, string>;
  /** A delivery starts on this set; call what it returns when it has finished. */
  enter(): () => void;
  /** No new deliveries: closes its pools once every delivery that started on it has finished. */
  retire(): Promise<void>;
  /** Closes its pools now (what they run is abandoned). */
  close(): Promise<void>;
}

/** The event kinds a version's workers emit (their exchanges are declared with the topology). */
export function emittedBy(set: BundleSet): string[] {
  return [...set.workers.values()].flatMap((worker) => worker.emits);
}

/**
 * Loads a version of WORKER_BUNDLES: the folder itself, or a bundles archive unpacked into a folder of
 * its own (removed when the set closes).
 */
/** Told when a type of the set breaks (see BundleSet.broken). */
export type OnBroken = (set: BundleSet, type: string, reason: string) => void;

export async function openBundleSet(
  config: Config,
  log: HostLogger,
  fingerprint: string,
  onBroken: OnBroken = () => undefined,
): Promise<BundleSet> {
  if (!isBundleArchive(config.bundles))
    return loadBundleSet(config, config.bundles, log, fingerprint, onBroken);
  const unpacked = await unpackBundles(await readFile(config.bundles));
  return loadBundleSet(config, unpacked.dir, log, fingerprint, onBroken, unpacked.remove);
}

async function loadBundleSet(
  config: Config,
  dir: string,
  log: HostLogger,
  fingerprint: string,
  onBroken: OnBroken,
  dispose: () => Promise<void> = async () => undefined,
): Promise<BundleSet> {
  const pools: Pool[] = [];
  const broken = new Map<string, string>();
  let set: BundleSet | undefined;
  const breaks = (type: string, reason: string) => {
    if (broken.has(type)) return;
    broken.set(type, reason);
    if (set !== undefined) onBroken(set, type, reason);
  };
  const close = () =>
    Promise.all(pools.map((pool) => pool.close()))
      .then(dispose)
      .then(() => undefined);
  let bundles: VerifiedBundle[];
  try {
    bundles = await verifyBundles(dir, config.types, (refused) =>
      log.error('bundle refused; the others are served', { error: refused.message, code: refused.code }),
    );
    if (bundles.length === 0) throw new Error(`the manifest in ${config.bundles} lists no workers`);
  } catch (error) {
    await dispose();
    throw error;
  }
  const started = await Promise.allSettled(
    bundles.map((bundle) => workerRuntime(bundle, config, log, (pool) => pools.push(pool), breaks)),
  );
  const failed = started.find((result) => result.status === 'rejected');
  if (failed !== undefined) {
    await close();
    throw failed.reason;
  }
  const workers = new Map(
    started.map((result) => {
      const runtime = (result as PromiseFulfilledResult<WorkerRuntime>).value;
      return [runtime.type, runtime];
    }),
  );
  let inFlight = 0;
  let retired: (() => void) | undefined;
  const loaded = checkBundlesLoad(
    bundles
      .filter(({ entry }) => (entry.isolation ?? 'thread') === 'thread')
      .map(({ path, entry }) => ({ path, sha256: entry.sha256, type: entry.type })),
  );
  loaded.catch(() => undefined);
  set = {
    fingerprint,
    workers,
    loaded,
    broken,
    enter() {
      inFlight += 1;
      let left = false;
      return () => {
        if (left) return;
        left = true;
        inFlight -= 1;
        if (inFlight === 0) retired?.();
      };
    },
    async retire() {
      if (inFlight > 0) await new Promise<void>((resolve) => (retired = resolve));
      await close();
    },
    close,
  };
  return set;
}

async function workerRuntime(
  bundle: VerifiedBundle,
  config: Config,
  log: HostLogger,
  started: (pool: Pool) => void,
  breaks: (type: string, reason: string) => void,
): Promise<WorkerRuntime> {
  const { entry } = bundle;
  const settings = resolveSettings(entry, config.settings);
  let executor: Executor;
  if (settings.isolation === 'inline') {
    executor = inlineExecutor((await importBundle(bundle)).definition, entry.sha256);
  } else {
    // Only the thread imports the bundle: the main thread never holds its code.
    const pool = startPool({
      type: entry.type,
      bundlePath: bundle.path,
      sha256: entry.sha256,
      size: settings.prefetch,
      memoryMb: settings.memoryMb,
      log,
      onBroken: (reason) => breaks(entry.type, reason),
    });
    started(pool);
    executor = pool;
  }
  return {
    type: entry.type,
    sha256: entry.sha256,
    sdkVersion: entry.sdkVersion,
    emits: entry.emits ?? [],
    executor,
    timeoutMs: settings.timeoutMs,
    prefetch: settings.prefetch,
    policy: {
      maxAttempts: settings.maxAttempts,
      backoffBaseMs: config.retryBaseMs,
      backoffMaxMs: config.retryMaxMs,
    },
    limits: config.limits,
  };
}
