/**
 * One delivery on the broker: process it, then carry the decision out in the transactional order
 * (new requests and the response confirmed first, then ack). A publish that fails hands the
 * delivery back to RabbitMQ; past the drain deadline nothing is published or acked.
 */
import {
  type Delivery,
  type Ending,
  encodeDeadLetter,
  encodeNewRequest,
  encodeResponse,
  encodeRetry,
  type RetryPolicy,
  requestQueueName,
  retryQueueName,
  withTraceContext,
} from '../protocol/index.ts';
import type { WorkerDefinition } from '../sdk/index.ts';
import type { DeliveryPort } from './amqp.ts';
import type { HostLogger } from './log.ts';
import { type Processed, processDelivery } from './process.ts';
import { inConsumerSpan, recordEnding, sendTraced } from './tracing.ts';

/** A loaded worker with its effective settings (the definition's own, else the host's defaults). */
export interface WorkerRuntime {
  readonly type: string;
  readonly definition: WorkerDefinition;
  readonly timeoutMs: number;
  readonly prefetch: number;
  readonly policy: RetryPolicy;
}

export interface ConsumeDeps {
  readonly log: HostLogger;
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
    let ending: Ending;
    try {
      processed = await processDelivery(worker.definition, delivery, {
        timeoutMs: worker.timeoutMs,
        policy: worker.policy,
        stop: deps.stop,
        log,
        progress: (request, message) =>
          sendTraced(
            request.requestId,
            () => encodeResponse(request, { status: 'RUNNING', messages: [message] }),
            port.publish,
          ),
      });
      ending = processed.decision.ending;
      if (deps.stop.aborted) {
        ending = 'abandoned';
      } else {
        await carryOut(worker, delivery, processed, port);
        port.ack();
      }
    } catch (error) {
      ending = deps.stop.aborted ? 'abandoned' : 'unconfirmed';
      if (!deps.stop.aborted) port.requeue();
      log.warn('could not settle the delivery; it goes back to the queue', {
        error: (error as Error).message,
      });
    }
    const requestId = processed?.request?.requestId;
    const attempt = processed?.request?.attempt ?? 1;
    const reason = processed?.decision.action === 'dead-letter' ? processed.decision.message : undefined;
    recordEnding(span, ending, { type: worker.type, attempt, requestId, reason });
    log.info('settled', {
      requestId,
      outcome: ending,
      attempt,
      durationMs: Math.round(performance.now() - started),
      ...(reason === undefined ? {} : { reason }),
    });
    return ending;
  });
}

async function carryOut(
  worker: WorkerRuntime,
  delivery: Delivery,
  processed: Processed,
  port: DeliveryPort,
): Promise<void> {
  const { decision, request } = processed;
  const requestId = request?.requestId;
  switch (decision.action) {
    case 'reply': {
      if (request === undefined) throw new Error('a reply needs a decoded request');
      await Promise.all(
        processed.newRequests.map((r, i) =>
          sendTraced(requestId, () => encodeNewRequest(request, r, i + 1), port.publish),
        ),
      );
      // The response carries its own publish's context to the next step, in additionalHeaders.
      await sendTraced(
        requestId,
        (traceHeaders) => encodeResponse(request, withTraceContext(decision.response, traceHeaders)),
        port.publish,
      );
      return;
    }
    case 'retry':
      await sendTraced(
        requestId,
        () => encodeRetry(delivery, retryQueueName(worker.type), decision.attempt, decision.delayMs),
        port.publish,
      );
      return;
    case 'dead-letter':
      await sendTraced(requestId, () => encodeDeadLetter(delivery, decision), port.publish);
      return;
  }
}
