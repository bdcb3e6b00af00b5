/** The function contract: what a worker author imports. */
export {
  ContractError,
  defineWorker,
  type EncodedEvent,
  type EncodedRequest,
  ISOLATIONS,
  type Isolation,
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
export { SDK_VERSION } from './version.ts';
