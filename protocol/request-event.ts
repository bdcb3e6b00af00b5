/** A new processing request a worker issues to the Worker Manager (the RequestEvent exchange). */
import type { OutgoingMessage } from './message.ts';
import { HEADER, REQUEST_EVENT_EXCHANGE } from './names.ts';
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
  return {
    exchange: REQUEST_EVENT_EXCHANGE,
    routingKey: '',
    headers: {
      [HEADER.tenant]: parent.tenant,
      [HEADER.requestId]: `${parent.requestId}-${n}`,
      [HEADER.owner]: request.owner ?? parent.owner,
      [HEADER.session]: request.session ?? parent.session,
      [HEADER.contentType]: request.contentType,
    },
    body: request.body,
    contentType: 'application/json',
    persistent: true,
    priority: 0,
  };
}
