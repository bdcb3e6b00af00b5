/**
 * The broker password from a file, and never shown: a user of the test's own, with a password of its
 * own, serves a request; neither the log, nor an error, nor the health answers show the password.
 */
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESPONSE_EXCHANGE } from '../../protocol/index.ts';
import { useTempDirs } from '../helpers/files.ts';
import { AMQP_URL, connectTestBroker, rabbitmqctl, type TestBroker, uniqueType } from './helpers/broker.ts';
import { buildBehave, healthPortOf, spawnHost } from './helpers/host.ts';

const tempDir = useTempDirs({ until: 'file' });
const user = `it-user-${randomUUID().slice(0, 8)}`;
const password = `it-secret-${randomUUID()}`;
const type = uniqueType('secret');
let broker: TestBroker;

beforeAll(async () => {
  broker = await connectTestBroker();
  broker.forget(type);
  await rabbitmqctl('add_user', user, password);
  await rabbitmqctl('set_permissions', '-p', '/', user, '.*', '.*', '.*');
});
afterAll(async () => {
  await rabbitmqctl('delete_user', user).catch(() => undefined);
  await broker?.close();
});

describe('AMQP_PASSWORD_FILE', () => {
  it('connects with the password in the file, and shows it nowhere', async () => {
    const dir = await tempDir();
    const file = join(dir, 'password');
    await writeFile(file, `${password}\n`);
    const url = new URL(AMQP_URL);
    url.username = user;
    url.password = '';
    const responses = await broker.observe(RESPONSE_EXCHANGE);
    const child = spawnHost(await buildBehave(type), {
      AMQP_URL: url.toString(),
      AMQP_PASSWORD_FILE: file,
      WORKER_LOG_LEVEL: 'debug',
    });
    let health = '';
    try {
      const port = await healthPortOf(child);
      await broker.publishRequest(type, { requestId: `${type}-1`, body: { action: 'error' } });
      const [answer] = await responses.waitFor((m) => m.headers['regards.request.id'] === `${type}-1`);
      expect(answer?.json).toMatchObject({ status: 'ERROR' });
      for (const path of ['/readyz', '/livez'])
        health += await (await fetch(`http://127.0.0.1:${port}${path}`)).text();
    } finally {
      child.process.kill('SIGTERM');
      await child.exited;
    }
    expect(child.output()).toContain('"msg":"stopped"');
    expect(child.output()).not.toContain(password);
    expect(health).not.toContain(password);
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
