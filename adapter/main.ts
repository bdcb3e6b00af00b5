/**
 * `regards-worker start`: the adapter process. The only file of adapter/ that touches the process:
 * environment, signals, exit codes. Also the entry of the precompiled host (lib/adapter.mjs).
 */
import { existsSync } from 'node:fs';
import type { BrokerRefused } from './broker/nodes.ts';
import type { BundleError } from './bundles/manifest.ts';
import { ConfigError, loadConfig, redactUrl } from './config.ts';
import type { Host } from './host.ts';
import { createLogger } from './telemetry/log.ts';
import { startTracing } from './telemetry/tracing.ts';

/** How often the host checks that the process that started it is still there. */
const PARENT_CHECK_MS = 1_000;

export async function runAdapter(env: Readonly<Record<string, string | undefined>>): Promise<void> {
  process.setSourceMapsEnabled(true);
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`regards-worker start: ${error.message}\n`);
    process.exitCode = 2;
    return;
  }
  if (!existsSync(config.bundles)) {
    process.stderr.write(
      `regards-worker start: WORKER_BUNDLES: ${config.bundles} does not exist (the folder of manifest.json, or a bundles archive; npm run build writes dist/)\n`,
    );
    process.exitCode = 2;
    return;
  }
  const log = createLogger(config.logLevel);
  // Before the host module (and through it amqplib) is loaded.
  const tracing = await startTracing(env, 'regards-worker');
  // User code must never take the host down: report, keep serving.
  process.on('unhandledRejection', (reason) => log.error('unhandled rejection', { error: reason }));
  process.on('uncaughtException', (error) => log.error('uncaught exception', { error }));

  let host: Host | undefined;
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals | 'parent gone') => {
    signals += 1;
    if (signals > 1 || host === undefined) {
      log.warn('exiting now', { signal });
      process.exit(signals > 1 ? 130 : 0);
    }
    log.info('shutting down', { signal });
    host
      .stop()
      // Traces that cannot be flushed (no collector listening) are lost, not a failed shutdown.
      .then(() =>
        tracing.shutdown().catch((error: Error) => log.warn('traces not flushed', { error: error.message })),
      )
      .then(
        () => process.exit(0),
        (error: Error) => {
          log.error('shutdown failed', { error });
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // Started by another process (npx, a wrapper) that is gone without passing its signal on: never run on
  // unsupervised; drain as on SIGTERM. Not as PID 1 in a container, where there is no parent to lose.
  const parent = process.ppid;
  if (parent > 1) {
    setInterval(() => {
      if (process.ppid !== parent && signals === 0) {
        log.warn('the process that started the host is gone; shutting down', { parentPid: parent });
        onSignal('parent gone');
      }
    }, PARENT_CHECK_MS).unref();
  }

  log.info('starting', {
    amqpUrl: config.amqpUrls.map(redactUrl).join(','),
    tls:
      config.tls === undefined
        ? 'off'
        : {
            trusted: env.AMQP_CA_FILE ?? "Node's CA list",
            clientCertificate: env.AMQP_CERT_FILE ?? 'none',
          },
    tracing: tracing.endpoint ?? 'off (set OTEL_EXPORTER_OTLP_ENDPOINT to export traces)',
    bundles: config.bundles,
    instanceId: config.instanceId,
    tenant: config.tenant,
    healthPort: config.healthPort,
  });
  try {
    const { startHost } = await import('./host.ts');
    host = await startHost(config, log);
  } catch (error) {
    const code = (error as BundleError | BrokerRefused).code;
    log.error('cannot start', { error: (error as Error).message, code });
    // 3: the broker refused the login, the vhost or a TLS certificate (fix the configuration); 1: anything else.
    process.exit(code === 'BROKER_REFUSED' ? 3 : 1);
  }
  log.info('started', {
    healthPort: host.healthPort,
    workerTypes: host.workers.map((worker) => worker.type),
  });
  // Bundles load in their threads while the host connects: one that cannot stops it, as at start.
  void host.failed.then(async (error) => {
    log.error('cannot start', { error: error.message });
    await host?.stop().catch(() => undefined);
    process.exit(1);
  });
}

if (import.meta.main) await runAdapter(process.env);
