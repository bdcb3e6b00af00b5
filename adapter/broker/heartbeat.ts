/**
 * REGARDS heartbeats: one message per worker type every interval, telling the manager the type is
 * alive. Sent only while consuming; stopped before draining.
 */
import { encodeHeartbeat } from '../../protocol/index.ts';
import type { Logger } from '../../sdk/index.ts';
import type { Recorder } from '../telemetry/metrics.ts';
import type { Publisher } from './ports.ts';

export interface HeartbeatOptions {
  /** The types to announce now: those being consumed. */
  readonly types: () => readonly string[];
  readonly tenant: string;
  readonly instanceId: string;
  readonly intervalMs: number;
  readonly publisher: Publisher;
  readonly log: Logger;
  readonly metrics: Recorder;
  readonly now?: () => Date;
}

export interface Heartbeats {
  stop(): void;
}

export function startHeartbeats(options: HeartbeatOptions): Heartbeats {
  const now = options.now ?? (() => new Date());
  let failing = false;
  const beat = () => {
    for (const type of options.types()) {
      const message = encodeHeartbeat({
        instanceId: options.instanceId,
        type,
        tenant: options.tenant,
        date: now(),
      });
      // No manager listening is normal (heartbeats are not mandatory); a failure is logged once.
      options.publisher.publish(message, { mandatory: false }).then(
        () => {
          failing = false;
          options.metrics.heartbeat(type, 'sent');
        },
        (error: Error) => {
          options.metrics.heartbeat(type, 'failed');
          if (!failing) options.log.warn('heartbeat not sent', { workerType: type, error: error.message });
          failing = true;
        },
      );
    }
  };
  beat();
  const timer = setInterval(beat, options.intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
