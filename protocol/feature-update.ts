/**
 * What rs-fem (REGARDS' feature manager) checks of a `FeatureUpdateRequestEvent` before it stores it,
 * checked here before anything is published: a message rs-fem denies is lost to the worker (its update
 * silently dropped, or a whole batch dead-lettered). Pure; the rules, as rs-fem applies them:
 * - the request id (`regards.request.id`) is stored in a column of 36 characters: see `eventRequestId`;
 * - `feature.urn` is a REGARDS feature URN,
 *   `URN:FEATURE:<DATA|COLLECTION|DATASET>:<tenant>:<UUID>:V<1 to 999>[,<order>][:REV<revision>]`, at most
 *   132 characters, its entity type the feature's;
 * - `feature.id` (the provider id) is 1 to 100 characters;
 * - `feature.model` is a model name: 1 to 32 of `0-9 a-z A-Z _`;
 * - each property name is an attribute name, `[a-zA-Z_][0-9a-zA-Z_]*`, at most 32 characters; an object
 *   value is a fragment, whose keys are attribute names too, or an interval (`lowerBound`, `upperBound`);
 *   deeper values are a JSON attribute's own content and are not looked into;
 * - `metadata.priority` is LOW, NORMAL or HIGH.
 * Whether each property is an attribute of the tenant's model, of its type, is for `check --model`
 * (manager/model-check.ts), with the model at hand.
 */

export const FEATURE_URN_MAX_LENGTH = 132;
export const FEATURE_ID_MAX_LENGTH = 100;
export const ATTRIBUTE_NAME_MAX_LENGTH = 32;

export const ENTITY_TYPES = ['DATA', 'COLLECTION', 'DATASET'] as const;
/** A UUID as Java's `UUID.fromString` reads it: five groups of hex digits, at most 36 characters. */
const UUID = '[0-9a-fA-F]{1,8}-[0-9a-fA-F]{1,4}-[0-9a-fA-F]{1,4}-[0-9a-fA-F]{1,4}-[0-9a-fA-F]{1,12}';
const FEATURE_URN = new RegExp(
  `^URN:FEATURE:(${ENTITY_TYPES.join('|')}):[^:]+:(${UUID}):(?:V(\\d{1,3})|LAST)(?:,\\d+)?(?::REV.+)?$`,
);
export const ATTRIBUTE_NAME = /^[a-zA-Z_][0-9a-zA-Z_]*$/;
export const MODEL_NAME = /^[0-9a-zA-Z_]{1,32}$/;
const PRIORITIES = ['LOW', 'NORMAL', 'HIGH'];

/** Why `urn` is not a feature URN rs-fem reads, or undefined when it is. */
export function featureUrnProblem(urn: unknown): string | undefined {
  const shape = 'URN:FEATURE:<DATA|COLLECTION|DATASET>:<tenant>:<UUID>:V<1 to 999>, at most 132 characters';
  if (typeof urn !== 'string') return `must be a string (${shape})`;
  if (urn.length > FEATURE_URN_MAX_LENGTH)
    return `is ${urn.length} characters, over the ${FEATURE_URN_MAX_LENGTH} rs-fem stores`;
  const match = FEATURE_URN.exec(urn);
  if (match === null) return `${JSON.stringify(urn)} is not a REGARDS feature URN (${shape})`;
  if ((match[2]?.length ?? 0) > 36) return `${JSON.stringify(match[2])} is not a UUID`;
  if (match[3] !== undefined && Number(match[3]) === 0) return 'its version must be from V1 to V999';
  return undefined;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const isInterval = (value: Record<string, unknown>) =>
  Object.keys(value).length > 0 && Object.keys(value).every((k) => k === 'lowerBound' || k === 'upperBound');

function nameProblem(name: string): string | undefined {
  if (!ATTRIBUTE_NAME.test(name)) return 'is not an attribute name ([a-zA-Z_][0-9a-zA-Z_]*)';
  if (name.length > ATTRIBUTE_NAME_MAX_LENGTH)
    return `is ${name.length} characters, over the ${ATTRIBUTE_NAME_MAX_LENGTH} of an attribute name`;
  return undefined;
}

function propertyProblems(properties: unknown): string[] {
  if (!isRecord(properties)) return ['feature.properties: must be an object of attributes'];
  const problems: string[] = [];
  for (const [name, value] of Object.entries(properties)) {
    const problem = nameProblem(name);
    if (problem !== undefined) problems.push(`feature.properties.${name}: ${problem}`);
    if (!isRecord(value) || isInterval(value)) continue;
    // A fragment: its keys are attributes of the fragment.
    for (const inner of Object.keys(value)) {
      const innerProblem = nameProblem(inner);
      if (innerProblem !== undefined) problems.push(`feature.properties.${name}.${inner}: ${innerProblem}`);
    }
  }
  return problems;
}

/** What rs-fem would deny in the JSON body of a feature update (`{feature, metadata}`); empty when nothing. */
export function featureUpdateProblems(body: unknown): string[] {
  if (!isRecord(body) || !isRecord(body.feature) || !isRecord(body.metadata))
    return ['must be an object with a feature and its metadata'];
  const { feature, metadata } = body;
  const problems: string[] = [];
  const urn = featureUrnProblem(feature.urn);
  if (urn !== undefined) problems.push(`feature.urn: ${urn}`);
  else if (typeof feature.urn === 'string' && feature.urn.split(':')[2] !== feature.entityType)
    problems.push(`feature.urn: its entity type is not the feature's (${String(feature.entityType)})`);
  if (typeof feature.id !== 'string' || feature.id.trim() === '' || feature.id.length > FEATURE_ID_MAX_LENGTH)
    problems.push(`feature.id: must be 1 to ${FEATURE_ID_MAX_LENGTH} characters`);
  if (typeof feature.model !== 'string' || !MODEL_NAME.test(feature.model))
    problems.push(
      `feature.model: ${JSON.stringify(feature.model)} is not a model name (1 to 32 of 0-9 a-z A-Z _)`,
    );
  problems.push(...propertyProblems(feature.properties));
  if (!PRIORITIES.includes(String(metadata.priority)))
    problems.push(`metadata.priority: must be one of ${PRIORITIES.join(', ')}`);
  return problems;
}
