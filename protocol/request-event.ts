/** A new processing request a worker issues to the Worker Manager (the RequestEvent exchange). */

import { identityHeaders, type RequestIdentity } from './manager-side.ts';
import type { OutgoingMessage } from './message.ts';
import { REQUEST_EVENT_EXCHANGE } from './names.ts';
import type { DecodedRequest } from './request.ts';

export interface NewRequest {
  readonly contentType: string;
  readonly body: Uint8Array;
  readonly owner?: string | undefined;
  readonly session?: string | undefined;
}

/**
 * The n-th (from 1) request issued while handling `parent`. Its id derives from the parent's, so a
 * redelivered parent issues the same ids again and the manager skips the duplicates.
 */
export function encodeNewRequest(parent: DecodedRequest, request: NewRequest, n: number): OutgoingMessage {
  return encodeRequestEvent(
    {
      tenant: parent.tenant,
      requestId: `${parent.requestId}-${n}`,
      owner: request.owner ?? parent.owner,
      session: request.session ?? parent.session,
      contentType: request.contentType,
    },
    request.body,
  );
}

/** A processing request for the Worker Manager, as a requester publishes it. */
export function encodeRequestEvent(
  request: RequestIdentity,
  body: Uint8Array,
  extraHeaders: Readonly<Record<string, string>> = {},
): OutgoingMessage {
  return {
    exchange: REQUEST_EVENT_EXCHANGE,
    routingKey: '',
    headers: { ...extraHeaders, ...identityHeaders(request) },
    body,
    contentType: 'application/json',
    persistent: true,
    priority: 0,
  };
}
