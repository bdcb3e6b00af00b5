/** Events to other REGARDS services, encoded as REGARDS' publishers do (checked against a fixture from its sources). */
import { describe, expect, it } from 'vitest';
import {
  type DecodedRequest,
  EVENT_CLASSES,
  encodeEvent,
  eventRequestId,
  FEATURE_UPDATE_EVENT,
  nameBasedUuid,
  workerTopology,
} from '../../../protocol/index.ts';
import { encodeContent } from '../../../sdk/define-worker.ts';
import { EVENT_KINDS, featureUpdate, type Json } from '../../../sdk/index.ts';
import {
  ENTITY_TYPES,
  FEATURE_FIELDS,
  FEATURE_METADATA_FIELDS,
  FEATURE_REQUIRED,
  FEATURE_UPDATE_REQUEST_EVENT_FIELDS,
  PRIORITY_LEVELS,
  REQUEST_EVENT_HEADERS,
  STORAGE_METADATA_FIELDS,
} from '../../fixtures/regards-events.ts';

const parent = {
  tenant: 'PROJECT1',
  requestId: 'req-42',
  owner: 'mission-x',
  session: 's',
  contentType: 'product-file',
} as DecodedRequest;

const update = featureUpdate({
  urn: 'URN:FEATURE:DATA:PROJECT1:5b4c3f7e-0000-4000-8000-000000000001:V1',
  model: 'GEODE001',
  properties: { file: { size: 12 }, datetime: '2026-11-26T00:00:00Z' },
  geometry: { type: 'Point', coordinates: [1.5, 43.6] },
  storages: [{ pluginBusinessId: 'disk', storePath: '/products' }],
  fileUpdateMode: 'APPEND',
});
const { kind, fileUpdateMode, ...payload } = update;
const now = new Date('2026-11-26T12:00:00.123Z');
const message = encodeEvent(
  parent,
  { kind, body: encodeContent(payload as unknown as Json), fileUpdateMode },
  2,
  now,
);

describe('a feature update for rs-fem', () => {
  it("goes to the event class's broadcast exchange, with REGARDS' headers", () => {
    expect(message.exchange).toBe(`regards.broadcast.${FEATURE_UPDATE_EVENT}`);
    expect(FEATURE_UPDATE_EVENT).toBe(
      'fr.cnes.regards.modules.feature.dto.event.in.FeatureUpdateRequestEvent',
    );
    expect(message.headers).toEqual({
      'regards.tenant': 'PROJECT1',
      'regards.request.id': eventRequestId('req-42', 2),
      'regards.worker.request_id': 'req-42',
      'regards.request.owner': 'mission-x',
      'regards.request.date': '2026-11-26T12:00:00.123Z',
      'regards.converter': 'GSON',
      __TypeId__: FEATURE_UPDATE_EVENT,
      'regards.type': FEATURE_UPDATE_EVENT,
      'regards.request.file_update_mode': 'APPEND',
    });
    for (const header of REQUEST_EVENT_HEADERS) expect(Object.keys(message.headers)).toContain(header);
    expect(message).toMatchObject({ contentType: 'application/json', persistent: true, routingKey: '' });
  });

  it("has a body with FeatureUpdateRequestEvent's, Feature's and FeatureMetadata's field names and values", () => {
    const body = JSON.parse(new TextDecoder().decode(message.body));
    expect(Object.keys(body).sort()).toEqual([...FEATURE_UPDATE_REQUEST_EVENT_FIELDS].sort());
    for (const field of Object.keys(body.feature)) expect(FEATURE_FIELDS).toContain(field);
    for (const field of FEATURE_REQUIRED) expect(body.feature[field]).toBeTruthy();
    expect(ENTITY_TYPES).toContain(body.feature.entityType);
    expect(body.feature).toMatchObject({ type: 'Feature', urn: update.feature.urn, id: update.feature.urn });
    for (const field of Object.keys(body.metadata)) expect(FEATURE_METADATA_FIELDS).toContain(field);
    expect(PRIORITY_LEVELS).toContain(body.metadata.priority);
    for (const storage of body.metadata.storages)
      for (const field of Object.keys(storage)) expect(STORAGE_METADATA_FIELDS).toContain(field);
  });

  it('is sent with the same request id when the same request is handled again', () => {
    const again = encodeEvent(
      parent,
      { kind, body: encodeContent(payload as unknown as Json) },
      2,
      new Date(),
    );
    expect(again.headers['regards.request.id']).toBe(message.headers['regards.request.id']);
  });

  it("has its exchange declared with the worker's queues, as REGARDS declares it (fanout)", () => {
    expect(workerTopology(['t'], ['feature-update']).exchanges).toContainEqual({
      name: `regards.broadcast.${FEATURE_UPDATE_EVENT}`,
      type: 'fanout',
    });
    expect(workerTopology(['t']).exchanges.map((e) => e.name)).not.toContain(
      `regards.broadcast.${FEATURE_UPDATE_EVENT}`,
    );
  });
});

describe('event kinds', () => {
  it('every kind a definition may declare has its REGARDS class in the protocol, and no other', () => {
    expect(Object.keys(EVENT_CLASSES).sort()).toEqual([...EVENT_KINDS].sort());
  });
});

describe('the request id of an event', () => {
  it("is a name-based UUID (RFC 9562 version 5): the RFC's own example", () => {
    // RFC 9562, appendix A.4: "www.example.com" in the DNS namespace.
    expect(nameBasedUuid('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'www.example.com')).toBe(
      '2ed6657d-e927-568b-95e1-2665a8aea6a2',
    );
  });

  it('fits rs-fem (36 characters) whatever the request id, the same on redelivery, different per event and request', () => {
    const uuid = '0b7e6c2a-9f1d-4e3b-8a5c-2d4f6e8a0b1c';
    const ids = [
      eventRequestId(uuid, 1),
      eventRequestId(uuid, 2),
      eventRequestId(`${uuid}x`, 1),
      eventRequestId('r'.repeat(400), 1),
    ];
    for (const id of ids)
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect(eventRequestId(uuid, 1)).toBe(ids[0]);
  });
});
