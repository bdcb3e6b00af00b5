/** Events in the function contract: declared in `emits`, built with helpers, refused when undeclared. */
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { defineWorker, featureUpdate, type Outcome, success } from '../../sdk/index.ts';

const request = (body: unknown) => ({
  body: new TextEncoder().encode(JSON.stringify(body)),
  requestId: 'r',
  tenant: 't',
  owner: 'o',
  session: 's',
  contentType: 'c',
  attempt: 1,
  headers: {},
});
const ctx = {
  signal: new AbortController().signal,
  log: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
  progress: async () => undefined,
};
const update = featureUpdate({ urn: 'URN:FEATURE:DATA:t:u:V1', model: 'M', properties: { a: 1 } });

describe('events', () => {
  it('a declared event is encoded for the host, its body the event without its kind', async () => {
    const worker = defineWorker({
      type: 'emitter',
      accepts: ['in'],
      emits: ['feature-update'],
      input: z.object({}),
      handler: () => success({ events: [update] }),
    });
    expect(worker.emits).toEqual(['feature-update']);
    const outcome = (await worker.run(request({}), ctx)) as Outcome & { status: 'SUCCESS' };
    expect(outcome.events).toHaveLength(1);
    expect(outcome.events[0]?.kind).toBe('feature-update');
    expect(JSON.parse(new TextDecoder().decode(outcome.events[0]?.body))).toEqual({
      feature: update.feature,
      metadata: { storages: [], priority: 'NORMAL' },
    });
  });

  it('an event the definition does not declare fails the request, naming it', async () => {
    const worker = defineWorker({
      type: 'silent',
      accepts: ['in'],
      input: z.object({}),
      handler: () => success({ events: [update] }),
    });
    expect(await worker.run(request({}), ctx)).toEqual({
      status: 'ERROR',
      messages: ['the worker sends events it does not declare in emits: feature-update (it declares none)'],
    });
  });

  it('an unknown kind in emits is refused with the definition', () => {
    expect(() =>
      defineWorker({
        type: 'odd',
        accepts: ['in'],
        emits: ['teleport' as 'feature-update'],
        input: z.object({}),
        handler: () => success(),
      }),
    ).toThrow(/emits must list kinds among feature-update/);
  });
});
