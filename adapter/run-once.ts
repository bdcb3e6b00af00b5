/**
 * One request through one bundle, as the host runs it but with no broker (`regards-worker invoke`):
 * the bundle verified and loaded, the request dispatched as the manager would, run where the host
 * runs it (a thread of its own under its time limit, unless the definition says inline) and settled;
 * then what the host would publish for it.
 */
import { encodeResponse, type OutgoingMessage } from '../protocol/index.ts';
import type { WorkerDefinition } from '../sdk/index.ts';
import { DEFAULT_SETTINGS, resolveSettings } from '../sdk/settings.ts';
import { fileSha256 } from './bundles/file.ts';
import { importBundle, importDefinition, verifyBundles } from './bundles/manifest.ts';
import {
  dispatched,
  type Processed,
  processDelivery,
  publications,
  unconfiguredHandling,
} from './delivery/process.ts';
import { inlineExecutor } from './execution/inline.ts';
import { startPool } from './execution/pool.ts';
import type { HostLogger } from './telemetry/log.ts';

export interface RunOnceOptions {
  /** A bundle file, or a worker type of the bundles folder (checked against its manifest). */
  readonly bundle: { readonly path: string } | { readonly type: string; readonly bundles: string };
  readonly body: Uint8Array;
  /** Over the manager's headers. */
  readonly headers: Readonly<Record<string, string>>;
  readonly log: HostLogger;
  readonly stop: AbortSignal;
  /** Each RUNNING response the handler sends, as it would be published. */
  readonly progress: (message: OutgoingMessage) => void;
}

export interface RanOnce {
  readonly type: string;
  readonly processed: Processed;
  /** In the host's order: events, new requests, the response; or the retry copy, or the dead-letter. */
  readonly published: readonly OutgoingMessage[];
}

/** Undefined when the bundles folder has no worker of that type. */
export async function runOnce(options: RunOnceOptions): Promise<RanOnce | undefined> {
  const worker = await load(options.bundle);
  if (worker === undefined) return undefined;
  const { definition } = worker;
  const delivery = dispatched(definition, options.body, options.headers, 'invoke');
  const settings = resolveSettings(definition, DEFAULT_SETTINGS);
  const pool =
    settings.isolation === 'inline'
      ? undefined
      : startPool({
          type: definition.type,
          bundlePath: worker.path,
          sha256: worker.sha256,
          size: 1,
          memoryMb: settings.memoryMb,
          log: options.log,
        });
  try {
    const processed = await processDelivery(pool ?? inlineExecutor(definition), delivery, {
      ...unconfiguredHandling(definition),
      stop: options.stop,
      log: options.log,
      progress: async (request, message) =>
        options.progress(encodeResponse(request, { status: 'RUNNING', messages: [message] })),
    });
    return {
      type: definition.type,
      processed,
      published: publications(definition.type, delivery, processed),
    };
  } finally {
    await pool?.close();
  }
}

interface LoadedWorker {
  readonly definition: WorkerDefinition;
  /** The bundle, and its sha256: what a handler thread loads and checks. */
  readonly path: string;
  readonly sha256: string;
}

async function load(bundle: RunOnceOptions['bundle']): Promise<LoadedWorker | undefined> {
  if ('path' in bundle) {
    return {
      definition: await importDefinition(bundle.path),
      ...bundle,
      sha256: await fileSha256(bundle.path),
    };
  }
  const [verified] = await verifyBundles(bundle.bundles, [bundle.type]);
  if (verified === undefined) return undefined;
  const { definition } = await importBundle(verified);
  return { definition, path: verified.path, sha256: verified.entry.sha256 };
}
