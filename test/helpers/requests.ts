import type { Context, Outcome, RawRequest, WorkerDefinition } from '../../sdk/index.ts';

export function rawRequest(body: unknown, overrides: Partial<RawRequest> = {}): RawRequest {
  return {
    body: body instanceof Uint8Array ? body : new TextEncoder().encode(JSON.stringify(body)),
    requestId: 'request-1',
    tenant: 'tenant',
    owner: 'owner',
    session: 'session',
    contentType: 'test',
    attempt: 1,
    headers: {},
    ...overrides,
  };
}

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

export function context(overrides: Partial<Context> = {}): Context {
  return { signal: new AbortController().signal, log: quiet, progress: async () => {}, ...overrides };
}

/** Runs a worker as the host does (bytes in, plain outcome out). */
export function run(
  worker: WorkerDefinition,
  body: unknown,
  overrides: Partial<RawRequest> = {},
): Promise<Outcome> {
  return worker.run(rawRequest(body, overrides), context());
}

/** The decoded JSON content of a SUCCESS outcome; fails the test on any other status. */
export function contentOf(outcome: Outcome): unknown {
  if (outcome.status !== 'SUCCESS')
    throw new Error(`expected SUCCESS, got ${outcome.status}: ${outcome.messages.join('; ')}`);
  if (outcome.content === undefined) throw new Error('SUCCESS without content');
  return JSON.parse(new TextDecoder().decode(outcome.content));
}
