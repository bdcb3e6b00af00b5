/** The host's lifecycle without a broker: sessions, consumers, versions and the drain, through the ports. */
import { describe, expect, it, vi } from 'vitest';
import * as z from 'zod';
import type { ConsumerHandle, DeliveryPort, Publisher, Session } from '../../../adapter/broker/ports.ts';
import type { BundleSet } from '../../../adapter/bundles/set.ts';
import type { WorkerRuntime } from '../../../adapter/delivery/consumer.ts';
import { inlineExecutor } from '../../../adapter/execution/inline.ts';
import { type HostEvent, type HostState, transition } from '../../../adapter/host-states.ts';
import { HostLifecycle } from '../../../adapter/lifecycle.ts';
import { createLogger } from '../../../adapter/telemetry/log.ts';
import { NO_METRICS } from '../../../adapter/telemetry/metrics.ts';
import type { Delivery } from '../../../protocol/index.ts';
import { defineWorker, success } from '../../../sdk/index.ts';

const echo = inlineExecutor(
  defineWorker({
    type: 'unit',
    accepts: ['x'],
    input: z.object({}),
    handler: () => success({ content: '' }),
  }),
);

function worker(type: string, prefetch = 3, emits: string[] = []): WorkerRuntime {
  return {
    type,
    sha256: `${type}-sha`.padEnd(64, '0'),
    sdkVersion: '0.1.0',
    emits,
    executor: echo,
    timeoutMs: 1000,
    prefetch,
    policy: { maxAttempts: 1, backoffBaseMs: 10, backoffMaxMs: 10 },
    limits: {} as WorkerRuntime['limits'],
  };
}

/** A version of the bundles: counts the deliveries on it, retires once they are done. */
function version(...workers: WorkerRuntime[]) {
  let active = 0;
  let drained: () => void = () => undefined;
  const state = { closed: false, retired: false, entered: 0 };
  const set: BundleSet = {
    fingerprint: workers.map((w) => w.type).join('+'),
    workers: new Map(workers.map((w) => [w.type, w])),
    loaded: Promise.resolve(),
    broken: new Map<string, string>(),
    enter: () => {
      active += 1;
      state.entered += 1;
      return () => {
        active -= 1;
        if (active === 0) drained();
      };
    },
    retire: () => {
      state.retired = true;
      return active === 0 ? Promise.resolve() : new Promise<void>((resolve) => (drained = resolve));
    },
    close: async () => {
      state.closed = true;
    },
  };
  return { set, state };
}

type ConsumerOptions = Parameters<Session['openConsumer']>[0];
interface OpenedConsumer {
  readonly options: ConsumerOptions;
  cancelled: boolean;
  closed: boolean;
}

/** A session that records what is declared and consumed; `failDeclares` refuses that many declarations. */
function session(failDeclares = 0) {
  const declared: string[][] = [];
  const consumers: OpenedConsumer[] = [];
  const publisher: Publisher = { publish: async () => undefined };
  let refusals = failDeclares;
  const fake: Session = {
    declareTopology: async (types, kinds = []) => {
      if (refusals-- > 0) throw new Error('queue not declared');
      declared.push([...types, ...kinds.map((kind) => `event:${kind}`)]);
    },
    openPublisher: async () => publisher,
    openConsumer: async (options) => {
      const opened: OpenedConsumer = { options, cancelled: false, closed: false };
      consumers.push(opened);
      const handle: ConsumerHandle = {
        cancel: async () => {
          opened.cancelled = true;
        },
        close: async () => {
          opened.closed = true;
        },
      };
      return handle;
    },
  };
  /** The consumers of `queue` still consuming. */
  const on = (queue: string) => consumers.filter((c) => c.options.queue === queue && !c.cancelled);
  return { session: fake, declared, consumers, on };
}

const port: DeliveryPort = { publish: async () => undefined, ack: () => undefined, reject: () => undefined };
const delivery = (): Delivery => ({
  exchange: '',
  routingKey: '',
  body: new Uint8Array(),
  headers: {},
  redelivered: false,
});

/** A lifecycle whose handlers finish when the test says so. */
function lifecycle(first: BundleSet) {
  const handled: { worker: WorkerRuntime; stop: AbortSignal; finish: () => void }[] = [];
  const beats: { types: () => readonly string[]; stopped: boolean }[] = [];
  const counts = { reconnected: 0, serving: [] as string[][] };
  const host = new HostLifecycle({
    first,
    log: createLogger('error', () => undefined),
    metrics: {
      ...NO_METRICS,
      reconnected: () => {
        counts.reconnected += 1;
      },
      serving: (bundles) => void counts.serving.push(bundles.map((b) => b.type)),
    },
    reconnectMaxMs: 40,
    reopenMs: 10,
    startHeartbeats: (types) => {
      const beat = { types, stopped: false };
      beats.push(beat);
      return {
        stop: () => {
          beat.stopped = true;
        },
      };
    },
    handle: (w, _delivery, _port, stop) =>
      new Promise<void>((resolve) => handled.push({ worker: w, stop, finish: resolve })),
  });
  return { host, handled, beats, counts };
}

