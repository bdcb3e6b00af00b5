/**
 * `regards-worker invoke <type|bundle> --body <file|-> [--header name=value ...]`: runs one bundle on
 * one request, with no broker, through the same path as the adapter (adapter/run-once.ts), and prints
 * what would be published: its events, new requests and response. A failure's stack trace, mapped to
 * the source, goes to standard error. The exit code tells the outcome.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger, DEFAULTS, runOnce } from '../adapter/index.ts';
import type { Decision, OutgoingMessage } from '../protocol/index.ts';
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
  const ran = await runOnce({
    bundle:
      target.endsWith('.mjs') || target.includes('/')
        ? { path: resolve(io.cwd, target) }
        : { type: target, bundles },
    body: await readBody(values.body, io),
    headers: parseHeaders(values.header),
    log: createLogger('debug', (line) => io.err(`${line}\n`)),
    stop: io.signal,
    progress: (message) => io.err(`${printable(message)}\n`),
  });
  if (ran === undefined) throw new UsageError(`no worker ${target}`);
  const { processed, published } = ran;
  const { decision, happening } = processed;
  if (happening.kind === 'failure') io.err(`${happening.stacktrace}\n`);
  if (decision.action === 'retry')
    io.out(
      `${JSON.stringify({ action: 'retry', attempt: decision.attempt, delayMs: decision.delayMs, reason: decision.reason }, null, 2)}\n`,
    );
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
