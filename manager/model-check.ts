/**
 * `check --model`: do the feature updates a worker declares (`featureProperties`, as JSON Schema in the
 * manifest) fit a REGARDS model? Every property an attribute of the model (fragments as nested objects),
 * alterable, of a compatible type (STRING, INTEGER, LONG, DOUBLE, BOOLEAN, DATE_ISO8601, URL, JSON, their
 * arrays and intervals), within its enumeration; and no room for properties the model does not have.
 * Pure; what zod's toJSONSchema writes is what is read.
 */
import type { Manifest } from '../sdk/bundle.ts';
import type { CheckProblem } from './check.ts';
import type { BaseType, ModelAttribute, RegardsModel } from './regards-model.ts';

type Schema = { readonly [keyword: string]: unknown };

export interface ModelProblem {
  /** The property, as the update holds it: `name` or `fragment.name`. */
  readonly property: string;
  readonly message: string;
}

const asSchema = (value: unknown): Schema =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Schema) : {};

/** The schema's alternatives, `null` apart: `{type: [string, null]}` and `anyOf` both. */
function alternatives(schema: Schema): { options: Schema[]; nullable: boolean } {
  if (Array.isArray(schema.anyOf) || Array.isArray(schema.oneOf)) {
    const options = ((schema.anyOf ?? schema.oneOf) as unknown[]).map(asSchema);
    const nonNull = options.filter((option) => option.type !== 'null');
    return {
      options: nonNull.flatMap((option) => alternatives(option).options),
      nullable: nonNull.length < options.length,
    };
  }
  if (Array.isArray(schema.type)) {
    const types = schema.type as string[];
    return {
      options: types.filter((t) => t !== 'null').map((type) => ({ ...schema, type })),
      nullable: types.includes('null'),
    };
  }
  return { options: [schema], nullable: schema.type === 'null' };
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/** Why values of `schema` may not be of the model's base type, or undefined. */
function baseProblem(
  base: BaseType,
  schema: Schema,
  enumeration: readonly string[] | undefined,
): string | undefined {
  const type = schema.type;
  switch (base) {
    case 'JSON':
      return undefined;
    case 'STRING':
    case 'URL': {
      if (type !== 'string') return `declared ${String(type ?? 'any')}, the model a string`;
      if (enumeration === undefined) return undefined;
      const values = Array.isArray(schema.enum)
        ? schema.enum
        : schema.const === undefined
          ? undefined
          : [schema.const];
      if (values === undefined) return `declared any string, the model only ${enumeration.join(', ')}`;
      const outside = values.filter((value) => !enumeration.includes(String(value)));
      return outside.length === 0
        ? undefined
        : `declares ${outside.join(', ')}, not among the model's values`;
    }
    case 'INTEGER':
      if (type !== 'integer') return `declared ${String(type ?? 'any')}, the model a 32-bit integer`;
      return Number(schema.minimum ?? -Infinity) >= INT32_MIN &&
        Number(schema.maximum ?? Infinity) <= INT32_MAX
        ? undefined
        : 'may exceed a 32-bit integer (declare it z.int32())';
    case 'LONG':
      return type === 'integer' ? undefined : `declared ${String(type ?? 'any')}, the model an integer`;
    case 'DOUBLE':
      return type === 'number' || type === 'integer'
        ? undefined
        : `declared ${String(type ?? 'any')}, the model a number`;
    case 'BOOLEAN':
      return type === 'boolean' ? undefined : `declared ${String(type ?? 'any')}, the model a boolean`;
    case 'DATE':
      return type === 'string' && schema.format === 'date-time'
        ? undefined
        : `declared ${String(schema.format ?? type ?? 'any')}, the model a date-time (declare it featureDate())`;
  }
}

/** Why the declared `schema` does not fit `attribute`, or undefined. */
export function attributeSchemaProblem(attribute: ModelAttribute, schema: Schema): string | undefined {
  if (!attribute.alterable)
    return `attribute ${attribute.path} is not alterable: rs-fem refuses it in an update`;
  const { options } = alternatives(schema);
  const kind = `${attribute.type} attribute ${attribute.path}`;
  for (const option of options) {
    let problem: string | undefined;
    if (attribute.base === 'JSON') problem = undefined;
    else if (attribute.shape === 'array')
      problem =
        option.type === 'array'
          ? baseProblem(attribute.base, asSchema(option.items), attribute.enumeration)
          : `declared ${String(option.type ?? 'any')}, the model an array`;
    else if (attribute.shape === 'interval') problem = intervalProblem(attribute, option);
    else problem = baseProblem(attribute.base, option, attribute.enumeration);
    if (problem !== undefined) return `${problem} (${kind})`;
  }
  return undefined;
}

function intervalProblem(attribute: ModelAttribute, schema: Schema): string | undefined {
  if (schema.type !== 'object') return `declared ${String(schema.type ?? 'any')}, the model an interval`;
  const bounds = asSchema(schema.properties);
  const extra = Object.keys(bounds).filter((key) => key !== 'lowerBound' && key !== 'upperBound');
  if (extra.length > 0 || schema.additionalProperties !== false)
    return `an interval holds lowerBound and upperBound only${extra.length > 0 ? `, not ${extra.join(', ')}` : ''}`;
  for (const bound of ['lowerBound', 'upperBound']) {
    if (bounds[bound] === undefined) continue;
    for (const option of alternatives(asSchema(bounds[bound])).options) {
      const problem = baseProblem(attribute.base, option, undefined);
      if (problem !== undefined) return `${bound}: ${problem}`;
    }
  }
  return undefined;
}

/** An object schema's properties, and whether it is closed (no others allowed). */
function objectOf(schema: Schema): { properties: Schema; closed: boolean } | undefined {
  const options = alternatives(schema).options;
  if (options.length !== 1 || options[0]?.type !== 'object') return undefined;
  const only = options[0];
  return { properties: asSchema(only.properties), closed: only.additionalProperties === false };
}

/** What in the declared properties `declared` (a JSON Schema) `model` would refuse; empty when it fits. */
export function modelProblems(model: RegardsModel, declared: unknown): ModelProblem[] {
  const problems: ModelProblem[] = [];
  const top = objectOf(asSchema(declared));
  if (top === undefined) return [{ property: '(properties)', message: 'are not declared as an object' }];
  const open = (where: string) =>
    problems.push({
      property: where,
      message: `may hold properties model ${model.name} does not have: declare it with z.strictObject`,
    });
  if (!top.closed) open('(properties)');
  for (const [name, schema] of Object.entries(top.properties)) {
    if (model.fragments.has(name)) {
      const fragment = objectOf(asSchema(schema));
      if (fragment === undefined) {
        problems.push({
          property: name,
          message: `fragment ${name} of model ${model.name} must be an object`,
        });
        continue;
      }
      if (!fragment.closed) open(name);
      for (const [inner, innerSchema] of Object.entries(fragment.properties))
        checkAttribute(model, `${name}.${inner}`, asSchema(innerSchema), problems);
    } else checkAttribute(model, name, asSchema(schema), problems);
  }
  return problems;
}

function checkAttribute(model: RegardsModel, path: string, schema: Schema, problems: ModelProblem[]): void {
  const attribute = model.attributes.get(path);
  const message =
    attribute === undefined
      ? `is not an attribute of model ${model.name}`
      : attributeSchemaProblem(attribute, schema);
  if (message !== undefined) problems.push({ property: path, message });
}

/**
 * Each bundle that emits feature updates, its declared properties against each model given (the models of
 * the products it updates), as `check` reports problems: naming the worker, the model and the property.
 */
export function checkModels(manifest: Manifest, models: readonly RegardsModel[]): CheckProblem[] {
  const problems: CheckProblem[] = [];
  for (const entry of manifest.workers) {
    if (!(entry.emits ?? []).includes('feature-update')) continue;
    if (entry.featurePropertiesSchema === undefined) {
      problems.push({
        rule: 'model',
        severity: 'error',
        key: 'NoFeaturePropertiesError',
        message: `worker "${entry.type}" sends feature updates but declares no featureProperties (built with an older sdk?)`,
      });
      continue;
    }
    for (const model of models)
      for (const found of modelProblems(model, entry.featurePropertiesSchema))
        problems.push({
          rule: 'model',
          severity: 'error',
          key: 'ModelAttributeError',
          message: `worker "${entry.type}", model ${model.name}: property ${found.property} ${found.message}`,
        });
  }
  return problems;
}
