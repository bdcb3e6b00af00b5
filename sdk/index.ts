/** The function contract: what a worker author imports. */
export {
  ContractError,
  defineWorker,
  type EncodedEvent,
  type EncodedRequest,
  type Outcome,
  type RawRequest,
  type WorkerDefinition,
  type WorkerSpec,
} from './define-worker.ts';
export { DEFINITION_KIND } from './definition-of.ts';
export {
  EVENT_KINDS,
  type EventKind,
  type FeatureUpdate,
  type FeatureUpdateOptions,
  featureDate,
  featureModel,
  featureUpdate,
  featureUrn,
  type PriorityLevel,
  type StorageMetadata,
  type WorkerEvent,
} from './events.ts';
export type { Context, LogFields, Logger, Request } from './request.ts';
export {
  type Content,
  type ContentOf,
  error,
  type Failure,
  type Invalid,
  invalid,
  type Json,
  type NewRequest,
  type Result,
  type Success,
  type SuccessOptions,
  success,
} from './result.ts';
export {
  DEFAULT_SETTINGS,
  ISOLATIONS,
  type Isolation,
  SETTINGS,
  type Settings,
  type WorkerSettings,
} from './settings.ts';
export { SDK_VERSION } from './version.ts';
