/**
 * Events a worker sends to other REGARDS services, encoded as REGARDS' own publishers do: the fanout
 * exchange `regards.broadcast.<event class>`, the GSON converter's headers (`regards.converter`, the type
 * in `__TypeId__` and in the legacy `regards.type`), the tenant, and the request headers of an
 * AbstractRequestEvent (`regards.request.id`, `.owner`, `.date`). Pure.
 */
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

export interface WorkerEventOut {
  readonly kind: string;
  /** The event's JSON body, encoded. */
  readonly body: Uint8Array;
  readonly fileUpdateMode?: string | undefined;
}

/**
 * The n-th (from 1) event sent while handling `parent`. Its request id derives from the parent's, so a
 * redelivered request sends the same ids again (the receiving service can tell a duplicate).
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
      [HEADER.requestId]: `${parent.requestId}-event-${n}`,
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
