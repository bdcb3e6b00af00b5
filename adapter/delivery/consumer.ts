/**
 * One delivery on the broker: process it, then carry the decision out in the transactional order
 * (new requests and the response confirmed first, then ack). An answer that cannot be published
 * becomes a failure (retried, then dead-lettered, naming why); a copy of the request that cannot be
 * published makes the delivery rejected onto regards.DLX. Nothing is ever requeued by the host, so
 * nothing loops; on a lost channel RabbitMQ redelivers. Past the drain deadline nothing is settled.
 */
import {
  type Decision,
  type Delivery,
  type Ending,
  encodeDeadLetter,
  encodeEvent,
  encodeNewRequest,
  encodeResponse,
  encodeRetry,
  eventRequestId,
  type Limits,
  type RetryPolicy,
  requestQueueName,
  retryQueueName,
  settle,
  withTraceContext,
} from '../../protocol/index.ts';
import { type DeliveryPort, PublishError } from '../broker/ports.ts';
import type { HostLogger } from '../telemetry/log.ts';
import type { Recorder } from '../telemetry/metrics.ts';
import { inConsumerSpan, recordEnding, sendTraced } from '../telemetry/tracing.ts';
import { ENDINGS } from './endings.ts';
import { type Executor, type Processed, processDelivery } from './process.ts';

/** A loaded worker with its effective settings (the definition's own, else the host's defaults). */
export interface WorkerRuntime {
  readonly type: string;
  /** The bundle's version, on the handle span and in the settle log line. */
  readonly sha256: string;
  /** The sdk version it was built with (the manifest's). */
  readonly sdkVersion: string;
  /** The kinds of event it sends (their exchanges are declared with its queues). */
  readonly emits: readonly string[];
  /** Runs its handler: inline, or in its pool of threads. */
  readonly executor: Executor;
  readonly timeoutMs: number;
  readonly prefetch: number;
  readonly policy: RetryPolicy;
  readonly limits: Limits;
}

export interface ConsumeDeps {
  readonly log: HostLogger;
  readonly metrics: Recorder;
  /** Aborted at the drain deadline: handlers see it, and what finishes later is left unacked. */
  readonly stop: AbortSignal;
}

export function handleDelivery(
  worker: WorkerRuntime,
  delivery: Delivery,
  port: DeliveryPort,
  deps: ConsumeDeps,
): Promise<Ending> {
  return inConsumerSpan(delivery, requestQueueName(worker.type), async (span) => {
    const started = performance.now();
    const log = deps.log.child({ workerType: worker.type });
    let processed: Processed | undefined;
    let settled: Settled;
    let handledMs = 0;
    deps.metrics.inFlight(worker.type, 1);
    try {
      processed = await processDelivery(worker.executor, delivery, {
        timeoutMs: worker.timeoutMs,
        policy: worker.policy,
        limits: worker.limits,
        stop: deps.stop,
        log,
        progress: (request, message) =>
          sendTraced(
            request.requestId,
            () => encodeResponse(request, { status: 'RUNNING', messages: [message] }),
            port.publish,
          ),
      });
      handledMs = performance.now() - started;
      settled = deps.stop.aborted
        ? { ending: 'abandoned', reason: 'drain deadline passed: left unacked for redelivery' }
        : await carryOut(worker, delivery, processed, port);
    } catch (error) {
      const reason = `could not settle: ${(error as Error).message}`;
      if (error instanceof PublishError && error.code === 'CHANNEL_CLOSED') {
        // Nothing can be settled on a lost channel: RabbitMQ redelivers the delivery.
        settled = { ending: 'unconfirmed', reason };
      } else {
        // A bug of ours: never left hanging, it reaches the DLQ through regards.DLX.
        port.reject();
        settled = { ending: 'rejected', reason };
      }
    }
    const requestId = processed?.request?.requestId;
    const attempt = processed?.request?.attempt ?? 1;
    recordEnding(span, settled.ending, { type: worker.type, attempt, requestId, reason: settled.reason });
    const fields = {
      requestId,
      bundleSha256: worker.sha256,
      outcome: settled.ending,
      attempt,
      durationMs: Math.round(performance.now() - started),
      ...(settled.reason === undefined ? {} : { reason: settled.reason }),
      ...(settled.eventRequestIds === undefined ? {} : { eventRequestIds: settled.eventRequestIds }),
      // Where a handler failed (its source's file and line, through the bundle's source map).
      ...(processed?.happening.kind === 'failure' ? { stack: processed.happening.stacktrace } : {}),
    };
    log[ENDINGS[settled.ending].level]('settled', fields);
    deps.metrics.inFlight(worker.type, -1);
    deps.metrics.settled(worker.type, settled.ending, handledMs / 1000);
    return settled.ending;
  });
}