describe('the host lifecycle', () => {
  it('moves between its states as the table says, and refuses what a state cannot take', () => {
    const cases: [HostState, HostEvent, boolean, HostState | undefined][] = [
      ['connecting', 'connected', true, 'consuming'],
      ['consuming', 'disconnected', false, 'connecting'],
      ['consuming', 'swap', true, 'swapping'],
      ['swapping', 'swapped', true, 'consuming'],
      ['swapping', 'swapped', false, 'connecting'],
      ['swapping', 'stop', true, 'draining'],
      ['draining', 'swap', true, undefined],
      ['draining', 'connected', true, undefined],
      ['draining', 'stopped', false, 'stopped'],
      ['stopped', 'stop', false, undefined],
      ['stopped', 'connected', true, undefined],
    ];
    for (const [state, event, connected, expected] of cases)
      expect(transition(state, event, connected), `${state} --${event}-->`).toBe(expected);
    // A connection can drop in any state.
    for (const state of ['connecting', 'consuming', 'swapping', 'draining', 'stopped'] as const)
      expect(transition(state, 'disconnected', false)).toBeDefined();
  });

  it('on a session, declares and consumes each served type with its prefetch, heartbeats them, and is ready', async () => {
    const v1 = version(worker('a', 5, ['feature']), worker('b', 2));
    const { host, beats } = lifecycle(v1.set);
    const broker = session();
    expect(host.state).toBe('connecting');
    expect(host.isReady()).toBe(false);
    await host.connected(broker.session);
    expect(host.state).toBe('consuming');
    expect(broker.declared).toEqual([['a', 'b', 'event:feature']]);
    expect(broker.consumers.map((c) => [c.options.queue, c.options.prefetch])).toEqual([
      ['regards.worker.a.request', 5],
      ['regards.worker.b.request', 2],
    ]);
    expect(beats).toHaveLength(1);
    expect(beats[0]?.types()).toEqual(['a', 'b']);
    expect(host.isReady()).toBe(true);
  });

  it('on a lost connection: not ready, nothing consumed or heartbeated; the next session consumes again', async () => {
    const v1 = version(worker('a'));
    const { host, beats, counts } = lifecycle(v1.set);
    await host.connected(session().session);
    host.disconnected(new Error('connection reset'));
    expect(host.state).toBe('connecting');
    expect(host.isReady()).toBe(false);
    expect(host.consuming).toEqual([]);
    expect(beats[0]?.stopped).toBe(true);
    const second = session();
    await host.connected(second.session);
    expect(second.on('regards.worker.a.request')).toHaveLength(1);
    expect(counts.reconnected).toBe(1);
    expect(host.isReady()).toBe(true);
  });

  it('consumes again a type whose consumer the broker cancelled, retrying while its queue cannot be declared', async () => {
    const v1 = version(worker('a'));
    const { host } = lifecycle(v1.set);
    const broker = session();
    await host.connected(broker.session);
    const first = broker.consumers[0] as OpenedConsumer;
    first.cancelled = true;
    let refusals = 2;
    const declare = broker.session.declareTopology;
    broker.session.declareTopology = async (types, kinds) => {
      if (refusals-- > 0) throw new Error('queue not found');
      return declare(types, kinds);
    };
    first.options.onCancelled();
    expect(host.isReady()).toBe(false);
    await vi.waitFor(() => expect(broker.on('regards.worker.a.request')).toHaveLength(1), { timeout: 2000 });
    expect(refusals).toBe(-1);
    expect(host.isReady()).toBe(true);
  });

  it('reopens a consumer channel that closed, but not one closed by a connection that is gone', async () => {
    const v1 = version(worker('a'), worker('b'));
    const { host } = lifecycle(v1.set);
    const broker = session();
    await host.connected(broker.session);
    const [a, b] = broker.consumers as [OpenedConsumer, OpenedConsumer];
    a.cancelled = true;
    a.options.onClosed(new Error('consumer timeout'));
    await vi.waitFor(() => expect(broker.on('regards.worker.a.request')).toHaveLength(1));
    b.cancelled = true;
    b.options.onClosed(new Error('connection lost'));
    host.disconnected(new Error('connection lost'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(broker.on('regards.worker.b.request')).toHaveLength(0);
  });

  it('stops consuming a type whose bundle broke, and is not ready until a new version', async () => {
    const v1 = version(worker('a'), worker('b'));
    const { host, beats } = lifecycle(v1.set);
    const broker = session();
    await host.connected(broker.session);
    (v1.set.broken as Map<string, string>).set('a', 'changed on disk');
    host.broken(v1.set, 'a', 'changed on disk');
    expect(broker.consumers[0]?.cancelled).toBe(true);
    expect(beats[0]?.types()).toEqual(['b']);
    expect(host.isReady()).toBe(false);
    // A set no longer served has no say.
    host.broken(version(worker('b')).set, 'b', 'old news');
    expect(host.consuming).toEqual(['b']);
  });

  it('swaps versions: new types consumed, removed ones cancelled, in-flight work finishing on its own version', async () => {
    const v1 = version(worker('a'), worker('gone'));
    const { host, handled, counts } = lifecycle(v1.set);
    const broker = session();
    await host.connected(broker.session);
    const gone = broker.on('regards.worker.gone.request')[0] as OpenedConsumer;
    gone.options.onDelivery(delivery(), port);
    const v2 = version(worker('a'), worker('new'));
    await host.swap(v2.set);
    expect(host.state).toBe('consuming');
    expect(host.current).toBe(v2.set);
    expect(gone.cancelled).toBe(true);
    expect(counts.serving).toEqual([['a', 'new']]);
    await vi.waitFor(() => expect(broker.on('regards.worker.new.request')).toHaveLength(1));
    // The removed type's delivery runs on the old version, which retires only once it is done.
    expect(handled[0]?.worker).toBe(v1.set.workers.get('gone'));
    expect(v1.state.retired).toBe(true);
    expect(gone.closed).toBe(false);
    // A kept type's next delivery runs on the new version.
    (broker.on('regards.worker.a.request')[0] as OpenedConsumer).options.onDelivery(delivery(), port);
    expect(handled[1]?.worker).toBe(v2.set.workers.get('a'));
    expect(v2.state.entered).toBe(1);
    handled[0]?.finish();
    await vi.waitFor(() => expect(gone.closed).toBe(true));
    expect(host.isReady()).toBe(true);
  });

  it('a swap without a session ends connecting, and the next session consumes the new version', async () => {
    const { host } = lifecycle(version(worker('a')).set);
    await host.swap(version(worker('b')).set);
    expect(host.state).toBe('connecting');
    const broker = session();
    await host.connected(broker.session);
    expect(broker.declared).toEqual([['b']]);
    expect(broker.consumers.map((c) => c.options.queue)).toEqual(['regards.worker.b.request']);
  });

  it('drains: stops consuming and heartbeating, waits for in-flight work, then closes the consumers', async () => {
    const v1 = version(worker('a'));
    const { host, handled, beats } = lifecycle(v1.set);
    const broker = session();
    await host.connected(broker.session);
    const consumer = broker.consumers[0] as OpenedConsumer;
    consumer.options.onDelivery(delivery(), port);
    const draining = host.drain(5000);
    expect(host.state).toBe('draining');
    expect(host.isReady()).toBe(false);
    expect(beats[0]?.stopped).toBe(true);
    await vi.waitFor(() => expect(consumer.cancelled).toBe(true));
    expect(consumer.closed).toBe(false);
    handled[0]?.finish();
    await draining;
    expect(consumer.closed).toBe(true);
    expect(handled[0]?.stop.aborted).toBe(false);
    // What comes after the drain starts is refused: a session, a new version.
    const after = session();
    await host.connected(after.session);
    expect(after.declared).toEqual([]);
    expect(after.consumers).toEqual([]);
    const late = version(worker('b'));
    await host.swap(late.set);
    expect(late.state.closed).toBe(true);
    expect(host.current).toBe(v1.set);
    await host.close();
    expect(host.state).toBe('stopped');
    expect(v1.state.closed).toBe(true);
  });

  it('past the drain deadline, tells the unfinished handlers to stop and closes anyway', async () => {
    const { host, handled } = lifecycle(version(worker('a')).set);
    const broker = session();
    await host.connected(broker.session);
    broker.consumers[0]?.options.onDelivery(delivery(), port);
    await host.drain(20);
    expect(handled[0]?.stop.aborted).toBe(true);
    expect(host.inFlight).toBe(1);
    expect(broker.consumers[0]?.closed).toBe(true);
  });
});
