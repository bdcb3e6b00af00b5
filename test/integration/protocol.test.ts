import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { HEARTBEAT_EXCHANGE } from '../../protocol/index.ts';
import { type Received, uniqueType } from './helpers/broker.ts';
import { behaveSuite, buildBehave, startTestHost } from './helpers/host.ts';

const { type, broker, responses, deadLetters, host } = await behaveSuite('Proto', {
  WORKER_MAX_ATTEMPTS: '3',
  WORKER_TIMEOUT_SECONDS: '0.5',
  WORKER_TENANT: 'PROJECT1',
  WORKER_INSTANCE_ID: 'it-instance-1',
});
const heartbeats = await broker.observe(HEARTBEAT_EXCHANGE);

let counter = 0;
async function request(body: unknown, headers: Record<string, string> = {}): Promise<string> {
  counter += 1;
  const requestId = `${type}-req-${counter}`;
  await broker.publishRequest(type, { requestId, body, headers });
  return requestId;
}

const forRequest = (requestId: string) => (message: Received) =>
  message.headers['regards.request.id'] === requestId;

async function responseTo(requestId: string): Promise<Received> {
  const [response] = await responses.waitFor(forRequest(requestId));
  if (response === undefined) throw new Error(`no response to ${requestId}`);
  return response;
}

async function deadLetterOf(requestId: string): Promise<Received> {
  const [dead] = await deadLetters.waitFor(forRequest(requestId));
  if (dead === undefined) throw new Error(`no dead letter for ${requestId}`);
  return dead;
}

describe('a request published exactly as the Worker Manager publishes it', () => {
  it('yields the exact SUCCESS response: two headers, status, Base64 content, additionalHeaders', async () => {
    const requestId = await request({
      action: 'succeed',
      content: 'héllo wörld',
      headers: { 'next-step': 'yes' },
    });
    const response = await responseTo(requestId);
    expect(response.headers).toEqual({ 'regards.tenant': 'PROJECT1', 'regards.request.id': requestId });
    expect(response.properties.contentType).toBe('application/json');
    expect(response.json).toEqual({
      status: 'SUCCESS',
      messages: [],
      content: Buffer.from('héllo wörld').toString('base64'),
      additionalHeaders: { 'next-step': 'yes' },
    });
  });

  it('answers INVALID_CONTENT for a body that fails the schema, naming the field', async () => {
    const requestId = await request({ action: 'dance' });
    expect((await responseTo(requestId)).json).toEqual({
      status: 'INVALID_CONTENT',
      messages: [expect.stringMatching(/^action: Invalid option/)],
    });
  });

  it('answers INVALID_CONTENT for a body that is not JSON', async () => {
    const requestId = await request('not json {');
    expect((await responseTo(requestId)).json).toMatchObject({ status: 'INVALID_CONTENT' });
  });

  it('answers INVALID_CONTENT and ERROR as the handler says', async () => {
    const invalidId = await request({ action: 'invalid' });
    const errorId = await request({ action: 'error' });
    expect((await responseTo(invalidId)).json).toEqual({
      status: 'INVALID_CONTENT',
      messages: ['not acceptable'],
    });
    expect((await responseTo(errorId)).json).toEqual({
      status: 'ERROR',
      messages: ['known failure', 'second line'],
    });
  });

  it('answers ERROR naming the key when a handler sets a regards.* header', async () => {
    const requestId = await request({ action: 'succeed', headers: { 'regards.tenant': 'EVIL' } });
    expect((await responseTo(requestId)).json).toEqual({
      status: 'ERROR',
      messages: ['additional header regards.tenant is refused: regards.* headers belong to the protocol'],
    });
  });

  it('retries a failure and shows the attempt to the handler', async () => {
    const requestId = await request({ action: 'flaky' });
    const response = await responseTo(requestId);
    expect(response.json).toMatchObject({ status: 'SUCCESS' });
    expect(Buffer.from((response.json as { content: string }).content, 'base64').toString()).toBe(
      'succeeded on attempt 2',
    );
  });

  it('throw → retries → dead-lettered with the stack trace, the original intact, no response', async () => {
    const requestId = await request({ action: 'throw' });
    const dead = await deadLetterOf(requestId);
    expect(dead.headers).toMatchObject({
      'regards.tenant': 'PROJECT1',
      'regards.request.id': requestId,
      'regards.request.owner': 'it-owner',
      'regards.request.session': 'it-session',
      'regards.request.content_type': 'behave',
      'x-exception-message': 'failed after 3 attempts: handler threw: thrown on attempt 3',
      'x-original-exchange': `regards.worker.${type.toLowerCase()}.request`,
    });
    expect(String(dead.headers['x-exception-stacktrace'])).toMatch(/^Error: thrown on attempt 3\n\s+at /);
    // Mapped through the bundle's source map: the function's own file and line, not the bundle's.
    const line = (await readFile('test/fixtures/behave.ts', 'utf8'))
      .split('\n')
      .findIndex((text) => text.includes('throw new Error(`thrown on attempt'));
    expect(String(dead.headers['x-exception-stacktrace'])).toContain(`functions/${type}.ts:${line + 1}:`);
    expect(String(dead.headers['x-exception-stacktrace'])).not.toContain('.mjs?sha256=');
    expect(dead.headers).not.toHaveProperty('x-retries');
    expect(dead.headers).not.toHaveProperty('x-death-queue');
    expect(JSON.parse(dead.body.toString())).toEqual({ action: 'throw' });
    expect(await responses.waitFor(forRequest(requestId), 1, 300)).toEqual([]);
  });

  it('a handler past its time limit is retried, then dead-lettered', async () => {
    const requestId = await request({ action: 'hang' });
    const dead = await deadLetterOf(requestId);
    expect(dead.headers['x-exception-message']).toBe(
      'failed after 3 attempts: handler timed out: no result after 500 ms, thread terminated',
    );
  });

  it('a request without a request id is dead-lettered with the reason', async () => {
    await broker.publishRequest(type, {
      requestId: '',
      body: { action: 'succeed' },
      headers: { 'regards.request.id': '' },
    });
    const [dead] = await deadLetters.waitFor((m) => m.headers['regards.request.id'] === '');
    expect(dead?.headers['x-exception-stacktrace']).toBe(
      'cannot answer a request without header regards.request.id',
    );
  });
});

