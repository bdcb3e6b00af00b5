import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Host } from '../../adapter/host.ts';
import { createLogger } from '../../adapter/telemetry/log.ts';
import { parseManagerConfig } from '../../manager/config.ts';
import { type LocalManager, startLocalManager } from '../../manager/manager.ts';
import { RESPONSE_EVENT_EXCHANGE } from '../../protocol/index.ts';
import { useTempDirs } from '../helpers/files.ts';
import { AMQP_URL, connectTestBroker, type Observer, type TestBroker, uniqueType } from './helpers/broker.ts';
import { buildBehave, ROOT, startTestHost, waitUntil } from './helpers/host.ts';
import { eventsUntil, submit } from './helpers/manager.ts';

// Two worker types from the behave fixture, a workflow through both, and one type nobody runs yet.
const tempDir = useTempDirs();
const first = uniqueType('first');
const second = uniqueType('second');
const late = uniqueType('late');
const workflow = uniqueType('flow');

let broker: TestBroker;
let manager: LocalManager;
let host: Host;
let events: Observer;
let lateBundles: string;
const managerLines: string[] = [];
let counter = 0;

beforeAll(async () => {
  broker = await connectTestBroker();
  for (const type of [first, second, late]) broker.forget(type);
  manager = await startLocalManager({
    url: AMQP_URL,
    log: createLogger('info', (line) => managerLines.push(line)),
    config: parseManagerConfig({
      workers: [
        { workerType: first, contentTypeInputs: [`${first}-in`], contentTypeOutput: 'behaved' },
        { workerType: second, contentTypeInputs: ['behaved'], contentTypeOutput: 'behaved' },
        { workerType: late, contentTypeInputs: [`${late}-in`] },
      ],
      workflows: [
        {
          workflowType: workflow,
          steps: [
            { stepNumber: 1, workerType: first },
            { stepNumber: 2, workerType: second },
          ],
        },
      ],
    }),
  });
  events = await broker.observe(RESPONSE_EVENT_EXCHANGE, '');
  const [bundles, lateBuilt] = await Promise.all([buildBehave(first, second), buildBehave(late)]);
  lateBundles = lateBuilt;
  host = await startTestHost(bundles, { WORKER_MAX_ATTEMPTS: '1' });
  await waitUntil(
    () => manager.state.isAlive(first, Date.now()) && manager.state.isAlive(second, Date.now()),
    10_000,
    'heartbeats',
  );
});

afterAll(async () => {
  await host?.stop();
  await manager?.stop();
  await broker?.close();
});

async function run(contentType: string, body: unknown, extra: { owner?: string; session?: string } = {}) {
  counter += 1;
  const requestId = `${contentType}-${counter}`;
  await submit(broker, { requestId, contentType, body, ...extra });
  return {
    requestId,
    ...(await eventsUntil(events, requestId, ['SUCCESS', 'ERROR', 'INVALID_CONTENT', 'SKIPPED'])),
  };
}

describe('the local manager, for each worker response', () => {
  it('SUCCESS of a single worker: GRANTED, then SUCCESS with the content', async () => {
    const { states, last } = await run(`${first}-in`, { action: 'succeed', content: 'done' });
    expect(states).toEqual(['GRANTED', 'SUCCESS']);
    expect(Buffer.from(last?.content ?? '', 'base64').toString()).toBe('done');
  });

  it('INVALID_CONTENT and ERROR are forwarded with their messages', async () => {
    expect((await run(`${first}-in`, { action: 'invalid' })).last).toMatchObject({
      state: 'INVALID_CONTENT',
      messages: ['not acceptable'],
    });
    expect((await run(`${first}-in`, { action: 'error' })).last).toMatchObject({
      state: 'ERROR',
      messages: ['known failure', 'second line'],
    });
  });

  it('a workflow runs its steps in order, the content becoming the next body, GRANTED at every step', async () => {
    // Step one answers with the body of step two.
    const { states, last } = await run(workflow, {
      action: 'succeed',
      content: JSON.stringify({ action: 'succeed', content: 'end' }),
    });
    expect(states).toEqual(['GRANTED', 'GRANTED', 'SUCCESS']);
    expect(Buffer.from(last?.content ?? '', 'base64').toString()).toBe('end');
  });

  it('an intermediate step that succeeds without content fails the request', async () => {
    const { states, last } = await run(workflow, { action: 'empty' });
    expect(states).toEqual(['GRANTED', 'ERROR']);
    expect(last?.messages[0]).toMatch(/answered SUCCESS without content for step 1/);
  });

  it('a dead-lettered request becomes ERROR with the stack trace, and the requester is not told', async () => {
    counter += 1;
    const requestId = `${first}-dead-${counter}`;
    await submit(broker, { requestId, contentType: `${first}-in`, body: { action: 'throw' } });
    await waitUntil(
      () => manager.state.requests.get(requestId)?.state === 'ERROR',
      15_000,
      'the request to become ERROR',
    );
    expect(manager.state.requests.get(requestId)?.messages[0]).toMatch(/^Error: thrown on attempt 1\n\s+at /);
    const seen = await events.waitFor((m) => m.headers['regards.request.id'] === requestId, 2, 500);
    expect(seen.map((m) => (m.json as { state: string }).state)).toEqual(['GRANTED']);
  });

  it('SKIPPED for a missing owner, a duplicate id, or a content type nobody serves', async () => {
    expect((await run(`${first}-in`, { action: 'succeed' }, { owner: '' })).last).toMatchObject({
      state: 'SKIPPED',
      messages: ['missing owner'],
    });
    expect((await run('nobody-serves-this', {})).last).toMatchObject({ state: 'SKIPPED' });
    const requestId = `${first}-dup`;
    await submit(broker, { requestId, contentType: `${first}-in`, body: { action: 'sleep', ms: 300 } });
    await submit(broker, { requestId, contentType: `${first}-in`, body: { action: 'succeed' } });
    const { states } = await eventsUntil(events, requestId, ['SUCCESS']);
    expect(states).toContain('SKIPPED');
    expect(states.filter((s) => s === 'SUCCESS')).toHaveLength(1);
  });
});

