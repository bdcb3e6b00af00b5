/**
 * `regards-worker/testing`: a definition run on one request as the host runs it, imported by the
 * package's own name as an author's test does. The answer is what the host would do.
 */
import { invokeWorker } from 'regards-worker/testing';
import { describe, expect, it } from 'vitest';
import { DEAD_LETTER_QUEUE, HEADER, RESPONSE_EXCHANGE } from '../../protocol/index.ts';
import behave from '../fixtures/behave.ts';

describe('invokeWorker', () => {
  it('answers SUCCESS with the content decoded, its headers, and what the host would publish', async () => {
    const answer = await invokeWorker(behave, { action: 'succeed', content: 'done', headers: { step: '2' } });
    expect(answer).toMatchObject({
      status: 'SUCCESS',
      messages: [],
      content: 'done',
      headers: { step: '2' },
    });
    expect(new TextDecoder().decode(answer.contentBytes)).toBe('done');
    expect(answer.published).toHaveLength(1);
    expect(answer.published[0]?.exchange).toBe(RESPONSE_EXCHANGE);
  });

  it('answers INVALID_CONTENT for a body its schema refuses, and for the handler saying so', async () => {
    const refused = await invokeWorker(behave, { action: 'dance' });
    expect(refused.status).toBe('INVALID_CONTENT');
    expect(refused.messages.join('\n')).toContain('action');
    const notJson = await invokeWorker(behave, new TextEncoder().encode('{not json'));
    expect(notJson.status).toBe('INVALID_CONTENT');
    expect(await invokeWorker(behave, { action: 'invalid' })).toMatchObject({
      status: 'INVALID_CONTENT',
      messages: ['not acceptable'],
    });
  });

  it('answers ERROR with the messages', async () => {
    expect(await invokeWorker(behave, { action: 'error' })).toMatchObject({
      status: 'ERROR',
      messages: ['known failure', 'second line'],
    });
  });

  it('retries a throw while attempts are left, then dead-letters it with its stack', async () => {
    const first = await invokeWorker(behave, { action: 'throw' });
    expect(first.status).toBe('RETRY');
    expect(first.stacktrace).toContain('thrown on attempt 1');
    expect(first.published[0]?.headers[HEADER.attempt]).toBe('2');
    const last = await invokeWorker(behave, { action: 'throw' }, { attempt: 3 });
    expect(last.status).toBe('DEAD_LETTER');
    expect(last.messages[0]).toContain('thrown on attempt 3');
    expect(last.published[0]?.exchange).toBe(DEAD_LETTER_QUEUE);
  });

  it('stops a handler at its time limit', async () => {
    const answer = await invokeWorker(behave, { action: 'sleep', ms: 10_000 }, { timeoutMs: 50 });
    expect(answer.status).toBe('RETRY');
    expect(answer.messages[0]).toContain('no result after 50 ms');
  });

  it('gives the events, new requests and progress messages, decoded', async () => {
    const emitted = await invokeWorker(behave, { action: 'emit', content: 'seen' });
    expect(emitted.events).toHaveLength(1);
    expect(emitted.events[0]?.kind).toBe('feature-update');
    expect(JSON.stringify(emitted.events[0]?.body)).toContain('"note":"seen"');
    const fanned = await invokeWorker(behave, { action: 'fan-out', content: 'child-type' });
    expect(fanned.requests).toEqual([
      { contentType: 'child-type', body: { action: 'succeed', content: 'child 1' } },
      { contentType: 'child-type', body: { action: 'succeed', content: 'child 2' } },
    ]);
    expect((await invokeWorker(behave, { action: 'progress', content: 'x' })).progress).toEqual([
      'working on x',
    ]);
  });

  it('decodes the request as the host does: headers given win over the defaults', async () => {
    const answer = await invokeWorker(behave, { action: 'succeed' }, { headers: { 'regards.tenant': '' } });
    // Without a tenant the host cannot answer: it dead-letters the request.
    expect(answer.status).toBe('DEAD_LETTER');
    expect(answer.messages[0]).toContain('regards.tenant');
  });
});
