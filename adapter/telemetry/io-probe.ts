/**
 * Liveness of the process's file-system pool: a tiny file operation runs every interval and must
 * finish within a deadline. Handlers that block its threads for good (opening a FIFO, a hung network
 * mount) leave every later file operation waiting; the event loop still answers, so only this
 * probe tells that the host is no longer alive.
 */
import { stat } from 'node:fs/promises';

export interface IoProbe {
  /** Why file I/O is considered stalled, or undefined while it answers. */
  stalled(): string | undefined;
  stop(): void;
}

export interface IoProbeOptions {
  readonly deadlineMs: number;
  readonly intervalMs?: number;
  /** The operation: by default a stat of this process's own executable, served by the pool. */
  readonly probe?: () => Promise<unknown>;
  readonly now?: () => number;
}

export function startIoProbe(options: IoProbeOptions): IoProbe {
  const now = options.now ?? Date.now;
  const probe = options.probe ?? (() => stat(process.execPath));
  let pendingSince: number | undefined;
  const tick = () => {
    if (pendingSince !== undefined) return; // the last one has not come back: never pile up
    pendingSince = now();
    // An error is an answer too: the pool ran it.
    probe()
      .catch(() => undefined)
      .finally(() => {
        pendingSince = undefined;
      });
  };
  tick();
  const timer = setInterval(tick, options.intervalMs ?? Math.min(1_000, options.deadlineMs / 2));
  timer.unref();
  return {
    stalled() {
      if (pendingSince === undefined) return undefined;
      const waited = now() - pendingSince;
      if (waited <= options.deadlineMs) return undefined;
      return `file I/O has not answered for ${(waited / 1000).toFixed(1)} s: the threads of the file-system pool are blocked`;
    },
    stop: () => clearInterval(timer),
  };
}
