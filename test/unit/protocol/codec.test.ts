import { describe, expect, it } from 'vitest';
import {
  base64Bytes,
  type Delivery,
  decode,
  encodeDeadLetter,
  encodeHeartbeat,
  encodeResponse,
  encodeRetry,
  HEADER,
  RESPONSE_ROOM,
  responseBytes,
} from '../../../protocol/index.ts';

const managerHeaders = {
  'regards.tenant': 'PROJECT1',
  'regards.request.id': 'req-42',
  'regards.request.owner': 'alice',
  'regards.request.session': 'session-1',
  'regards.request.content_type': 'archive',
};

function delivery(overrides: Partial<Delivery> = {}): Delivery {
  return {
    exchange: 'regards.worker.x.request',
    routingKey: '#',
    headers: managerHeaders,
    body: new TextEncoder().encode('{"a":1}'),
    redelivered: false,
    priority: 0,
    contentType: 'application/json',
    ...overrides,
  };
}

const json = (bytes: Uint8Array) => JSON.parse(new TextDecoder().decode(bytes));

describe('decode', () => {
  it('reads the five headers, the extra ones, and starts at attempt 1', () => {
    const decoded = decode(delivery({ headers: { ...managerHeaders, step: 'two', count: 3 } }));
    expect(decoded).toEqual({
      ok: true,
      request: {
        requestId: 'req-42',
        tenant: 'PROJECT1',
        owner: 'alice',
        session: 'session-1',
        contentType: 'archive',
        attempt: 1,
        headers: { ...managerHeaders, step: 'two', count: '3' },
        body: delivery().body,
      },
    });
  });

  it('reads string headers that arrive as bytes', () => {
    const headers = { ...managerHeaders, 'regards.request.id': Buffer.from('req-bytes') };
    const decoded = decode(delivery({ headers }));
    expect(decoded.ok && decoded.request.requestId).toBe('req-bytes');
  });

  it.each([
    [{ 'regards.tenant': 'T' }, 'regards.request.id'],
    [{ 'regards.request.id': 'R' }, 'regards.tenant'],
    [{ 'regards.request.id': '', 'regards.tenant': 'T' }, 'regards.request.id'],
    [undefined, 'regards.request.id and regards.tenant'],
  ])('cannot answer without the id or tenant: %j', (headers, missing) => {
    expect(decode(delivery({ headers }))).toEqual({
      ok: false,
      reason: `cannot answer a request without header ${missing}`,
    });
  });

  it.each([
    ['3', 3],
    ['1', 1],
    ['0', 1],
    ['-2', 1],
    ['abc', 1],
    ['99999999999', 1],
  ])('reads the attempt header %j as %d', (value, attempt) => {
    const decoded = decode(delivery({ headers: { ...managerHeaders, [HEADER.attempt]: value } }));
    expect(decoded.ok && decoded.request.attempt).toBe(attempt);
  });
});

describe('encodeResponse', () => {
  const to = { tenant: 'PROJECT1', requestId: 'req-42' };

  it('publishes SUCCESS with standard Base64 content and additionalHeaders, two headers only', () => {
    const content = new Uint8Array(Array.from({ length: 200 }, (_, i) => i));
    const message = encodeResponse(to, {
      status: 'SUCCESS',
      messages: [],
      content,
      additionalHeaders: { a: 'b' },
    });
    expect(message.exchange).toBe('regards.worker.manager.response');
    expect(message.headers).toEqual({ 'regards.tenant': 'PROJECT1', 'regards.request.id': 'req-42' });
    expect(message.contentType).toBe('application/json');
    const body = json(message.body);
    expect(body).toEqual({
      status: 'SUCCESS',
      messages: [],
      content: Buffer.from(content).toString('base64'),
      additionalHeaders: { a: 'b' },
    });
    expect(body.content).toMatch(/^[A-Za-z0-9+/]+=*$/);
  });

  it.each(['RUNNING', 'INVALID_CONTENT', 'ERROR'] as const)(
    'publishes %s with messages and never content',
    (status) => {
      const message = encodeResponse(to, {
        status,
        messages: ['why'],
        content: new Uint8Array([1]),
        additionalHeaders: { a: 'b' },
      });
      expect(json(message.body)).toEqual({ status, messages: ['why'] });
    },
  );
});

