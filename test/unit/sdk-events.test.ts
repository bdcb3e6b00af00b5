/** Events in the function contract: declared in `emits`, built with helpers, refused when undeclared. */
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import {
  defineWorker,
  featureDate,
  featureUpdate,
  featureUrn,
  type Outcome,
  success,
} from '../../sdk/index.ts';

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
const URN = 'URN:FEATURE:DATA:t:0f4d6d3c-1a2b-4c5d-8e9f-000000000042:V1';
const update = featureUpdate({ urn: URN, model: 'M', properties: { a: 1 } });
const featureProperties = z.strictObject({ a: z.number(), at: featureDate().optional() });

describe('events', () => {
  it('a declared event is encoded for the host, its body the event without its kind', async () => {
    const worker = defineWorker({
      type: 'emitter',
      accepts: ['in'],
      emits: ['feature-update'],
      featureProperties,
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

  it('a definition that emits feature updates declares the shape of their properties', () => {
    expect(() =>
      defineWorker({
        type: 'undeclared',
        accepts: ['in'],
        emits: ['feature-update'],
        input: z.object({}),
        handler: () => success(),
      }),
    ).toThrow(/emits: \['feature-update'\] needs featureProperties/);
  });

  it.each([
    [
      'a property it does not declare',
      { a: 1, b: 2 },
      /event 1 \(feature-update\): properties do not match featureProperties: .*"b"/,
    ],
    [
      'a value of another type',
      { a: 'one' },
      /event 1 \(feature-update\): properties do not match featureProperties: a: /,
    ],
    ['a date alone where a date-time is declared', { a: 1, at: '2024-05-01' }, /at: /],
    ['a date-time without its offset', { a: 1, at: '2024-05-01T10:00:00' }, /at: /],
  ])('an update with %s answers ERROR naming it', async (_what, properties, message) => {
    const worker = defineWorker({
      type: 'emitter',
      accepts: ['in'],
      emits: ['feature-update'],
      featureProperties,
      input: z.object({}),
      handler: () => success({ events: [featureUpdate({ urn: URN, model: 'M', properties })] }),
    });
    const outcome = await worker.run(request({}), ctx);
    expect(outcome.status).toBe('ERROR');
    expect(outcome.messages.join('\n')).toMatch(message);
  });

  it('featureDate takes a date-time with its offset; featureUrn a REGARDS feature URN', () => {
    expect(featureDate().safeParse('2024-05-01T10:00:00+02:00').success).toBe(true);
    expect(featureDate().safeParse('2024-05-01T08:00:00Z').success).toBe(true);
    expect(featureUrn().safeParse(URN).success).toBe(true);
    const refused = featureUrn().safeParse('URN:FEATURE:DATA:t:granule-1:V1');
    expect(refused.success).toBe(false);
    expect(refused.error?.issues[0]?.message).toMatch(/is not a REGARDS feature URN/);
  });
});
