/**
 * The local Worker Manager on RabbitMQ: for development and tests, never a production manager.
 * It takes RequestEvents, heartbeats, worker responses and dead-lettered requests, and publishes
 * dispatches and ResponseEvents as ManagerState decides. It also stands in for REGARDS' feature
 * manager (rs-fem): it takes the feature updates workers send, and logs a line for each, saying whether
 * rs-fem would store it (rs-fem-stand-in.ts, against the models it is given).
 */
import { randomUUID } from 'node:crypto';
import * as amqp from 'amqplib';
import {
  DEAD_LETTER_QUEUE,
  type Delivery,
  deliveryOf,
  eventExchange,
  FEATURE_UPDATE_EVENT,
  HEADER,
  HEARTBEAT_EXCHANGE,
  managerTopology,
  type OutgoingMessage,
  REQUEST_EVENT_EXCHANGE,
  RESPONSE_EVENT_EXCHANGE,
  RESPONSE_EXCHANGE,
  requestTopology,
  type Topology,
} from '../protocol/index.ts';
import type { Logger } from '../sdk/index.ts';
import type { ManagerConfig } from './config.ts';
import type { RegardsModel } from './regards-model.ts';
import { RsFemStandIn, type Verdict } from './rs-fem-stand-in.ts';
import { type Effect, ManagerState } from './state.ts';

export interface LocalManager {
  readonly state: ManagerState;
  stop(): Promise<void>;
}

export async function startLocalManager(options: {
  url: string;
  config: ManagerConfig;
  log: Logger;
  now?: () => number;
  /** The tenant's REGARDS models, against which feature updates are checked as rs-fem would. */
  models?: readonly RegardsModel[];
  /** Each feature update a worker sent (the manager standing in for rs-fem), and what rs-fem would do. */
  onFeatureUpdate?: (update: { requestId: string; body: unknown; verdict: Verdict }) => void;
}): Promise<LocalManager> {
  const { log } = options;
  const now = options.now ?? Date.now;
  const state = new ManagerState(options.config);
  const connection = await amqp.connect(options.url, { noDelay: true });
  connection.on('error', (error: Error) =>
    log.warn('local manager connection error', { error: error.message }),
  );
  const channel = await connection.createConfirmChannel();
  channel.on('error', (error: Error) => log.warn('local manager channel error', { error: error.message }));
  await declare(channel, managerTopology());

  const apply = effectsApplier(channel, log);

  const instance = randomUUID().slice(0, 8);
  const consumers: string[] = [];
  // One message at a time across all queues, in arrival order: the state is one in-memory registry,
  // and a dispatch's GRANTED must go out before the worker's answer to it is handled.
  let chain = Promise.resolve();
  const listen = async (
    queue: string,
    handle: (delivery: Delivery, at: number) => Effect[],
    bind?: { exchange: string; key: string },
  ) => {
    if (bind !== undefined) {
      await channel.assertQueue(queue, { exclusive: true, autoDelete: true });
      await channel.bindQueue(queue, bind.exchange, bind.key);
    }
    const { consumerTag } = await channel.consume(queue, (message) => {
      if (message === null) return;
      chain = chain
        .then(() => apply(handle(deliveryOf(message), now())))
        .then(
          () => channel.ack(message),
          (error: Error) => {
            log.error('local manager could not handle a message', { queue, error: error.message });
            channel.nack(message, false, false);
          },
        );
    });
    consumers.push(consumerTag);
  };
  await listen(`regards-worker.local-manager.${instance}.requests`, (d, at) => state.onRequestEvent(d, at), {
    exchange: REQUEST_EVENT_EXCHANGE,
    key: '',
  });
  await listen(`regards-worker.local-manager.${instance}.heartbeats`, (d, at) => state.onHeartbeat(d, at), {
    exchange: HEARTBEAT_EXCHANGE,
    key: '#',
  });
  await listen(
    `regards-worker.local-manager.${instance}.responses`,
    (d, at) => {
      logProgress(log, d);
      return state.onWorkerResponse(d, at);
    },
    {
      exchange: RESPONSE_EXCHANGE,
      key: '#',
    },
  );
  await listen(DEAD_LETTER_QUEUE, (d) => {
    const effects = state.onDeadLetter(d);
    log.warn('dead-lettered request marked ERROR', {
      requestId: d.headers?.[HEADER.requestId],
      reason: d.headers?.[HEADER.exceptionMessage] ?? d.headers?.[HEADER.exceptionStacktrace],
    });
    return effects;
  });
  // Standing in for rs-fem: without a listener, a worker's feature updates would be unroutable.
  const fem = new RsFemStandIn(options.models);
  await channel.assertExchange(eventExchange(FEATURE_UPDATE_EVENT), 'fanout', { durable: true });
  await listen(
    `regards-worker.local-manager.${instance}.feature-updates`,
    featureUpdates(fem, log, options.onFeatureUpdate),
    { exchange: eventExchange(FEATURE_UPDATE_EVENT), key: '' },
  );
  log.info('local Worker Manager started (development only, not a production manager)', {
    workers: options.config.workers.map((w) => w.workerType),
    workflows: options.config.workflows.map((w) => w.workflowType),
  });

  return {
    state,
    async stop() {
      for (const tag of consumers) await channel.cancel(tag).catch(() => undefined);
      await connection.close().catch(() => undefined);
    },
  };
}

