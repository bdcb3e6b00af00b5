/** The manager's side of the protocol: dispatching a request to a worker type, and ResponseEvents. */
import { jsonBytes, type OutgoingMessage } from './message.ts';
import { HEADER, JSON_CONTENT_TYPE, RESPONSE_EVENT_EXCHANGE, requestQueueName } from './names.ts';

export const RESPONSE_EVENT_TYPE = 'fr.cnes.regards.modules.workermanager.amqp.events.out.ResponseEvent';

export type RequestState = 'SKIPPED' | 'GRANTED' | 'DELAYED' | 'INVALID_CONTENT' | 'ERROR' | 'SUCCESS';

export interface RequestIdentity {
  readonly requestId: string;
  readonly tenant: string;
  readonly owner: string;
  readonly session: string;
  /** The requester's content type: inside a workflow, the workflow type at every step. */
  readonly contentType: string;
}

/** The five headers that identify a request, on every message about it. */
export function identityHeaders(request: RequestIdentity): Record<string, string> {
  return {
    [HEADER.tenant]: request.tenant,
    [HEADER.requestId]: request.requestId,
    [HEADER.owner]: request.owner,
    [HEADER.session]: request.session,
    [HEADER.contentType]: request.contentType,
  };
}

/** A request to a worker type: the five headers, then the extra ones (a previous step's additionalHeaders). */
export function encodeDispatch(
  request: RequestIdentity,
  workerType: string,
  body: Uint8Array,
  extraHeaders: Readonly<Record<string, string>>,
): OutgoingMessage {
  return {
    exchange: requestQueueName(workerType),
    routingKey: '#',
    headers: { ...identityHeaders(request), ...extraHeaders },
    body,
    contentType: JSON_CONTENT_TYPE,
    persistent: true,
    priority: 0,
  };
}

export interface ResponseEventFacts {
  readonly state: RequestState;
  readonly messages?: readonly string[];
  /** Base64, on SUCCESS only. */
  readonly content?: string | undefined;
  /** The worker type concerned. */
  readonly workerType?: string | undefined;
}

export function encodeResponseEvent(request: RequestIdentity, facts: ResponseEventFacts): OutgoingMessage {
  return {
    exchange: RESPONSE_EVENT_EXCHANGE,
    routingKey: '',
    headers: {
      ...identityHeaders(request),
      [HEADER.workerId]: facts.workerType ?? '',
      [HEADER.converter]: 'GSON',
      [HEADER.type]: RESPONSE_EVENT_TYPE,
    },
    body: jsonBytes({
      state: facts.state,
      messages: [...(facts.messages ?? [])],
      requestId: request.requestId,
      ...(facts.state === 'SUCCESS' && facts.content !== undefined ? { content: facts.content } : {}),
      type: 'EXTRACTION',
      requestOwner: request.owner,
    }),
    contentType: JSON_CONTENT_TYPE,
    persistent: true,
  };
}
