/**
 * A REGARDS data model, as an administrator exports and imports it (the XML of REGARDS' model schema,
 * `model_V1.15.0.xsd`): its name, type, attributes and fragments. What rs-fem checks of a feature's
 * properties against the tenant's model, applied to values (`propertyValueProblems`, for the local
 * stand-in of rs-fem) and, in model-check.ts, to the JSON Schema a worker declares. Pure.
 */
import { XMLParser } from 'fast-xml-parser';
import { ATTRIBUTE_NAME, ATTRIBUTE_NAME_MAX_LENGTH } from '../protocol/feature-update.ts';

/** The value types of an attribute, without their array or interval form. */
export const BASE_TYPES = ['STRING', 'URL', 'JSON', 'INTEGER', 'LONG', 'DOUBLE', 'BOOLEAN', 'DATE'] as const;
export type BaseType = (typeof BASE_TYPES)[number];
export type Shape = 'single' | 'array' | 'interval';

export interface ModelAttribute {
  /** As a feature's properties hold it: `name`, or `fragment.name`. */
  readonly path: string;
  /** The attribute's type as the model writes it (`DOUBLE_RANGE`...). */
  readonly type: string;
  readonly base: BaseType;
  readonly shape: Shape;
  /** false: rs-fem refuses to set or unset it in an update. */
  readonly alterable: boolean;
  readonly optional: boolean;
  /** The values a STRING attribute is restricted to, when it is. */
  readonly enumeration?: readonly string[];
}

export interface RegardsModel {
  readonly name: string;
  readonly type: string;
  readonly attributes: ReadonlyMap<string, ModelAttribute>;
  readonly fragments: ReadonlySet<string>;
}

/** The model's type names (REGARDS' PropertyType), each as a base type and a shape. */
const TYPES: Readonly<Record<string, readonly [BaseType, Shape]>> = {
  STRING: ['STRING', 'single'],
  URL: ['URL', 'single'],
  JSON: ['JSON', 'single'],
  INTEGER: ['INTEGER', 'single'],
  LONG: ['LONG', 'single'],
  DOUBLE: ['DOUBLE', 'single'],
  BOOLEAN: ['BOOLEAN', 'single'],
  DATE_ISO8601: ['DATE', 'single'],
  STRING_ARRAY: ['STRING', 'array'],
  INTEGER_ARRAY: ['INTEGER', 'array'],
  LONG_ARRAY: ['LONG', 'array'],
  DOUBLE_ARRAY: ['DOUBLE', 'array'],
  DATE_ARRAY: ['DATE', 'array'],
  INTEGER_RANGE: ['INTEGER', 'interval'],
  INTEGER_INTERVAL: ['INTEGER', 'interval'],
  LONG_RANGE: ['LONG', 'interval'],
  LONG_INTERVAL: ['LONG', 'interval'],
  DOUBLE_RANGE: ['DOUBLE', 'interval'],
  DOUBLE_INTERVAL: ['DOUBLE', 'interval'],
  DATE_RANGE: ['DATE', 'interval'],
  DATE_INTERVAL: ['DATE', 'interval'],
};

export class ModelError extends Error {
  readonly code = 'INVALID_MODEL';
}

type Node = Record<string, unknown>;
const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  parseTagValue: false,
  parseAttributeValue: false,
  isArray: (name) => ['attribute', 'fragment', 'value'].includes(name),
});
const text = (value: unknown): string =>
  String(
    typeof value === 'object' && value !== null ? ((value as Node)['#text'] ?? '') : (value ?? ''),
  ).trim();
const nodes = (value: unknown): Node[] => (Array.isArray(value) ? (value as Node[]) : []);

/** Reads a model's XML; throws ModelError saying what is wrong with it. */
export function parseModel(xml: string): RegardsModel {
  let document: Node;
  try {
    document = parser.parse(xml, true) as Node;
  } catch (error) {
    throw new ModelError(`not well-formed XML: ${(error as Error).message}`);
  }
  const root = document.model as Node | undefined;
  if (typeof root !== 'object' || root === null) throw new ModelError('no <model> element at its root');
  const name = text(root.name);
  if (name === '') throw new ModelError('the model has no <name>');
  const attributes = new Map<string, ModelAttribute>();
  const fragments = new Set<string>();
  const add = (node: Node, fragment: string | undefined) => {
    const attribute = readAttribute(node, fragment);
    if (attributes.has(attribute.path)) throw new ModelError(`attribute ${attribute.path} is defined twice`);
    attributes.set(attribute.path, attribute);
  };
  for (const node of nodes(root.attribute)) add(node, undefined);
  for (const fragment of nodes(root.fragment)) {
    const fragmentName = text(fragment.name);
    checkName(fragmentName, 'fragment');
    fragments.add(fragmentName);
    for (const node of nodes(fragment.attribute)) add(node, fragmentName);
  }
  return { name, type: text(root.type), attributes, fragments };
}

