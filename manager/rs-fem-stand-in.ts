/**
 * The local stand-in for REGARDS' feature manager (rs-fem): what it would do with each
 * `FeatureUpdateRequestEvent` it receives, without storing anything. It applies rs-fem's rules: the
 * request id fits its column (36 characters) and names one update only (a redelivery sends the same
 * id with the same update: a duplicate, not a new one), the event's own rules (protocol/feature-update.ts),
 * and, given the tenant's models, the properties against the feature's model. Pure.
 */
import { featureUpdateProblems } from '../protocol/feature-update.ts';
import { propertyValueProblems, type RegardsModel } from './regards-model.ts';

/** rs-fem's `t_feature_request.request_id`: varchar(36), unique. */
export const REQUEST_ID_MAX_LENGTH = 36;

export type Verdict =
  | { readonly verdict: 'stored' | 'duplicate' }
  | { readonly verdict: 'refused'; readonly problems: readonly string[] };

export class RsFemStandIn {
  readonly #models: ReadonlyMap<string, RegardsModel>;
  /** Each request id seen, with the update it came with. */
  readonly #seen = new Map<string, string>();

  /** Without models, the properties are checked by the event's rules alone. */
  constructor(models: readonly RegardsModel[] = []) {
    this.#models = new Map(models.map((model) => [model.name, model]));
  }

  receive(requestId: string, body: unknown): Verdict {
    const problems: string[] = [];
    if (requestId.length === 0 || requestId.length > REQUEST_ID_MAX_LENGTH)
      problems.push(`regards.request.id: ${requestId.length} characters, not 1 to ${REQUEST_ID_MAX_LENGTH}`);
    problems.push(...featureUpdateProblems(body));
    const feature = (body as { feature?: { model?: unknown; properties?: unknown } } | undefined)?.feature;
    if (this.#models.size > 0 && typeof feature?.model === 'string') {
      const model = this.#models.get(feature.model);
      if (model === undefined) problems.push(`feature.model: unknown model ${feature.model}`);
      else
        problems.push(
          ...propertyValueProblems(model, feature.properties).map((p) => `feature.properties.${p}`),
        );
    }
    if (problems.length > 0) return { verdict: 'refused', problems };
    const update = JSON.stringify(body);
    const before = this.#seen.get(requestId);
    if (before === undefined) {
      this.#seen.set(requestId, update);
      return { verdict: 'stored' };
    }
    if (before === update) return { verdict: 'duplicate' };
    return {
      verdict: 'refused',
      problems: [`regards.request.id: ${requestId} already names another update`],
    };
  }
}
