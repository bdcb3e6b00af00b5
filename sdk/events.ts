/**
 * Events a worker sends to other REGARDS services on success, published (and confirmed) before its
 * response and before the ack. A definition declares the kinds it emits (`emits`), recorded in the
 * manifest so that an operator sees which services a bundle writes to; an undeclared one fails the
 * request. Plain data, built with the helpers below.
 */
import * as z from 'zod';
import { featureUrnProblem, MODEL_NAME } from '../protocol/feature-update.ts';
import { issueMessages } from './issues.ts';
import type { Json } from './result.ts';

/** The kinds of event a definition may declare in `emits`. */
export const EVENT_KINDS = ['feature-update'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/** How rs-fem prioritises a request. */
export type PriorityLevel = 'LOW' | 'NORMAL' | 'HIGH';

/** Where rs-fem stores a feature's files (`FeatureMetadata.storages`). */
export interface StorageMetadata {
  readonly pluginBusinessId: string;
  readonly storePath?: string;
  readonly targetTypes?: readonly string[];
}

/**
 * The update of a product in REGARDS' feature manager (rs-fem), as a `FeatureUpdateRequestEvent`: the
 * feature is a patch, only the properties (and geometry) given change.
 */
export interface FeatureUpdate {
  readonly kind: 'feature-update';
  readonly feature: {
    readonly id: string;
    readonly urn: string;
    readonly type: 'Feature';
    readonly entityType: 'DATA';
    readonly model: string;
    readonly geometry?: Json;
    readonly properties: { readonly [name: string]: Json };
  };
  readonly metadata: {
    readonly storages: readonly StorageMetadata[];
    readonly priority: PriorityLevel;
    readonly acknowledgedRecipient?: string;
  };
  /** `regards.request.file_update_mode` (how rs-fem treats the feature's files), when given. */
  readonly fileUpdateMode?: 'APPEND' | 'REPLACE';
}

export type WorkerEvent = FeatureUpdate;

export interface FeatureUpdateOptions {
  /** The feature's URN in REGARDS (`URN:FEATURE:DATA:<tenant>:<uuid>:V<n>`): what is updated. */
  readonly urn: string;
  /** The feature's model (rs-fem requires it). */
  readonly model: string;
  /** The provider id; defaults to the URN. */
  readonly id?: string;
  /** The properties that change, as the model names them (fragments as nested objects). */
  readonly properties: { readonly [name: string]: Json };
  /** A GeoJSON geometry, when known. */
  readonly geometry?: Json;
  readonly priority?: PriorityLevel;
  readonly storages?: readonly StorageMetadata[];
  readonly acknowledgedRecipient?: string;
  readonly fileUpdateMode?: 'APPEND' | 'REPLACE';
}

/** A `FeatureUpdateRequestEvent` for rs-fem; declare `emits: ['feature-update']` to send it. */
export function featureUpdate(options: FeatureUpdateOptions): FeatureUpdate {
  return {
    kind: 'feature-update',
    feature: {
      id: options.id ?? options.urn,
      urn: options.urn,
      type: 'Feature',
      entityType: 'DATA',
      model: options.model,
      ...(options.geometry === undefined ? {} : { geometry: options.geometry }),
      properties: options.properties,
    },
    metadata: {
      storages: options.storages ?? [],
      priority: options.priority ?? 'NORMAL',
      ...(options.acknowledgedRecipient === undefined
        ? {}
        : { acknowledgedRecipient: options.acknowledgedRecipient }),
    },
    ...(options.fileUpdateMode === undefined ? {} : { fileUpdateMode: options.fileUpdateMode }),
  };
}

/**
 * A date property as rs-fem reads a `DATE_ISO8601` attribute: an ISO 8601 date-time with its offset
 * (`2024-05-01T10:00:00Z`, `…+02:00`). A date alone (`2024-05-01`) is refused: write it as a date-time.
 */
export const featureDate = () => z.iso.datetime({ offset: true });

/** A feature URN as rs-fem reads it (`URN:FEATURE:DATA:<tenant>:<UUID>:V<n>`), for an input schema. */
export const featureUrn = () =>
  z.string().superRefine((urn, ctx) => {
    const problem = featureUrnProblem(urn);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  });

/** A REGARDS model name (1 to 32 of `0-9 a-z A-Z _`), for an input schema. */
export const featureModel = () =>
  z.string().regex(MODEL_NAME, 'not a REGARDS model name (1 to 32 of 0-9 a-z A-Z _)');

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Why the events a handler returned cannot be sent, as messages: a kind the definition does not
 * declare in `emits`, or a feature update whose properties fail `featureProperties`. Empty when none.
 */
export function eventIssues(
  events: readonly unknown[],
  emits: readonly EventKind[],
  featureProperties: z.ZodType | undefined,
): string[] {
  const kinds = events.map((event) => String(isRecord(event) ? event.kind : event));
  const undeclared = [...new Set(kinds)].filter((kind) => !emits.includes(kind as EventKind));
  if (undeclared.length > 0)
    return [
      `the worker sends events it does not declare in emits: ${undeclared.join(', ')} (it declares ${emits.length === 0 ? 'none' : emits.join(', ')})`,
    ];
  if (featureProperties === undefined) return [];
  return events.flatMap((event, i) => {
    const feature = isRecord(event) && isRecord(event.feature) ? event.feature : undefined;
    if (feature === undefined) return [];
    const checked = featureProperties.safeParse(feature.properties);
    return checked.success
      ? []
      : issueMessages(checked.error).map(
          (m) => `event ${i + 1} (feature-update): properties do not match featureProperties: ${m}`,
        );
  });
}
