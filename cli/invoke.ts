import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileSha256 } from '../adapter/bundle-file.ts';
import { importBundle, importDefinition, verifyBundles } from '../adapter/bundles.ts';
import { DEFAULTS, unconfiguredHandling } from '../adapter/config.ts';
import { inlineExecutor } from '../adapter/inline.ts';
import { createLogger } from '../adapter/log.ts';
import { startPool } from '../adapter/pool.ts';
import { dispatched, type Processed, processDelivery, publications } from '../adapter/process.ts';
import { type Decision, encodeResponse, type OutgoingMessage } from '../protocol/index.ts';
import type { WorkerDefinition } from '../sdk/index.ts';
import { EXIT, type Io, UsageError } from './io.ts';

export const INVOKE_USAGE =
  'usage: regards-worker invoke <type|bundle.mjs> --body <file.json|-> [--header name=value ...] [--bundles <dir>]';

export async function invokeCommand(args: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      body: { type: 'string' },
      header: { type: 'string', multiple: true, default: [] },
      bundles: { type: 'string' },
    },
  });
  const target = positionals[0];
  if (target === undefined || positionals.length > 1 || values.body === undefined)
    throw new UsageError(INVOKE_USAGE);
  const bundles = resolve(io.cwd, values.bundles ?? io.env.WORKER_BUNDLES ?? DEFAULTS.WORKER_BUNDLES);
  const worker = await resolveWorker(target, bundles, io.cwd);
  const { definition } = worker;
  const body = await readBody(values.body, io);
  const delivery = dispatched(definition, body, parseHeaders(values.header), 'invoke');
  const log = createLogger('debug', (line) => io.err(`${line}\n`));
  // Where the host runs it: a thread of its own (stopped at the time limit), unless the definition says inline.
  const pool =
    (definition.isolation ?? 'thread') === 'inline'
      ? undefined
      : startPool({
          type: definition.type,
          bundlePath: worker.path,
          sha256: worker.sha256,
          size: 1,
          memoryMb: definition.memoryMb ?? DEFAULTS.WORKER_MEMORY_MB,
          log,
        });
  let processed: Processed;
  try {
    processed = await processDelivery(pool ?? inlineExecutor(definition), delivery, {
      ...unconfiguredHandling(definition),
      stop: io.signal,
      log,
      progress: async (request, message) => {
        io.err(`${printable(encodeResponse(request, { status: 'RUNNING', messages: [message] }))}\n`);
      },
    });
  } finally {
    await pool?.close();
  }
  const { decision, happening } = processed;
  if (happening.kind === 'failure') io.err(`${happening.stacktrace}\n`);
  if (decision.action === 'retry')
    io.out(
      `${JSON.stringify({ action: 'retry', attempt: decision.attempt, delayMs: decision.delayMs, reason: decision.reason }, null, 2)}\n`,
    );
  const published = publications(definition.type, delivery, processed);
  if (decision.action === 'dead-letter' && published.length === 0)
    io.out(`rejected onto regards.DLX: ${decision.message}\n`);
  // What the host would publish, in its order (the retry copy is shown as the decision above).
  if (decision.action !== 'retry') for (const message of published) io.out(`${printable(message)}\n`);
  return exitCode(decision);
}

/** The request body: a file, or standard input with `-`. */
async function readBody(file: string, io: Io): Promise<Uint8Array> {
  if (file !== '-') return readFile(resolve(io.cwd, file));
  const chunks: Buffer[] = [];
  for await (const chunk of io.stdin) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

interface ResolvedWorker {
  readonly definition: WorkerDefinition;
  /** The bundle, and its sha256: what a handler thread loads and checks. */
  readonly path: string;
  readonly sha256: string;
}

async function resolveWorker(target: string, bundles: string, cwd: string): Promise<ResolvedWorker> {
  if (target.endsWith('.mjs') || target.includes('/')) {
    const path = resolve(cwd, target);
    return { definition: await importDefinition(path), path, sha256: await fileSha256(path) };
  }
  const [verified] = await verifyBundles(bundles, [target]);
  if (verified === undefined) throw new UsageError(`no worker ${target}`);
  const { definition } = await importBundle(verified);
  return { definition, path: verified.path, sha256: verified.entry.sha256 };
}

function parseHeaders(pairs: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError(`--header takes name=value, got ${JSON.stringify(pair)}`);
    headers[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return headers;
}

/** The message as it would be published, with its JSON body decoded and content decoded beside it. */
function printable(message: OutgoingMessage): string {
  const text = new TextDecoder().decode(message.body);
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {}
  const shown: Record<string, unknown> = {
    exchange: message.exchange,
    routingKey: message.routingKey,
    headers: message.headers,
    body,
  };
  const content = (body as { content?: unknown } | null)?.content;
  if (typeof content === 'string') shown.decodedContent = decodeContent(content);
  return JSON.stringify(shown, null, 2);
}

function decodeContent(base64: string): unknown {
  const text = Buffer.from(base64, 'base64').toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function exitCode(decision: Decision): number {
  if (decision.action !== 'reply') return EXIT.undetermined;
  if (decision.response.status === 'SUCCESS') return EXIT.ok;
  return decision.response.status === 'INVALID_CONTENT' ? EXIT.invalidContent : EXIT.error;
}
