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
  retryQueueName,
} from '../protocol/index.ts';
import type { WorkerDefinition } from '../sdk/index.ts';
import type { DeliveryPort } from './amqp.ts';
import type { HostLogger } from './log.ts';
import { type Processed, processDelivery } from './process.ts';

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
  readonly contextHeaders?: (delivery: Delivery) => Readonly<Record<string, string>>;
}

export async function handleDelivery(
  worker: WorkerRuntime,
  delivery: Delivery,
  port: DeliveryPort,
  deps: ConsumeDeps,
): Promise<Ending> {
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
        port.publish(encodeResponse(request, { status: 'RUNNING', messages: [message] })),
      ...(deps.contextHeaders ? { contextHeaders: deps.contextHeaders(delivery) } : {}),
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
    log.warn('could not settle the delivery; it goes back to the queue', { error: (error as Error).message });
  }
  log.info('settled', {
    requestId: processed?.request?.requestId,
    outcome: ending,
    attempt: processed?.request?.attempt ?? 1,
    durationMs: Math.round(performance.now() - started),
    ...(processed?.decision.action === 'dead-letter' ? { reason: processed.decision.message } : {}),
  });
  return ending;
}

async function carryOut(
  worker: WorkerRuntime,
  delivery: Delivery,
  processed: Processed,
  port: DeliveryPort,
): Promise<void> {
  const { decision, request } = processed;
  switch (decision.action) {
    case 'reply': {
      if (request === undefined) throw new Error('a reply needs a decoded request');
      await Promise.all(
        processed.newRequests.map((r, i) => port.publish(encodeNewRequest(request, r, i + 1))),
      );
      await port.publish(encodeResponse(request, decision.response));
      return;
    }
    case 'retry':
      await port.publish(
        encodeRetry(delivery, retryQueueName(worker.type), decision.attempt, decision.delayMs),
      );
      return;
    case 'dead-letter':
      await port.publish(encodeDeadLetter(delivery, decision));
      return;
  }
}
