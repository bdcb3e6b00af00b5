/**
 * Running a handler on the host's own event loop (`isolation: 'inline'`): cheapest, but a handler
 * that burns CPU or never returns holds the host with it. At the time limit its ctx.signal is
 * aborted and it gets a grace to clean up; it cannot be stopped.
 */
import type { WorkerDefinition } from '../sdk/index.ts';
import { ABORT_GRACE_MS, delay, type Executor, thrown, timedOut } from './process.ts';
import { inHandlerSpan } from './tracing.ts';

/** `sha256`: the bundle's version, for the handle span. */
export function inlineExecutor(definition: WorkerDefinition, sha256 = ''): Executor {
  return {
    async execute(request, options) {
      const controller = new AbortController();
      const onStop = () => controller.abort(options.stop?.reason);
      options.stop?.addEventListener('abort', onStop, { once: true });
      const ctx = { signal: controller.signal, log: options.log, progress: options.progress };
      const limit = delay(options.timeoutMs);
      try {
        const running = inHandlerSpan({ type: definition.type, sha256 }, request.attempt, () =>
          definition.run(request, ctx),
        );
        // A handler still running after its time limit may reject later: that must not go unhandled.
        running.catch(() => undefined);
        const outcome = await Promise.race([running, limit.done.then(() => undefined)]);
        if (outcome !== undefined) return { kind: 'verdict', verdict: outcome };
        controller.abort(new Error(`time limit of ${options.timeoutMs} ms`));
        // Give it a moment to clean up after itself before the request goes elsewhere.
        const grace = delay(ABORT_GRACE_MS);
        await Promise.race([running.catch(() => undefined), grace.done]);
        grace.cancel();
        return timedOut(options.timeoutMs);
      } catch (cause) {
        return thrown(cause instanceof Error ? cause : new Error(`non-error thrown: ${safeString(cause)}`));
      } finally {
        limit.cancel();
        options.stop?.removeEventListener('abort', onStop);
      }
    },
  };
}

function safeString(value: unknown): string {
  try {
    return typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  } catch {
    return Object.prototype.toString.call(value);
  }
}
