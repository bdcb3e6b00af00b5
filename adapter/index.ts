/**
 * What the command (cli/) uses of the host, and all it may use: the configuration's defaults, the
 * logger, tracing on the requester's side, one request run as the host runs it (`invoke`), and reading
 * a manifest. `start` runs the host itself through its entry, main.ts. The rest of adapter/ is the
 * host's own (a lint rule keeps it so).
 */
export { readManifest } from './bundles/manifest.ts';
export { DEFAULTS, redactUrl } from './config.ts';
export { runOnce } from './run-once.ts';
export { createLogger } from './telemetry/log.ts';
export { inRequesterSpan, startTracing } from './telemetry/tracing.ts';