interface Settled {
  readonly ending: Ending;
  readonly reason?: string | undefined;
  /** The request ids of the events it sent (each derived from the request's), for an operator to follow. */
  readonly eventRequestIds?: readonly string[];
}

/**
 * Publishes what the decision says, then acks. A reply that cannot be published is settled again
 * as a failure; a copy of the request that cannot be published makes the delivery rejected.
 */
async function carryOut(
  worker: WorkerRuntime,
  delivery: Delivery,
  processed: Processed,
  port: DeliveryPort,
): Promise<Settled> {
  const { decision, request } = processed;
  try {
    await publishDecision(worker, delivery, processed, decision, port);
    port.ack();
    if (decision.action !== 'reply' || decision.events.length === 0 || request === undefined)
      return { ending: decision.ending, reason: reasonOf(decision) };
    const eventRequestIds = decision.events.map((_, i) => eventRequestId(request.requestId, i + 1));
    return { ending: decision.ending, reason: reasonOf(decision), eventRequestIds };
  } catch (error) {
    if (!(error instanceof PublishError) || error.code === 'CHANNEL_CLOSED') throw error;
    if (decision.action !== 'reply' || request === undefined) {
      port.reject();
      return { ending: 'rejected', reason: `${reasonOf(decision)}; its copy was refused (${error.message})` };
    }
    const failure = settle(
      { kind: 'failure', cause: 'not-published', message: error.message, stacktrace: error.message },
      request.attempt,
      worker.policy,
      worker.limits,
    );
    return carryOut(worker, delivery, { ...processed, decision: failure }, port);
  }
}

function reasonOf(decision: Decision): string | undefined {
  if (decision.action === 'retry') return decision.reason;
  if (decision.action === 'dead-letter') return decision.message;
  return decision.ending === 'success' ? undefined : decision.response.messages.join('; ');
}

async function publishDecision(
  worker: WorkerRuntime,
  delivery: Delivery,
  processed: Processed,
  decision: Decision,
  port: DeliveryPort,
): Promise<void> {
  const { request } = processed;
  const requestId = request?.requestId;
  switch (decision.action) {
    case 'reply': {
      if (request === undefined) throw new Error('a reply needs a decoded request');
      // Events to other services first (each confirmed and routed: no listener is a failure), then new
      // requests, then the response; the ack comes after all of them.
      // Most replies carry neither: no date, no extra turns of the event loop for them.
      if (decision.events.length > 0) {
        const now = new Date();
        await Promise.all(
          decision.events.map((event, i) =>
            sendTraced(requestId, () => encodeEvent(request, event, i + 1, now), port.publish),
          ),
        );
      }
      if (decision.requests.length > 0) {
        await Promise.all(
          decision.requests.map((newRequest, i) =>
            sendTraced(requestId, () => encodeNewRequest(request, newRequest, i + 1), port.publish),
          ),
        );
      }
      // The response carries its own publish's context to the next step, in additionalHeaders.
      await sendTraced(
        requestId,
        (traceHeaders) => encodeResponse(request, withTraceContext(decision.response, traceHeaders)),
        port.publish,
      );
      return;
    }
    case 'retry': {
      const copy = encodeRetry(delivery, retryQueueName(worker.type), decision.attempt, decision.delayMs);
      await sendTraced(requestId, () => copy ?? tooLargeToCopy(), port.publish);
      return;
    }
    case 'dead-letter': {
      const copy = encodeDeadLetter(delivery, decision);
      await sendTraced(requestId, () => copy ?? tooLargeToCopy(), port.publish);
      return;
    }
  }
}

function tooLargeToCopy(): never {
  throw new PublishError('REFUSED', 'the headers it must keep do not fit in a message');
}
