/**
 * `regards-worker send --content-type <t> --body <file>`: publishes a RequestEvent to the Worker
 * Manager and prints its ResponseEvents until a final one, and those of the requests its workers issue
 * (fan-out). The exit code tells the request's final state.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULTS } from '../adapter/index.ts';
import { connectRequester, type ResponseEvent } from '../manager/requester.ts';
import { EXIT, type Io, UsageError } from './io.ts';

const USAGE =
  'usage: regards-worker send --content-type <type> --body <file> [--tenant t] [--owner o] [--session s] [--request-id id] [--timeout seconds]';

export async function sendCommand(args: readonly string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      'content-type': { type: 'string' },
      body: { type: 'string' },
      tenant: { type: 'string', default: io.env.WORKER_TENANT ?? DEFAULTS.WORKER_TENANT },
      owner: { type: 'string', default: 'regards-worker-send' },
      session: { type: 'string', default: 'send' },
      'request-id': { type: 'string' },
      timeout: { type: 'string', default: '60' },
    },
  });
  const contentType = values['content-type'];
  if (contentType === undefined || values.body === undefined) throw new UsageError(USAGE);
  const timeoutSeconds = Number(values.timeout);
  if (!(Number.isFinite(timeoutSeconds) && timeoutSeconds > 0))
    throw new UsageError(`--timeout takes a number of seconds over 0, got ${JSON.stringify(values.timeout)}`);
  const body = await readFile(resolve(io.cwd, values.body));
  const requester = await connectRequester(io.env.AMQP_URL ?? DEFAULTS.AMQP_URL);
  try {
    const requestId = values['request-id'] ?? randomUUID();
    let heard = 0;
    io.err(`sent request ${requestId} (${contentType})\n`);
    const final = await requester.submit(
      { requestId, tenant: values.tenant, owner: values.owner, session: values.session, contentType },
      body,
      {
        timeoutMs: timeoutSeconds * 1000,
        onEvent: (event) => {
          heard += 1;
          io.out(`${formatEvent(event)}\n`);
        },
      },
    );
    if (final === undefined) {
      io.err(
        heard === 0
          ? `no ResponseEvent within ${values.timeout} s (is a manager running? regards-worker manager)\n`
          : `no final ResponseEvent within ${values.timeout} s: the request is still being handled (--timeout waits longer)\n`,
      );
      return EXIT.undetermined;
    }
    if (final.observed === 'dead-letter')
      io.err(
        `the request was dead-lettered: the manager marks it ERROR and tells no requester; the worker's reason: ${final.messages.join('; ')}\n`,
      );
    if (final.state === 'SUCCESS') return EXIT.ok;
    return final.state === 'INVALID_CONTENT' ? EXIT.invalidContent : EXIT.error;
  } finally {
    await requester.close();
  }
}

/** One ResponseEvent as one line of JSON, its content decoded beside it. */
function formatEvent(event: ResponseEvent): string {
  const shown: Record<string, unknown> = {
    requestId: event.requestId,
    state: event.state,
    ...(event.observed === undefined ? {} : { observed: event.observed }),
    workerType: event.headers['regards.worker_id'],
    messages: event.messages,
  };
  if (event.content !== undefined) {
    const text = Buffer.from(event.content, 'base64').toString('utf8');
    try {
      shown.decodedContent = JSON.parse(text);
    } catch {
      shown.decodedContent = text;
    }
  }
  return JSON.stringify(shown);
}
