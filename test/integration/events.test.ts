/**
 * A worker's events to REGARDS' feature manager, on the real broker, in a virtual host of this file's own
 * (so that it alone decides who listens on rs-fem's exchange): received with REGARDS' headers and field
 * names, confirmed before the response, the same ids when a request comes again, and with nobody
 * listening, the request is retried then dead-lettered, never answered SUCCESS. Every event received is
 * judged as rs-fem would (manager/rs-fem-stand-in.ts, against test/fixtures/models/BEHAVE.xml); an update
 * rs-fem would refuse is answered ERROR and never published.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Host } from '../../adapter/host.ts';
import { parseModel } from '../../manager/regards-model.ts';
import { RsFemStandIn } from '../../manager/rs-fem-stand-in.ts';
import {
  DEAD_LETTER_QUEUE,
  eventExchange,
  eventRequestId,
  FEATURE_UPDATE_EVENT,
  RESPONSE_EXCHANGE,
  WORKER_REQUEST_ID_HEADER,
} from '../../protocol/index.ts';
import {
  FEATURE_FIELDS,
  FEATURE_METADATA_FIELDS,
  FEATURE_UPDATE_REQUEST_EVENT_FIELDS,
} from '../fixtures/regards-events.ts';
import {
  AMQP_URL,
  connectTestBroker,
  type Received,
  rabbitmqctl,
  type TestBroker,
  uniqueType,
} from './helpers/broker.ts';
import { buildBehave, startTestHost } from './helpers/host.ts';

const vhost = `it-events-${randomUUID().slice(0, 8)}`;
const url = `${AMQP_URL.replace(/\/$/, '')}/${vhost}`;
const type = uniqueType('emits');
const femExchange = eventExchange(FEATURE_UPDATE_EVENT);
let broker: TestBroker;
let host: Host & { lines: string[] };

beforeAll(async () => {
  await rabbitmqctl('add_vhost', vhost);
  await rabbitmqctl('set_permissions', '-p', vhost, 'guest', '.*', '.*', '.*');
  broker = await connectTestBroker(url);
  broker.forget(type);
  host = await startTestHost(await buildBehave(type), {
    AMQP_URL: url,
    WORKER_MAX_ATTEMPTS: '2',
    WORKER_TENANT: 'PROJECT1',
  });
});
afterAll(async () => {
  await host?.stop();
  await broker?.close();
  await rabbitmqctl('delete_vhost', vhost).catch(() => undefined);
});

const idOf = (m: Received) => String(m.headers['regards.request.id']);
const statusOf = (m: Received) => (m.json as { status?: string } | undefined)?.status;

describe('with nobody listening on the feature manager exchange', () => {
  it('retries, then dead-letters with the reason; never answers SUCCESS', async () => {
    const responses = await broker.observe(RESPONSE_EXCHANGE);
    const deadLetters = await broker.observe(DEAD_LETTER_QUEUE, '');
    const requestId = `${type}-unheard`;
    await broker.publishRequest(type, { requestId, body: { action: 'emit', content: 'unheard' } });
    const [dead] = await deadLetters.waitFor((m) => idOf(m) === requestId);
    expect(String(dead?.headers['x-exception-message'])).toMatch(
      new RegExp(
        `failed after 2 attempts: .*no queue took the message on ${femExchange.replaceAll('.', '\\.')}`,
      ),
    );
    expect((await responses.drain()).filter((m) => idOf(m) === requestId)).toEqual([]);
  });
});

/** The worker request id an event was sent for. */
const workerRequestOf = (m: Received) => String(m.headers[WORKER_REQUEST_ID_HEADER]);