describe('encodeHeartbeat', () => {
  it('sends id, exact-case type and an ISO date with the tenant header', () => {
    const message = encodeHeartbeat({
      instanceId: 'pod-1',
      type: 'Extract-Metadata',
      tenant: 'PROJECT1',
      date: new Date('2024-08-02T09:45:10.662Z'),
    });
    expect(message.exchange).toBe('regards.worker.manager.heartbeat');
    expect(message.headers).toEqual({ 'regards.tenant': 'PROJECT1' });
    expect(message.contentType).toBe('application/json');
    expect(json(message.body)).toEqual({
      id: 'pod-1',
      type: 'Extract-Metadata',
      heartBeatDate: '2024-08-02T09:45:10.662Z',
    });
  });
});

describe('encodeDeadLetter', () => {
  it('copies the request, headers intact, and adds the exception headers the manager reads', () => {
    const original = delivery({
      headers: { ...managerHeaders, 'x-retries': 2, 'x-death-queue': 'q', 'x-death': [{}], custom: 'kept' },
      priority: 4,
    });
    const message = encodeDeadLetter(original, {
      message: 'failed after 3 attempts',
      stacktrace: 'Error: boom\n    at x',
    });
    if (message === undefined) throw new Error('no dead letter');
    expect(message.exchange).toBe('regards.worker.manager.request.dlq');
    expect(message.body).toBe(original.body);
    expect(message.priority).toBe(4);
    expect(message.headers).toEqual({
      ...managerHeaders,
      custom: 'kept',
      'x-exception-stacktrace': 'Error: boom\n    at x',
      'x-exception-message': 'failed after 3 attempts',
      'x-original-exchange': 'regards.worker.x.request',
      'x-original-routingKey': '#',
    });
  });
});

describe('encodeRetry', () => {
  it('sends a copy to the retry queue with the next attempt and the delay as its expiration', () => {
    const message = encodeRetry(delivery(), 'regards.worker.x.request.retry', 2, 4000);
    if (message === undefined) throw new Error('no retry copy');
    expect(message).toMatchObject({
      exchange: '',
      routingKey: 'regards.worker.x.request.retry',
      expiration: '4000',
      persistent: true,
      priority: 0,
    });
    expect(message.headers).toEqual({
      ...managerHeaders,
      'x-original-exchange': 'regards.worker.x.request',
      'x-original-routingKey': '#',
      [HEADER.attempt]: '2',
    });
  });

  it('keeps the first origin when a retried request is dead-lettered', () => {
    const retried = encodeRetry(delivery(), 'regards.worker.x.request.retry', 2, 10);
    const back = delivery({
      exchange: '',
      routingKey: 'regards.worker.x.request',
      headers: retried?.headers,
    });
    const dead = encodeDeadLetter(back, { message: 'm', stacktrace: 's' });
    expect(dead?.headers).toMatchObject({
      'x-original-exchange': 'regards.worker.x.request',
      'x-original-routingKey': '#',
    });
  });
});

describe('copies of a hostile request', () => {
  it('never keep an origin header longer than a name can be (found by the property suite)', () => {
    const hostile = delivery({ headers: { ...managerHeaders, 'x-original-exchange': 'v'.repeat(70_000) } });
    const dead = encodeDeadLetter(hostile, { message: 'm', stacktrace: 's' });
    expect(String(dead?.headers['x-original-exchange']).length).toBe(255);
  });
});

describe('a large content written into the response in place', () => {
  const content = new Uint8Array(RESPONSE_ROOM.from + 3).map((_, i) => i % 251);
  const expected = { status: 'SUCCESS', messages: [], content: Buffer.from(content).toString('base64') };

  it('is encoded with room around it, and the response is a view of that memory, not a copy', () => {
    const base64 = base64Bytes(content);
    const body = responseBytes({ status: 'SUCCESS', messages: [], contentBase64: base64 });
    expect(body.buffer).toBe(base64.buffer);
    expect(JSON.parse(Buffer.from(body).toString())).toEqual(expected);
  });

  it('is copied when the head does not fit the room, and reads the same', () => {
    const base64 = base64Bytes(content);
    const additionalHeaders = { big: 'h'.repeat(RESPONSE_ROOM.before) };
    const body = responseBytes({ status: 'SUCCESS', messages: [], contentBase64: base64, additionalHeaders });
    expect(body.buffer).not.toBe(base64.buffer);
    expect(JSON.parse(Buffer.from(body).toString())).toEqual({ ...expected, additionalHeaders });
  });

  it('gives a small content a memory of its own, which moves between threads without a copy', () => {
    const small = base64Bytes(new Uint8Array(10));
    expect([small.byteOffset, small.buffer.byteLength]).toEqual([0, small.byteLength]);
    expect(
      JSON.parse(
        Buffer.from(responseBytes({ status: 'SUCCESS', messages: [], contentBase64: small })).toString(),
      ).content,
    ).toBe(Buffer.alloc(10).toString('base64'));
  });
});