function checkName(name: string, what: string): void {
  if (!ATTRIBUTE_NAME.test(name) || name.length > ATTRIBUTE_NAME_MAX_LENGTH)
    throw new ModelError(`${what} name ${JSON.stringify(name)} is not 1 to 32 of [a-zA-Z_][0-9a-zA-Z_]*`);
}

function readAttribute(node: Node, fragment: string | undefined): ModelAttribute {
  const name = text(node.name);
  checkName(name, 'attribute');
  const path = fragment === undefined ? name : `${fragment}.${name}`;
  const type = text(node.type);
  const known = TYPES[type];
  if (known === undefined)
    throw new ModelError(`attribute ${path} has an unknown type ${JSON.stringify(type)}`);
  const restriction = node.restriction as Node | undefined;
  const enumeration = nodes((restriction?.enumeration as Node | undefined)?.value).map(text);
  return {
    path,
    type,
    base: known[0],
    shape: known[1],
    alterable: text(node['@alterable']) !== 'false',
    optional: text(node['@optional']) === 'true',
    ...(enumeration.length > 0 ? { enumeration } : {}),
  };
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** How rs-fem parses a date attribute: a date-time, its offset optional (none is UTC); a date alone fails. */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?$/i;
const INT32 = 2 ** 31;

function baseValueProblem(base: BaseType, value: unknown): string | undefined {
  switch (base) {
    case 'STRING':
      return typeof value === 'string' ? undefined : 'must be a string';
    case 'URL':
      return typeof value === 'string' && URL.canParse(value) ? undefined : 'must be a URL';
    case 'JSON':
      return undefined;
    case 'INTEGER':
      return Number.isInteger(value) && (value as number) >= -INT32 && (value as number) < INT32
        ? undefined
        : 'must be a 32-bit integer';
    case 'LONG':
      return Number.isSafeInteger(value) ? undefined : 'must be an integer';
    case 'DOUBLE':
      return typeof value === 'number' && Number.isFinite(value) ? undefined : 'must be a number';
    case 'BOOLEAN':
      return typeof value === 'boolean' ? undefined : 'must be true or false';
    case 'DATE':
      return typeof value === 'string' && DATE_TIME.test(value)
        ? undefined
        : 'must be an ISO 8601 date-time (a date alone is refused)';
  }
}

/** Why rs-fem would refuse `value` for `attribute` in an update, or undefined. */
export function attributeValueProblem(attribute: ModelAttribute, value: unknown): string | undefined {
  if (!attribute.alterable) return 'is not alterable: rs-fem refuses it in an update';
  if (value === null) return undefined;
  const kind = `${attribute.type} attribute`;
  if (attribute.shape === 'array') {
    if (!Array.isArray(value)) return `must be an array (${kind})`;
    const index = value.findIndex((item) => baseValueProblem(attribute.base, item) !== undefined);
    return index < 0 ? undefined : `[${index}] ${baseValueProblem(attribute.base, value[index])} (${kind})`;
  }
  if (attribute.shape === 'interval') {
    if (!isRecord(value)) return `must be an interval {lowerBound, upperBound} (${kind})`;
    for (const bound of Object.keys(value)) {
      if (bound !== 'lowerBound' && bound !== 'upperBound')
        return `has ${bound}, not an interval's bound (${kind})`;
      const problem = value[bound] === null ? undefined : baseValueProblem(attribute.base, value[bound]);
      if (problem !== undefined) return `${bound} ${problem} (${kind})`;
    }
    return undefined;
  }
  const problem = baseValueProblem(attribute.base, value);
  if (problem !== undefined) return `${problem} (${kind})`;
  if (attribute.enumeration !== undefined && !attribute.enumeration.includes(String(value)))
    return `is not one of the model's values (${attribute.enumeration.join(', ')})`;
  return undefined;
}

/** What rs-fem would refuse in a feature update's properties against `model`, naming each property. */
export function propertyValueProblems(model: RegardsModel, properties: unknown): string[] {
  if (!isRecord(properties)) return ['properties must be an object'];
  const problems: string[] = [];
  const check = (path: string, value: unknown) => {
    const attribute = model.attributes.get(path);
    const problem =
      attribute === undefined
        ? `is not an attribute of model ${model.name}`
        : attributeValueProblem(attribute, value);
    if (problem !== undefined) problems.push(`${path}: ${problem}`);
  };
  for (const [name, value] of Object.entries(properties)) {
    if (!model.fragments.has(name)) check(name, value);
    else if (!isRecord(value)) problems.push(`${name}: fragment of model ${model.name}, must be an object`);
    else for (const [inner, innerValue] of Object.entries(value)) check(`${name}.${inner}`, innerValue);
  }
  return problems;
}
