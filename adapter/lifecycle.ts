/**
 * The host's life on the broker as one unit with explicit states (host-states.ts): which version it
 * serves, which of its types are consumed on the live session, what is in flight, and how a
 * reconnect, a new version and a stop move it from one state to the next. It sees RabbitMQ only
 * through the ports (broker/ports.ts), so it is tested without a broker; host.ts wires it to the real one.
 */
import { type Delivery, requestQueueName } from '../protocol/index.ts';
import type { Heartbeats } from './broker/heartbeat.ts';
import type { ConsumerHandle, DeliveryPort, Publisher, Session } from './broker/ports.ts';
import { type BundleSet, emittedBy } from './bundles/set.ts';
import type { WorkerRuntime } from './delivery/consumer.ts';
import { type HostEvent, type HostState, transition } from './host-states.ts';
import type { HostLogger } from './telemetry/log.ts';
import type { Recorder } from './telemetry/metrics.ts';

export interface LifecycleOptions {
  /** The version the host started with. */
  readonly first: BundleSet;
  readonly log: HostLogger;
  readonly metrics: Recorder;
  /** The longest wait between two attempts to consume a type again. */
  readonly reconnectMaxMs: number;
  /** The wait before a consumer the broker cancelled or closed is opened again. */
  readonly reopenMs: number;
  /** Heartbeats for the types `types()` names, on `publisher`, until stopped. */
  readonly startHeartbeats: (types: () => readonly string[], publisher: Publisher) => Heartbeats;
  /** Handles one delivery to its end (delivery/consumer.ts); `stop` is aborted at the drain deadline. */
  readonly handle: (
    worker: WorkerRuntime,
    delivery: Delivery,
    port: DeliveryPort,
    stop: AbortSignal,
  ) => Promise<unknown>;
  /** Told each time a delivery has finished. */
  readonly finished?: () => void;
}

export class HostLifecycle {
  #state: HostState = 'connecting';
  #current: BundleSet;
  /** Sets replaced by a newer version, closing once their last delivery has finished. */
  readonly #retiring = new Set<BundleSet>();
  readonly #consumers = new Map<string, ConsumerHandle>();
  readonly #inFlight = new Set<Promise<unknown>>();
  readonly #stop = new AbortController();
  /** Counts sessions: what was started for an earlier one stops acting once a new one exists. */
  #generation = 0;
  #session: Session | undefined;
  #heartbeats: Heartbeats | undefined;
  readonly #options: LifecycleOptions;

  constructor(options: LifecycleOptions) {
    this.#options = options;
    this.#current = options.first;
  }

  get state(): HostState {
    return this.#state;
  }

  /** The version being served. */
  get current(): BundleSet {
    return this.#current;
  }

