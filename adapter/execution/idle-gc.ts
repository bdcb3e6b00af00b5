/**
 * Memory back after a burst: once the host has handled requests and then stayed idle for a while,
 * one full garbage collection runs. V8 otherwise keeps the old space a burst grew (large results,
 * say) until its next collection, which an idle host may not reach for a long time. Needs Node's
 * `--expose-gc` (the host's flags have it); without it this does nothing.
 */
export interface IdleGc {
  /** Call on every settled delivery. */
  busy(): void;
  stop(): void;
}

export function startIdleGc(options: {
  readonly idleMs: number;
  readonly inFlight: () => number;
  readonly collect?: (() => void) | undefined;
}): IdleGc {
  const collect = options.collect ?? (globalThis as { gc?: () => void }).gc;
  let worked = false;
  let lastWork = 0;
  const timer = setInterval(() => {
    if (!worked || options.inFlight() > 0 || Date.now() - lastWork < options.idleMs) return;
    worked = false;
    collect?.();
  }, options.idleMs / 2);
  timer.unref();
  return {
    busy() {
      worked = true;
      lastWork = Date.now();
    },
    stop: () => clearInterval(timer),
  };
}