describe('topology and heartbeats', () => {
  it('accepts the manager declaring the same queue after the adapter did (no 406)', async () => {
    await expect(broker.declareAsManager(type)).resolves.toBeUndefined();
  });

  it('accepts a queue the manager declared first', async () => {
    const before = uniqueType('declared-first');
    await broker.declareAsManager(before);
    const other = await startTestHost(await buildBehave(before));
    try {
      expect(other.isReady()).toBe(true);
      await broker.publishRequest(before, { requestId: `${before}-1`, body: { action: 'succeed' } });
      expect((await responseTo(`${before}-1`)).json).toMatchObject({ status: 'SUCCESS' });
    } finally {
      await other.stop();
    }
  });

  it('sends heartbeats with the exact body: instance id, exact-case type, ISO date, tenant header', async () => {
    const beats = await heartbeats.waitFor((m) => (m.json as { type?: string }).type === type, 2);
    expect(beats.length).toBeGreaterThanOrEqual(2);
    const beat = beats[0];
    if (beat === undefined) throw new Error('no heartbeat');
    expect(beat.headers).toEqual({ 'regards.tenant': 'PROJECT1' });
    expect(beat.properties.contentType).toBe('application/json');
    expect(beat.json).toEqual({
      id: 'it-instance-1',
      type,
      heartBeatDate: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    const age = Date.now() - Date.parse((beat.json as { heartBeatDate: string }).heartBeatDate);
    expect(age).toBeLessThan(60_000);
  });

  it('answers /livez and /readyz while consuming', async () => {
    const base = `http://127.0.0.1:${host.healthPort}`;
    expect((await fetch(`${base}/livez`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect((await fetch(`${base}/other`)).status).toBe(404);
  });

  it('logs one line per settled message with request id, type, outcome, attempt and duration', () => {
    const settled = host.lines.map((line) => JSON.parse(line)).filter((entry) => entry.msg === 'settled');
    expect(settled.length).toBeGreaterThan(0);
    expect(settled[0]).toMatchObject({
      workerType: type,
      outcome: expect.any(String),
      attempt: expect.any(Number),
    });
    expect(host.lines.join('\n')).not.toContain('guest:guest');
  });
});