describe('no worker alive', () => {
  it('holds the request as DELAYED, then dispatches it when a heartbeat of the type arrives', async () => {
    const requestId = `${late}-1`;
    await submit(broker, {
      requestId,
      contentType: `${late}-in`,
      body: { action: 'succeed', content: 'finally' },
    });
    const delayed = await eventsUntil(events, requestId, ['DELAYED'], 10_000);
    expect(delayed.states).toEqual(['DELAYED']);
    expect(manager.state.requests.get(requestId)?.state).toBe('DELAYED');
    const lateHost = await startTestHost(lateBundles);
    try {
      const { states, last } = await eventsUntil(events, requestId, ['SUCCESS']);
      expect(states).toEqual(['DELAYED', 'GRANTED', 'SUCCESS']);
      expect(Buffer.from(last?.content ?? '', 'base64').toString()).toBe('finally');
    } finally {
      await lateHost.stop();
    }
  });
});

describe('regards-worker send', () => {
  /** `send` with a body; its exit code, and its standard output and error. */
  const send = async (value: unknown) => {
    const body = join(await tempDir(), 'send.json');
    await writeFile(body, JSON.stringify(value));
    return promisify(execFile)(
      process.execPath,
      [join(ROOT, 'cli/main.ts'), 'send', '--content-type', `${first}-in`, '--body', body, '--timeout', '20'],
      { env: { PATH: process.env.PATH ?? '', AMQP_URL } },
    ).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
  };
  const eventsOf = (stdout: string) =>
    stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));

  it('publishes a RequestEvent, prints its ResponseEvents, and exits 0 on SUCCESS', async () => {
    const { code, stdout } = await send({ action: 'succeed', content: 'via send' });
    expect(code).toBe(0);
    const events = eventsOf(stdout);
    expect(events.map((e) => e.state)).toEqual(['GRANTED', 'SUCCESS']);
    expect(events[1]).toMatchObject({ workerType: first, decodedContent: 'via send' });
  });

  it("shows the worker's RUNNING progress, which the manager tells no requester", async () => {
    const { code, stdout } = await send({ action: 'progress', content: 'step one' });
    expect(code).toBe(0);
    const events = eventsOf(stdout);
    // The worker's RUNNING and the manager's GRANTED come from two processes: either may be first.
    const states = events.map((e) => e.state);
    expect(states.filter((state) => state !== 'RUNNING')).toEqual(['GRANTED', 'SUCCESS']);
    expect(states.indexOf('RUNNING')).toBeLessThan(states.indexOf('SUCCESS'));
    expect(events.find((e) => e.state === 'RUNNING')).toMatchObject({
      observed: 'worker',
      messages: ['working on step one'],
    });
    // The local manager's log says it too.
    expect(managerLines.some((line) => /"msg":"RUNNING".*working on step one/.test(line))).toBe(true);
  });

  it('follows the requests its worker issues until they end too', async () => {
    const fanned = await send({ action: 'fan-out', content: `${first}-in` });
    expect(fanned.code).toBe(0);
    const events = eventsOf(fanned.stdout);
    // The manager's GRANTED and the worker's new requests come from two processes: either may be first.
    const root = events.map((e) => String(e.requestId)).sort((a, b) => a.length - b.length)[0];
    const children = events.filter((e) => e.observed === 'request').map((e) => e.requestId);
    expect(children.sort()).toEqual([`${root}-1`, `${root}-2`]);
    for (const child of children)
      expect(events.filter((e) => e.requestId === child).map((e) => e.state)).toEqual([
        'ISSUED',
        'GRANTED',
        'SUCCESS',
      ]);
    expect(events.filter((e) => e.requestId === root && !e.observed).map((e) => e.state)).toEqual([
      'GRANTED',
      'SUCCESS',
    ]);
  });

  it("says ERROR with the worker's reason when the request is dead-lettered, instead of waiting for nothing", async () => {
    const { code, stdout, stderr } = await send({ action: 'throw' });
    expect(code).toBe(3);
    // The final line, whether or not the manager's GRANTED came before it (a dead-letter may overtake it).
    const final = eventsOf(stdout).at(-1);
    expect(final).toMatchObject({ state: 'ERROR', observed: 'dead-letter' });
    expect(final.messages[0]).toMatch(/thrown on attempt 1/);
    expect(stderr).toMatch(/the request was dead-lettered: the manager marks it ERROR .*thrown on attempt 1/);
    expect(stderr).not.toContain('is a manager running');
  });
});
