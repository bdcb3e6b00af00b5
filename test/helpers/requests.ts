import { type Invocation, invokeWorker } from 'regards-worker/testing';
import type { Context, RawRequest } from '../../sdk/index.ts';

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

/** Runs a worker as the host does, as an author's test would (`regards-worker/testing`). */
export const run = invokeWorker;

/** The decoded JSON content of a SUCCESS; fails the test on any other status. */
export function contentOf(answer: Invocation): unknown {
  if (answer.status !== 'SUCCESS')
    throw new Error(`expected SUCCESS, got ${answer.status}: ${answer.messages.join('; ')}`);
  if (answer.content === undefined) throw new Error('SUCCESS without content');
  return answer.content;
}
