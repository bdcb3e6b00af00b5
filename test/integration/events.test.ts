/**
 * A worker's events to REGARDS' feature manager, on the real broker, in a virtual host of this file's own
 * (so that it alone decides who listens on rs-fem's exchange): received with REGARDS' headers and field
 * names, confirmed before the response, the same ids when a request comes again, and with nobody
 * listening, the request is retried then dead-lettered, never answered SUCCESS.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Host } from '../../adapter/host.ts';
import {
  DEAD_LETTER_QUEUE,
  eventExchange,
  FEATURE_UPDATE_EVENT,
  RESPONSE_EXCHANGE,
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

describe('with the feature manager listening', () => {
  it("receives each event with REGARDS' headers and field names, before the response", async () => {
    const fem = await broker.observe(femExchange, '');
    const responses = await broker.observe(RESPONSE_EXCHANGE);
    const requestId = `${type}-heard`;
    await broker.publishRequest(type, { requestId, body: { action: 'emit', content: 'heard' } });
    const [answer] = await responses.waitFor((m) => idOf(m) === requestId && statusOf(m) === 'SUCCESS');
    expect(answer).toBeDefined();
    // Confirmed before the response was published: already in the queue once the response is seen.
    const [event] = (await fem.drain()).filter((m) => idOf(m) === `${requestId}-event-1`);
    expect(event?.headers).toMatchObject({
      'regards.tenant': 'PROJECT1',
      'regards.request.id': `${requestId}-event-1`,
      'regards.request.owner': 'it-owner',
      'regards.converter': 'GSON',
      __TypeId__: FEATURE_UPDATE_EVENT,
      'regards.type': FEATURE_UPDATE_EVENT,
    });
    expect(Date.parse(String(event?.headers['regards.request.date']))).not.toBeNaN();
    const body = event?.json as { feature: Record<string, unknown>; metadata: Record<string, unknown> };
    expect(Object.keys(body).sort()).toEqual([...FEATURE_UPDATE_REQUEST_EVENT_FIELDS].sort());
    for (const field of Object.keys(body.feature)) expect(FEATURE_FIELDS).toContain(field);
    for (const field of Object.keys(body.metadata)) expect(FEATURE_METADATA_FIELDS).toContain(field);
    expect(body.feature).toMatchObject({
      urn: 'URN:FEATURE:DATA:BEHAVE:heard:V1',
      model: 'BEHAVE',
      properties: { note: 'heard' },
    });
  });

  it('sends the same event id when the same request comes again', async () => {
    const fem = await broker.observe(femExchange, '');
    const requestId = `${type}-again`;
    for (let i = 0; i < 2; i += 1)
      await broker.publishRequest(type, { requestId, body: { action: 'emit', content: 'again' } });
    const events = await fem.waitFor((m) => idOf(m).startsWith(requestId), 2);
    expect(events.map(idOf)).toEqual([`${requestId}-event-1`, `${requestId}-event-1`]);
  });
});
