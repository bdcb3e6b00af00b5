/**
 * Publishing RequestEvents as a requester does, reading the ResponseEvents of a request, and the
 * examples' two-step workflow configured under worker types of a test's own.
 */
import { type ManagerConfig, parseManagerConfig } from '../../../manager/config.ts';
import { WORKER_CONFIG_KEY, WORKFLOW_CONFIG_KEY } from '../../../manager/export.ts';
import { HEADER, REQUEST_EVENT_EXCHANGE } from '../../../protocol/index.ts';
import type { Observer, Received, TestBroker } from './broker.ts';

export interface RequesterRequest {
  requestId: string;
  contentType: string;
  body: unknown;
  owner?: string;
  session?: string;
}

export async function submit(broker: TestBroker, request: RequesterRequest): Promise<void> {
  await broker.publish(REQUEST_EVENT_EXCHANGE, '', Buffer.from(JSON.stringify(request.body)), {
    [HEADER.tenant]: 'PROJECT1',
    [HEADER.requestId]: request.requestId,
    [HEADER.contentType]: request.contentType,
    ...(request.owner === '' ? {} : { [HEADER.owner]: request.owner ?? 'it-owner' }),
    ...(request.session === '' ? {} : { [HEADER.session]: request.session ?? 'it-session' }),
  });
}

export interface ResponseEventSeen {
  state: string;
  messages: string[];
  requestId: string;
  content?: string;
  type: string;
  requestOwner: string;
}

/** Waits for the ResponseEvents of a request until one has a state in `until`. */
export async function eventsUntil(
  events: Observer,
  requestId: string,
  until: readonly string[],
  timeoutMs = 30_000,
): Promise<{ states: string[]; last: ResponseEventSeen | undefined; messages: Received[] }> {
  const mine = (m: Received) => m.headers[HEADER.requestId] === requestId;
  await events.waitFor((m) => mine(m) && until.includes((m.json as ResponseEventSeen).state), 1, timeoutMs);
  const messages = (await events.drain()).filter(mine);
  const bodies = messages.map((m) => m.json as ResponseEventSeen);
  return { states: bodies.map((b) => b.state), last: bodies.at(-1), messages };
}

/** extract-archive then extract-metadata, as `workflowType`, under the given worker types. */
export function exampleChainConfig(types: {
  archive: string;
  metadata: string;
  workflow: string;
}): ManagerConfig {
  return parseManagerConfig([
    {
      key: WORKER_CONFIG_KEY,
      value: {
        workerType: types.archive,
        contentTypeInputs: ['archive'],
        contentTypeOutput: 'extracted-files',
      },
    },
    {
      key: WORKER_CONFIG_KEY,
      value: {
        workerType: types.metadata,
        contentTypeInputs: ['extracted-files', 'product-file'],
        contentTypeOutput: 'geojson-update',
      },
    },
    {
      key: WORKFLOW_CONFIG_KEY,
      value: {
        workflowType: types.workflow,
        steps: [
          { stepNumber: 10, workerType: types.archive },
          { stepNumber: 20, workerType: types.metadata },
        ],
      },
    },
  ]);
}