describe('with the feature manager listening', () => {
  /** What rs-fem would do with every event received, against the test worker's model. */
  let fem: RsFemStandIn;
  beforeAll(async () => {
    fem = new RsFemStandIn([parseModel(await readFile('test/fixtures/models/BEHAVE.xml', 'utf8'))]);
  });
  const verdictOf = (m: Received) => fem.receive(idOf(m), m.json);

  it("receives each event with REGARDS' headers and field names, before the response; rs-fem would store it", async () => {
    const events = await broker.observe(femExchange, '');
    const responses = await broker.observe(RESPONSE_EXCHANGE);
    const requestId = `${type}-heard`;
    await broker.publishRequest(type, {
      requestId,
      body: {
        action: 'emit',
        content: 'heard',
        update: { properties: { note: 'heard', observed: '2024-05-01T10:00:00+02:00' } },
      },
    });
    const [answer] = await responses.waitFor((m) => idOf(m) === requestId && statusOf(m) === 'SUCCESS');
    expect(answer).toBeDefined();
    // Confirmed before the response was published: already in the queue once the response is seen.
    const [event] = (await events.drain()).filter((m) => workerRequestOf(m) === requestId);
    expect(event?.headers).toMatchObject({
      'regards.tenant': 'PROJECT1',
      'regards.request.id': eventRequestId(requestId, 1),
      [WORKER_REQUEST_ID_HEADER]: requestId,
      'regards.request.owner': 'it-owner',
      'regards.converter': 'GSON',
      __TypeId__: FEATURE_UPDATE_EVENT,
      'regards.type': FEATURE_UPDATE_EVENT,
    });
    expect(idOf(event as Received)).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(Date.parse(String(event?.headers['regards.request.date']))).not.toBeNaN();
    const body = event?.json as { feature: Record<string, unknown>; metadata: Record<string, unknown> };
    expect(Object.keys(body).sort()).toEqual([...FEATURE_UPDATE_REQUEST_EVENT_FIELDS].sort());
    for (const field of Object.keys(body.feature)) expect(FEATURE_FIELDS).toContain(field);
    for (const field of Object.keys(body.metadata)) expect(FEATURE_METADATA_FIELDS).toContain(field);
    expect(body.feature).toMatchObject({ model: 'BEHAVE', properties: { note: 'heard' } });
    expect(verdictOf(event as Received)).toEqual({ verdict: 'stored' });
    // The host's log line names the event's id beside the request's.
    expect(host.lines.join('\n')).toContain(`"eventRequestIds":["${eventRequestId(requestId, 1)}"]`);
  });

  it('sends the same event id when the same request comes again: a duplicate to rs-fem, not a new update', async () => {
    const events = await broker.observe(femExchange, '');
    const requestId = `${randomUUID()}`;
    for (let i = 0; i < 2; i += 1)
      await broker.publishRequest(type, { requestId, body: { action: 'emit', content: 'again' } });
    const received = await events.waitFor((m) => workerRequestOf(m) === requestId, 2);
    expect(received.map(idOf)).toEqual([eventRequestId(requestId, 1), eventRequestId(requestId, 1)]);
    expect(received.map((m) => idOf(m).length)).toEqual([36, 36]);
    expect(received.map((m) => verdictOf(m).verdict)).toEqual(['stored', 'duplicate']);
  });

  // Each is refused before anything is published: ERROR naming the field, and no event.
  it.each([
    [
      'a URN whose fifth segment is no UUID',
      { urn: 'URN:FEATURE:DATA:PROJECT1:granule-1:V1' },
      /feature\.urn: .* is not a REGARDS feature URN/,
    ],
    [
      'a provider id over 100 characters',
      { id: 'i'.repeat(101) },
      /feature\.id: must be 1 to 100 characters/,
    ],
    [
      'a date alone for a date-time',
      { properties: { note: 'n', observed: '2024-05-01' } },
      /properties do not match featureProperties: observed: /,
    ],
    [
      'a property the model does not have',
      { properties: { note: 'n', colour: 'red' } },
      /properties do not match featureProperties: .*colour/,
    ],
    [
      'a property name rs-fem cannot store',
      { properties: { 'not-a-name': 1 } },
      /properties do not match featureProperties/,
    ],
  ])('%s: ERROR naming the field, nothing published', async (_what, update, message) => {
    const events = await broker.observe(femExchange, '');
    const responses = await broker.observe(RESPONSE_EXCHANGE);
    const requestId = randomUUID();
    await broker.publishRequest(type, { requestId, body: { action: 'emit', content: 'n', update } });
    const [answer] = await responses.waitFor((m) => idOf(m) === requestId && statusOf(m) === 'ERROR');
    expect((answer?.json as { messages?: string[] } | undefined)?.messages?.join('\n')).toMatch(message);
    // A later request's event arrives: nothing of the refused one came before it.
    const later = randomUUID();
    await broker.publishRequest(type, { requestId: later, body: { action: 'emit', content: 'later' } });
    await events.waitFor((m) => workerRequestOf(m) === later);
    expect((await events.drain()).filter((m) => workerRequestOf(m) === requestId)).toEqual([]);
  });
});
