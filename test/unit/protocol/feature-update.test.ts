/**
 * What rs-fem would deny in a feature update, checked before anything is published: a table of URNs,
 * ids, model and property names, and what the settle decision makes of a worker's update that breaks one.
 */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_LIMITS,
  featureUpdateProblems,
  featureUrnProblem,
  settle,
  type WorkerEventOut,
} from '../../../protocol/index.ts';

const UUID = '0f4d6d3c-1a2b-4c5d-8e9f-000000000042';
const policy = { maxAttempts: 3, backoffBaseMs: 10, backoffMaxMs: 100 };

describe('a feature URN', () => {
  it.each([
    `URN:FEATURE:DATA:PROJECT1:${UUID}:V1`,
    `URN:FEATURE:DATA:PROJECT1:${UUID}:V999`,
    `URN:FEATURE:COLLECTION:a-tenant:${UUID}:V12`,
    `URN:FEATURE:DATA:PROJECT1:${UUID}:LAST`,
    `URN:FEATURE:DATA:PROJECT1:${UUID}:V1,3`,
    `URN:FEATURE:DATA:PROJECT1:${UUID}:V1:REVabc`,
    // As Java's UUID.fromString reads it (REGARDS' own pseudo-random URNs).
    'URN:FEATURE:DATA:PROJECT1:0-0-0-0-123456:V1',
  ])('%s is read by rs-fem', (urn) => {
    expect(featureUrnProblem(urn)).toBeUndefined();
  });

  it.each([
    ['URN:FEATURE:DATA:DEMO:granule-1:V1', /is not a REGARDS feature URN/],
    [`URN:AIP:DATA:PROJECT1:${UUID}:V1`, /is not a REGARDS feature URN/],
    [`URN:FEATURE:PRODUCT:PROJECT1:${UUID}:V1`, /is not a REGARDS feature URN/],
    [`URN:FEATURE:DATA:PROJECT1:${UUID}:V1000`, /is not a REGARDS feature URN/],
    [`URN:FEATURE:DATA:PROJECT1:${UUID}:V0`, /from V1 to V999/],
    [`URN:FEATURE:DATA:PROJECT1:${UUID}`, /is not a REGARDS feature URN/],
    [`URN:FEATURE:DATA:${'T'.repeat(80)}:${UUID}:V1`, /over the 132 rs-fem stores/],
    ['URN:FEATURE:DATA:P:000000000-0-0-0-0:V1', /is not a REGARDS feature URN/],
    [42, /must be a string/],
  ])('%s is refused', (urn, problem) => {
    expect(featureUrnProblem(urn)).toMatch(problem);
  });
});

const update = (feature: Record<string, unknown> = {}, metadata: Record<string, unknown> = {}) => ({
  feature: {
    id: 'granule-1',
    urn: `URN:FEATURE:DATA:PROJECT1:${UUID}:V1`,
    type: 'Feature',
    entityType: 'DATA',
    model: 'DEMO_PRODUCT',
    properties: {
      start_datetime: '2024-05-01T10:00:00Z',
      file: { size: 1 },
      range: { lowerBound: 1, upperBound: 2 },
    },
    ...feature,
  },
  metadata: { storages: [], priority: 'NORMAL', ...metadata },
});

describe('a feature update', () => {
  it('as featureUpdate() builds it, with fragments and intervals: nothing to deny', () => {
    expect(featureUpdateProblems(update())).toEqual([]);
  });

  it.each([
    ['an id over 100 characters', update({ id: 'i'.repeat(101) }), 'feature.id: must be 1 to 100 characters'],
    ['an empty id', update({ id: ' ' }), 'feature.id: must be 1 to 100 characters'],
    [
      'a model name with a dash',
      update({ model: 'DEMO-PRODUCT' }),
      'feature.model: "DEMO-PRODUCT" is not a model name',
    ],
    [
      'a URN of another entity type',
      update({ entityType: 'DATASET' }),
      "feature.urn: its entity type is not the feature's",
    ],
    [
      'a property name with a dash',
      update({ properties: { 'start-date': 'x' } }),
      'feature.properties.start-date: is not an attribute name',
    ],
    [
      'a property name of 33 characters',
      update({ properties: { [`a${'b'.repeat(32)}`]: 1 } }),
      'over the 32 of an attribute name',
    ],
    [
      'a fragment attribute name with a dot',
      update({ properties: { file: { 'a.b': 1 } } }),
      'feature.properties.file.a.b: is not an attribute name',
    ],
    [
      'properties that are a list',
      update({ properties: [] }),
      'feature.properties: must be an object of attributes',
    ],
    [
      'an unknown priority',
      update({}, { priority: 'URGENT' }),
      'metadata.priority: must be one of LOW, NORMAL, HIGH',
    ],
  ])('with %s is denied, naming the field', (_what, body, problem) => {
    expect(featureUpdateProblems(body).join('\n')).toContain(problem);
  });
});

describe('the settle decision on a success carrying events', () => {
  const event = (body: unknown): WorkerEventOut => ({
    kind: 'feature-update',
    body: new TextEncoder().encode(JSON.stringify(body)),
  });
  const verdict = (events: WorkerEventOut[]) => ({
    kind: 'verdict' as const,
    verdict: { status: 'SUCCESS' as const, content: undefined, headers: {}, events },
  });

  it('publishes an update rs-fem would store', () => {
    const decision = settle(verdict([event(update())]), 1, policy, DEFAULT_LIMITS);
    expect(decision).toMatchObject({ action: 'reply', ending: 'success' });
  });

  it('answers ERROR naming the event and the field, and publishes no event, when rs-fem would deny one', () => {
    const decision = settle(
      verdict([event(update()), event(update({ urn: 'URN:FEATURE:DATA:DEMO:granule-1:V1' }))]),
      1,
      policy,
      DEFAULT_LIMITS,
    );
    expect(decision).toMatchObject({ action: 'reply', ending: 'error', events: [], requests: [] });
    expect(decision.action === 'reply' && decision.response.messages).toEqual([
      'event 2 (feature-update) would be refused: feature.urn: "URN:FEATURE:DATA:DEMO:granule-1:V1" is not a REGARDS feature URN (URN:FEATURE:<DATA|COLLECTION|DATASET>:<tenant>:<UUID>:V<1 to 999>, at most 132 characters)',
    ]);
  });
});
