import { describe, expect, it } from 'vitest';
import { type Effect, HEARTBEAT_EXPIRY_MS, ManagerState } from '../../../manager/state.ts';
import type { Delivery } from '../../../protocol/index.ts';

const config = {
  workers: [
    { workerType: 'a', contentTypeInputs: ['in'], contentTypeOutput: 'mid' },
    { workerType: 'b', contentTypeInputs: ['mid'] },
  ],
  workflows: [
    {
      workflowType: 'flow',
      steps: [
        { stepNumber: 2, workerType: 'b' },
        { stepNumber: 1, workerType: 'a' },
      ],
    },
  ],
};

const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const delivery = (headers: Record<string, string>, body: unknown): Delivery => ({
  exchange: 'x',
  routingKey: '',
  headers,
  body: body instanceof Uint8Array ? body : json(body),
  redelivered: false,
});
const request = (id: string, contentType: string, extra: Record<string, string> = {}) =>
  delivery(
    {
      'regards.tenant': 'T',
      'regards.request.id': id,
      'regards.request.owner': 'o',
      'regards.request.session': 's',
      'regards.request.content_type': contentType,
      ...extra,
    },
    { n: 1 },
  );
const heartbeat = (type: string, at: number) =>
  delivery({ 'regards.tenant': 'T' }, { id: 'i', type, heartBeatDate: new Date(at).toISOString() });
const response = (id: string, body: unknown) =>
  delivery({ 'regards.tenant': 'T', 'regards.request.id': id }, body);

/** The states of the ResponseEvents and the exchanges of the dispatches among effects. */
function summary(effects: readonly Effect[]): string[] {
  return effects.flatMap((effect) => {
    if (effect.kind === 'declare') return [`declare ${effect.workerType}`];
    const body = JSON.parse(new TextDecoder().decode(effect.message.body));
    return [body.state ? `event ${body.state}` : `dispatch ${effect.message.exchange}`];
  });
}

describe('the local manager state', () => {
  const now = 1_000_000_000_000;

  it('delays a request while no worker of its type is alive, then dispatches it on a heartbeat', () => {
    const state = new ManagerState(config);
    expect(summary(state.onRequestEvent(request('r1', 'in'), now))).toEqual(['event DELAYED']);
    expect(summary(state.onHeartbeat(heartbeat('a', now), now))).toEqual([
      'declare a',
      'dispatch regards.worker.a.request',
      'event GRANTED',
    ]);
  });

  it('ignores a heartbeat dated more than 60 s ago, and forgets a type 60 s after its last one', () => {
    const state = new ManagerState(config);
    expect(state.onHeartbeat(heartbeat('a', now - HEARTBEAT_EXPIRY_MS - 1), now)).toEqual([]);
    expect(state.isAlive('a', now)).toBe(false);
    state.onHeartbeat(heartbeat('a', now), now);
    expect(state.isAlive('a', now + HEARTBEAT_EXPIRY_MS)).toBe(true);
    expect(state.isAlive('a', now + HEARTBEAT_EXPIRY_MS + 1)).toBe(false);
  });

  it('RUNNING changes the state and tells the requester nothing', () => {
    const state = new ManagerState(config);
    state.onHeartbeat(heartbeat('a', now), now);
    state.onRequestEvent(request('r2', 'in'), now);
    expect(state.onWorkerResponse(response('r2', { status: 'RUNNING', messages: ['half'] }), now)).toEqual(
      [],
    );
    expect(state.requests.get('r2')?.state).toBe('RUNNING');
  });

  it('runs workflow steps in stepNumber order, carrying content, the workflow type and additionalHeaders', () => {
    const state = new ManagerState(config);
    state.onHeartbeat(heartbeat('a', now), now);
    state.onHeartbeat(heartbeat('b', now), now);
    state.onRequestEvent(request('r3', 'flow', { traceparent: '00-t-s-01' }), now);
    const next = state.onWorkerResponse(
      response('r3', {
        status: 'SUCCESS',
        content: Buffer.from('{"k":2}').toString('base64'),
        additionalHeaders: { step: 'one' },
      }),
      now,
    );
    expect(summary(next)).toEqual(['declare b', 'dispatch regards.worker.b.request', 'event GRANTED']);
    const dispatch = next.find(
      (e) => e.kind === 'publish' && e.message.exchange === 'regards.worker.b.request',
    );
    if (dispatch?.kind !== 'publish') throw new Error('no dispatch');
    expect(dispatch.message.headers).toEqual({
      'regards.tenant': 'T',
      'regards.request.id': 'r3',
      'regards.request.owner': 'o',
      'regards.request.session': 's',
      'regards.request.content_type': 'flow',
      step: 'one',
    });
    expect(new TextDecoder().decode(dispatch.message.body)).toBe('{"k":2}');
  });

  it('skips requests it cannot take, and a duplicate id', () => {
    const state = new ManagerState(config);
    expect(summary(state.onRequestEvent(request('r4', 'unknown'), now))).toEqual(['event SKIPPED']);
    state.onRequestEvent(request('r5', 'in'), now);
    expect(summary(state.onRequestEvent(request('r5', 'in'), now))).toEqual(['event SKIPPED']);
  });

  it('marks a dead-lettered request ERROR with the stack trace, or "Unknown error from worker"', () => {
    const state = new ManagerState(config);
    state.onRequestEvent(request('r6', 'in'), now);
    state.onDeadLetter(delivery({ 'regards.tenant': 'T', 'regards.request.id': 'r6' }, {}));
    expect(state.requests.get('r6')).toMatchObject({
      state: 'ERROR',
      messages: ['Unknown error from worker'],
    });
  });

  it('ignores answers it cannot read: no id, no JSON, an unknown status', () => {
    const state = new ManagerState(config);
    state.onHeartbeat(heartbeat('a', now), now);
    state.onRequestEvent(request('r7', 'in'), now);
    expect(state.onWorkerResponse(response('nope', { status: 'SUCCESS' }), now)).toEqual([]);
    expect(state.onWorkerResponse(response('r7', new TextEncoder().encode('{')), now)).toEqual([]);
    expect(state.onWorkerResponse(response('r7', { status: 'DONE' }), now)).toEqual([]);
    expect(state.requests.get('r7')?.state).toBe('DISPATCHED');
  });
});
