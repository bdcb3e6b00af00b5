/**
 * The broker password from a file, and never shown: a user of the test's own, with a password of its
 * own, serves a request of each outcome with tracing on; neither the log, nor an answer or a dead-letter
 * (the error messages), nor the metrics, nor the exported spans, nor the health answers show it.
 */
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTraceReceiver, type TraceReceiver } from '../../cli/trace-receiver.ts';
import { DEAD_LETTER_QUEUE, RESPONSE_EXCHANGE } from '../../protocol/index.ts';
import { useTempDirs } from '../helpers/files.ts';
import { AMQP_URL, connectTestBroker, rabbitmqctl, type TestBroker, uniqueType } from './helpers/broker.ts';
import { buildBehave, healthPortOf, spawnHost } from './helpers/host.ts';

const tempDir = useTempDirs({ until: 'file' });
const user = `it-user-${randomUUID().slice(0, 8)}`;
const password = `it-secret-${randomUUID()}`;
const type = uniqueType('secret');
let broker: TestBroker;
let receiver: TraceReceiver;

beforeAll(async () => {
  receiver = await startTraceReceiver({ keepBodies: true });
  broker = await connectTestBroker();
  broker.forget(type);
  await rabbitmqctl('add_user', user, password);
  await rabbitmqctl('set_permissions', '-p', '/', user, '.*', '.*', '.*');
});
afterAll(async () => {
  await rabbitmqctl('delete_user', user).catch(() => undefined);
  await broker?.close();
  await receiver?.close();
});

describe('AMQP_PASSWORD_FILE', () => {
  it('connects with the password in the file and, after every outcome, shows it nowhere', async () => {
    const dir = await tempDir();
    const file = join(dir, 'password');
    await writeFile(file, `${password}\n`);
    const url = new URL(AMQP_URL);
    url.username = user;
    url.password = '';
    const responses = await broker.observe(RESPONSE_EXCHANGE);
    const deadLetters = await broker.observe(DEAD_LETTER_QUEUE, '');
    const child = spawnHost(await buildBehave(type), {
      AMQP_URL: url.toString(),
      AMQP_PASSWORD_FILE: file,
      WORKER_LOG_LEVEL: 'debug',
      WORKER_MAX_ATTEMPTS: '2',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_TRACES_SAMPLER: 'always_on',
    });
    const shown: string[] = [];
    try {
      const port = await healthPortOf(child);
      const actions = ['succeed', 'invalid', 'error', 'throw'];
      for (const action of actions)
        await broker.publishRequest(type, { requestId: `${type}-${action}`, body: { action } });
      const ours = (m: { headers: Record<string, unknown> }) =>
        String(m.headers['regards.request.id']).startsWith(`${type}-`);
      const answers = await responses.waitFor(
        (m) => ours(m) && (m.json as { status?: string })?.status !== 'RUNNING',
        3,
      );
      const [dead] = await deadLetters.waitFor(ours);
      expect(answers.map((m) => (m.json as { status: string }).status).sort()).toEqual([
        'ERROR',
        'INVALID_CONTENT',
        'SUCCESS',
      ]);
      expect(dead?.headers['x-exception-message']).toMatch(/failed after 2 attempts/);
      for (const message of [...answers, dead])
        shown.push(message?.body.toString('utf8') ?? '', JSON.stringify(message?.headers));
      for (const path of ['/readyz', '/livez', '/metrics'])
        shown.push(await (await fetch(`http://127.0.0.1:${port}${path}`)).text());
      expect(shown.at(-1)).toContain(
        `regards_worker_requests_settled_total{worker_type="${type}",outcome="error"} 1`,
      );
    } finally {
      child.process.kill('SIGTERM');
      await child.exited;
    }
    // Flushed at shutdown: the spans of every outcome, with their attributes and exceptions.
    expect(receiver.spans.filter((span) => span.name === `handle ${type}`).length).toBeGreaterThanOrEqual(4);
    shown.push(...receiver.bodies, child.output());
    expect(child.output()).toContain('"msg":"stopped"');
    for (const text of shown) expect(text).not.toContain(password);
  });

  it('a wrong password in the file: refused, said, and still not shown', async () => {
    const dir = await tempDir();
    const file = join(dir, 'password');
    const wrong = `${password}-wrong`;
    await writeFile(file, wrong);
    const url = new URL(AMQP_URL);
    url.username = user;
    const child = spawnHost(await buildBehave(type), { AMQP_URL: url.toString(), AMQP_PASSWORD_FILE: file });
    expect(await child.exited).toBe(3);
    expect(child.output()).toMatch(/ACCESS.REFUSED/);
    expect(child.output()).not.toContain(password);
  });
});
