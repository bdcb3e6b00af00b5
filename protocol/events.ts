/**
 * Events a worker sends to other REGARDS services, encoded as REGARDS' own publishers do: the fanout
 * exchange `regards.broadcast.<event class>`, the GSON converter's headers (`regards.converter`, the type
 * in `__TypeId__` and in the legacy `regards.type`), the tenant, and the request headers of an
 * AbstractRequestEvent (`regards.request.id`, `.owner`, `.date`). Pure.
 */
import { createHash } from 'node:crypto';
import { featureUpdateProblems } from './feature-update.ts';
import type { OutgoingMessage } from './message.ts';
import { HEADER } from './names.ts';
import type { DecodedRequest } from './request.ts';

/** rs-fem's update of a product. */
export const FEATURE_UPDATE_EVENT = 'fr.cnes.regards.modules.feature.dto.event.in.FeatureUpdateRequestEvent';

/** Event kinds (as a definition declares them in `emits`) and the REGARDS class each is. */
export const EVENT_CLASSES: Readonly<Record<string, string>> = Object.freeze({
  'feature-update': FEATURE_UPDATE_EVENT,
});

export const eventExchange = (eventClass: string) => `regards.broadcast.${eventClass}`;

/** The header rs-fem reads for how a feature's files are updated. */
export const FILE_UPDATE_MODE_HEADER = 'regards.request.file_update_mode';
/** The type header REGARDS' converters read first. */
export const TYPE_ID_HEADER = '__TypeId__';
/** The id of the worker request an event was sent for (its own `regards.request.id` derives from it). */
export const WORKER_REQUEST_ID_HEADER = 'regards.worker.request_id';

/** The namespace of event request ids (RFC 9562 name-based UUIDs): fixed, so that ids are stable. */
export const EVENT_ID_NAMESPACE = 'a0c6b3e2-5f1d-4c8a-9e07-3b2d6f4e1a95';

/**
 * A name-based UUID (RFC 9562 version 5: SHA-1 of the namespace's bytes and the name, version and
 * variant bits set), 36 characters.
 */
export function nameBasedUuid(namespace: string, name: string): string {
  const hash = createHash('sha1')
    .update(Buffer.from(namespace.replaceAll('-', ''), 'hex'))
    .update(name, 'utf8')
    .digest();
  hash[6] = ((hash[6] ?? 0) & 0x0f) | 0x50;
  hash[8] = ((hash[8] ?? 0) & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The request id of the n-th (from 1) event sent while handling the worker request `requestId`: a UUID
 * (rs-fem stores it in 36 characters, unique), the same on every redelivery, different per event.
 */
export const eventRequestId = (requestId: string, n: number): string =>
  nameBasedUuid(EVENT_ID_NAMESPACE, `${requestId}\n${n}`);

/** What the receiving service would deny in an event, as messages naming the field; empty when nothing. */
export function eventProblems(event: WorkerEventOut): string[] {
  if (EVENT_CLASSES[event.kind] === undefined) return [`unknown event kind ${event.kind}`];
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(event.body));
  } catch {
    return ['its body is not UTF-8 JSON'];
  }
  return featureUpdateProblems(body);
}

export interface WorkerEventOut {
  readonly kind: string;
  /** The event's JSON body, encoded. */
  readonly body: Uint8Array;
  readonly fileUpdateMode?: string | undefined;
}

/**
 * The n-th (from 1) event sent while handling `parent`. Its request id derives from the parent's (see
 * `eventRequestId`), so a redelivered request sends the same ids again (the receiving service can tell
 * a duplicate); the parent's own id travels in WORKER_REQUEST_ID_HEADER.
 */
export function encodeEvent(
  parent: DecodedRequest,
  event: WorkerEventOut,
  n: number,
  now: Date,
): OutgoingMessage {
  const eventClass = EVENT_CLASSES[event.kind];
  if (eventClass === undefined) throw new Error(`unknown event kind ${event.kind}`);
  return {
    exchange: eventExchange(eventClass),
    routingKey: '',
    headers: {
      [HEADER.tenant]: parent.tenant,
      [HEADER.requestId]: eventRequestId(parent.requestId, n),
      [WORKER_REQUEST_ID_HEADER]: parent.requestId,
      [HEADER.owner]: parent.owner,
      'regards.request.date': now.toISOString(),
      [HEADER.converter]: 'GSON',
      [TYPE_ID_HEADER]: eventClass,
      [HEADER.type]: eventClass,
      ...(event.fileUpdateMode === undefined ? {} : { [FILE_UPDATE_MODE_HEADER]: event.fileUpdateMode }),
    },
    body: event.body,
    contentType: 'application/json',
    persistent: true,
    priority: 0,
  };
}