async function declare(channel: amqp.Channel, topology: Topology): Promise<void> {
  for (const { name, type } of topology.exchanges)
    await channel.assertExchange(name, type, { durable: true });
  for (const { name, arguments: args } of topology.queues)
    await channel.assertQueue(name, { durable: true, arguments: args });
  for (const { queue, exchange, key } of topology.bindings) await channel.bindQueue(queue, exchange, key);
}

function publish(channel: amqp.ConfirmChannel, message: OutgoingMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    channel.publish(
      message.exchange,
      message.routingKey,
      Buffer.from(message.body),
      {
        headers: message.headers,
        persistent: message.persistent,
        ...(message.contentType === undefined ? {} : { contentType: message.contentType }),
        ...(message.priority === undefined ? {} : { priority: message.priority }),
      },
      (error: unknown) => (error ? reject(new Error(`not confirmed: ${message.exchange}`)) : resolve()),
    );
  });
}

/** Carries out the state's effects on `channel`: queues declared once each, messages published. */
function effectsApplier(
  channel: amqp.ConfirmChannel,
  log: Logger,
): (effects: readonly Effect[]) => Promise<void> {
  const declared = new Set<string>();
  return async (effects) => {
    for (const effect of effects) {
      if (effect.kind === 'declare') {
        if (declared.has(effect.workerType)) continue;
        await declare(channel, requestTopology(effect.workerType));
        declared.add(effect.workerType);
      } else {
        await publish(channel, effect.message);
        if (effect.message.exchange === RESPONSE_EVENT_EXCHANGE) {
          log.info('ResponseEvent', {
            ...effect.message.headers,
            body: JSON.parse(Buffer.from(effect.message.body).toString()),
          });
        }
      }
    }
  };
}

/** A worker's RUNNING response (ctx.progress): the manager tells no requester, but says it here. */
function logProgress(log: Logger, delivery: Delivery): void {
  try {
    const response = JSON.parse(new TextDecoder().decode(delivery.body)) as {
      status?: unknown;
      messages?: unknown;
    };
    if (response.status === 'RUNNING')
      log.info('RUNNING', {
        requestId: delivery.headers?.[HEADER.requestId],
        workerType: delivery.headers?.[HEADER.workerId],
        messages: response.messages,
      });
  } catch {}
}

/** Standing in for rs-fem: each feature update a worker sent, said with what rs-fem would do with it. */
function featureUpdates(
  fem: RsFemStandIn,
  log: Logger,
  onFeatureUpdate: ((update: { requestId: string; body: unknown; verdict: Verdict }) => void) | undefined,
): (d: Delivery) => Effect[] {
  return (d) => {
    const requestId = String(d.headers?.[HEADER.requestId] ?? '');
    let body: unknown;
    try {
      body = JSON.parse(new TextDecoder().decode(d.body));
    } catch {}
    const feature = (body as { feature?: { urn?: unknown; properties?: unknown } } | undefined)?.feature;
    const verdict = fem.receive(requestId, body);
    const fields = {
      requestId,
      urn: feature?.urn,
      properties: feature?.properties,
      rsFem: verdict.verdict,
    };
    if (verdict.verdict === 'refused')
      log.warn('FeatureUpdateRequestEvent rs-fem would refuse', { ...fields, problems: verdict.problems });
    else log.info('FeatureUpdateRequestEvent', fields);
    onFeatureUpdate?.({ requestId, body, verdict });
    return [];
  };
}
