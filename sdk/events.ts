/**
 * Events a worker sends to other REGARDS services on success, published (and confirmed) before its
 * response and before the ack. A definition declares the kinds it emits (`emits`), recorded in the
 * manifest so that an operator sees which services a bundle writes to; an undeclared one fails the
 * request. Plain data, built with the helpers below.
 */
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
