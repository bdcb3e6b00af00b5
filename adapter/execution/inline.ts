/**
 * Running a handler on the host's own event loop (`isolation: 'inline'`): cheapest, but a handler
 * that burns CPU or never returns holds the host with it. At the time limit its ctx.signal is
 * aborted and it gets a grace to clean up; it cannot be stopped.
 */
import type { WorkerDefinition } from '../../sdk/index.ts';
import { type Executor, thrown, timedOut, underTimeLimit } from '../delivery/process.ts';
import { inHandlerSpan } from '../telemetry/tracing.ts';
import { thrownError } from './thrown.ts';

/** `sha256`: the bundle's version, for the handle span. */
export function inlineExecutor(definition: WorkerDefinition, sha256 = ''): Executor {
  return {
    async execute(request, options) {
      const controller = new AbortController();
      const onStop = () => controller.abort(options.stop?.reason);
      options.stop?.addEventListener('abort', onStop, { once: true });
      const ctx = { signal: controller.signal, log: options.log, progress: options.progress };
      try {
        const running = inHandlerSpan({ type: definition.type, sha256 }, request.attempt, () =>
          definition.run(request, ctx),
        );
        // Past the limit its signal is aborted, and it has a moment to clean up after itself.
        const run = await underTimeLimit(running, options.timeoutMs, () =>
          controller.abort(new Error(`time limit of ${options.timeoutMs} ms`)),
        );
        return 'ended' in run ? { kind: 'verdict', verdict: run.ended } : timedOut(options.timeoutMs);
      } catch (cause) {
        return thrown(thrownError(cause));
      } finally {
        options.stop?.removeEventListener('abort', onStop);
      }
    },
  };
}