  /** The types being consumed now. */
  get consuming(): readonly string[] {
    return [...this.#consumers.keys()];
  }

  get inFlight(): number {
    return this.#inFlight.size;
  }

  isReady(): boolean {
    return (
      this.#session !== undefined &&
      (this.#state === 'consuming' || this.#state === 'swapping') &&
      this.#current.broken.size === 0 &&
      this.#serving().every((type) => this.#consumers.has(type))
    );
  }

  /** A session is up (after every reconnect): declare, consume each type served, heartbeat. */
  async connected(session: Session): Promise<void> {
    const gen = ++this.#generation;
    if (!this.#accepts('connected')) return;
    const types = this.#serving();
    await session.declareTopology(types, emittedBy(this.#current));
    const publisher = await session.openPublisher();
    this.#session = session;
    this.#move('connected');
    this.#options.metrics.connected(true);
    if (gen > 1) this.#options.metrics.reconnected();
    // Each type's channel at once: opening one is a few round trips to the broker.
    await Promise.all(types.map((type) => this.#consume(session, type, gen)));
    this.#heartbeats?.stop();
    this.#heartbeats = this.#options.startHeartbeats(() => this.consuming, publisher);
    this.#options.log.info('consuming', { workerTypes: types });
  }

  /** The session is gone: every channel with it; in-flight deliveries will be redelivered. */
  disconnected(error: Error): void {
    this.#session = undefined;
    this.#move('disconnected');
    this.#options.metrics.connected(false);
    this.#heartbeats?.stop();
    this.#heartbeats = undefined;
    this.#consumers.clear();
    this.#options.log.warn('disconnected from the broker; in-flight requests will be redelivered', {
      error: error.message,
    });
  }

  /** A served type whose bundle changed on disk: said, no longer consumed, heartbeated or ready. */
  broken(set: BundleSet, type: string, reason: string): void {
    if (set !== this.#current) return;
    this.#options.metrics.versionRefused('changed');
    this.#options.log.error(
      'bundle changed since it was verified: this type is no longer served until a new version',
      {
        workerType: type,
        reason,
      },
    );
    const consumer = this.#consumers.get(type);
    this.#consumers.delete(type);
    void consumer?.cancel().catch(() => undefined);
  }

  /** A new version, already loaded: served from now on; the old one finishes what it started, then closes. */
  async swap(next: BundleSet): Promise<void> {
    if (!this.#accepts('swap')) return next.close();
    this.#move('swap');
    const old = this.#current;
    this.#current = next;
    const added = [...next.workers.keys()].filter((type) => !old.workers.has(type));
    const removed = [...old.workers.keys()].filter((type) => !next.workers.has(type));
    const leaving = removed.flatMap((type) => {
      const consumer = this.#consumers.get(type);
      this.#consumers.delete(type);
      return consumer === undefined ? [] : [consumer];
    });
    await Promise.all(leaving.map((consumer) => consumer.cancel()));
    const session = this.#session;
    if (session !== undefined) {
      // New types, and those the old version could no longer serve.
      for (const type of next.workers.keys())
        if (!this.#consumers.has(type)) this.#consumeAgain(session, type, this.#generation, 0);
    }
    this.#move('swapped');
    this.#options.metrics.serving([...next.workers.values()]);
    this.#options.log.info('bundles swapped', {
      workerTypes: [...next.workers.values()].map((w) => `${w.type}@${w.sha256.slice(0, 12)}`),
      added,
      removed,
    });
    this.#retiring.add(old);
    void old.retire().then(async () => {
      this.#retiring.delete(old);
      await Promise.all(leaving.map((consumer) => consumer.close()));
    });
  }

  /**
   * Stops consuming and heartbeating, and waits for what is in flight, at most `drainMs`: past it,
   * handlers are told to stop and what they finish is left unacked. Closes the consumers' channels.
   */
  async drain(drainMs: number): Promise<void> {
    if (!this.#accepts('stop')) return;
    this.#move('stop');
    this.#heartbeats?.stop();
    await Promise.all([...this.#consumers.values()].map((consumer) => consumer.cancel()));
    const pending = [...this.#inFlight];
    this.#options.log.info('draining', { inFlight: pending.length, drainMs });
    let timer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      Promise.allSettled(pending).then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), drainMs);
      }),
    ]);
    clearTimeout(timer);
    if (!drained) {
      this.#stop.abort(new Error('drain deadline passed'));
      this.#options.log.warn(
        'drain deadline passed; unfinished requests stay unacked and will be redelivered',
        {
          unfinished: this.#inFlight.size,
        },
      );
    }
    await Promise.all([...this.#consumers.values()].map((consumer) => consumer.close()));
  }

  /** Closes every version still open (what runs in them is abandoned). */
  async close(): Promise<void> {
    if (this.#state === 'stopped') return;
    if (this.#running()) this.#move('stop');
    await Promise.all([this.#current, ...this.#retiring].map((set) => set.close()));
    this.#move('stopped');
  }

  /** Not draining or stopped. */
  #running(): boolean {
    return this.#state !== 'draining' && this.#state !== 'stopped';
  }

  #accepts(event: HostEvent): boolean {
    return transition(this.#state, event, this.#session !== undefined) !== undefined;
  }

  #move(event: HostEvent): void {
    const next = transition(this.#state, event, this.#session !== undefined);
    if (next === undefined) throw new Error(`the host cannot take '${event}' while ${this.#state}`);
    this.#state = next;
  }

  /** The types the version being served can serve. */
  #serving(): string[] {
    return [...this.#current.workers.keys()].filter((type) => !this.#current.broken.has(type));
  }

  /** Whether what was started for session `gen` still has to act. */
  #live(gen: number): boolean {
    return this.#session !== undefined && gen === this.#generation && this.#running();
  }

  /** Declares the type's queue again and consumes, retrying with backoff until it works or the session ends. */
  #consumeAgain(session: Session, type: string, gen: number, delayMs: number): void {
    setTimeout(() => {
      if (!this.#live(gen) || this.#consumers.has(type) || !this.#serving().includes(type)) return;
      session
        .declareTopology([type], this.#current.workers.get(type)?.emits ?? [])
        .then(() => this.#consume(session, type, gen))
        .then(
          () => this.#options.log.info('consuming again', { workerType: type }),
          (error: Error) => {
            const retryInMs = Math.min(Math.max(delayMs, 100) * 2, this.#options.reconnectMaxMs);
            this.#options.log.warn('cannot consume yet; retrying', {
              workerType: type,
              error: error.message,
              retryInMs,
            });
            this.#consumeAgain(session, type, gen, retryInMs);
          },
        );
    }, delayMs).unref();
  }

  async #consume(session: Session, type: string, gen: number): Promise<void> {
    const openedWith = this.#current;
    const handle = await session.openConsumer({
      queue: requestQueueName(type),
      prefetch: (openedWith.workers.get(type) as WorkerRuntime).prefetch,
      onDelivery: (delivery, port) => this.#deliver(openedWith, type, delivery, port),
      onCancelled: () => {
        // Not consuming any more: no heartbeat for this type, /readyz says not ready, until it consumes again.
        if (this.#consumers.get(type) === handle) this.#consumers.delete(type);
        if (!this.#live(gen) || !this.#serving().includes(type)) return;
        this.#options.log.warn(
          'the broker cancelled the consumer (its queue was deleted or its node is down); consuming again',
          { workerType: type },
        );
        this.#consumeAgain(session, type, gen, this.#options.reopenMs);
      },
      onClosed: (error) => {
        if (this.#consumers.get(type) === handle) this.#consumers.delete(type);
        // A lost connection closes every channel before it is reported: decide once it would be.
        setTimeout(() => {
          if (!this.#live(gen) || this.#consumers.has(type) || !this.#serving().includes(type)) return;
          // A channel-level failure (a consumer timeout, say) takes down this type's channel only.
          this.#options.log.warn('consumer channel closed; reopening it', {
            workerType: type,
            error: error?.message,
          });
          this.#consumeAgain(session, type, gen, 0);
        }, this.#options.reopenMs).unref();
      },
    });
    this.#consumers.set(type, handle);
  }

  #deliver(openedWith: BundleSet, type: string, delivery: Delivery, port: DeliveryPort): void {
    // The version served now; a type just removed finishes with the version it was opened with.
    const set = this.#current.workers.has(type) ? this.#current : openedWith;
    const worker = set.workers.get(type) as WorkerRuntime;
    const leave = set.enter();
    const handling = this.#options.handle(worker, delivery, port, this.#stop.signal);
    this.#inFlight.add(handling);
    void handling.finally(() => {
      this.#inFlight.delete(handling);
      leave();
      this.#options.finished?.();
    });
  }
}
