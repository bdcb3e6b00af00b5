/**
 * Does every value one schema allows pass another? The JSON Schemas of a workflow step's output and of
 * the next step's input (as zod's toJSONSchema writes them into the manifest), compared rule by rule:
 * types, required fields, enums and constants, formats, patterns, bounds, arrays' items, closed objects,
 * alternatives. Pure. No well-kept JSON Schema library answers "is A a subset of B" for the drafts zod
 * writes, so this is our own, and `test/unit/manager/schema-compatibility.test.ts` is its table of pairs.
 * It errs on the side of silence where a rule is not modelled (a `$ref` it cannot resolve, `not`, `if`).
 */
export type JsonSchema = boolean | { readonly [keyword: string]: unknown };

export interface Incompatibility {
  /** Where, in the value passed from one step to the next: `$`, `$.files[].path`... */
  readonly path: string;
  readonly problem: string;
}

type Schema = { readonly [keyword: string]: unknown };

const MAX_DEPTH = 32;
const LOWER_BOUNDS = ['minimum', 'exclusiveMinimum', 'minLength', 'minItems', 'minProperties'] as const;
const UPPER_BOUNDS = ['maximum', 'exclusiveMaximum', 'maxLength', 'maxItems', 'maxProperties'] as const;

/** What `produced` allows that `accepted` refuses, as a list; empty when every produced value is accepted. */
export function incompatibilities(produced: JsonSchema, accepted: JsonSchema): Incompatibility[] {
  const roots = { produced: asSchema(produced), accepted: asSchema(accepted) };
  const resolve = (schema: Schema, root: Schema): Schema => {
    const ref = schema.$ref;
    if (typeof ref !== 'string' || !ref.startsWith('#/')) return schema;
    let node: unknown = root;
    for (const part of ref.slice(2).split('/')) node = (node as Schema | undefined)?.[part];
    return typeof node === 'object' && node !== null ? (node as Schema) : {};
  };
  const compare = (p0: Schema, c0: Schema, path: string, depth = 0): Incompatibility[] => {
    // Recursive schemas (through $ref) are followed this deep, which is deeper than any content we pass.
    if (depth > MAX_DEPTH) return [];
    const p = resolve(p0, roots.produced);
    const c = resolve(c0, roots.accepted);
    const deeper = (a: Schema, b: Schema, where: string) => compare(a, b, where, depth + 1);
    if (Object.keys(c).every((k) => k === '$schema' || k === 'description' || k === 'default')) return [];
    const produced = alternatives(p);
    if (produced !== undefined) return dedupe(produced.flatMap((branch) => deeper(branch, c, path)));
    const accepted = alternatives(c);
    if (accepted !== undefined) {
      const tries = accepted.map((branch) => deeper(p, branch, path));
      if (tries.some((problems) => problems.length === 0)) return [];
      // The form it comes closest to: fewest problems, found deepest (most of its shape matched).
      const depth = (problems: readonly Incompatibility[]) =>
        problems.reduce((sum, problem) => sum + problem.path.length, 0) / Math.max(1, problems.length);
      const closest = tries.reduce((a, b) =>
        b.length < a.length || (b.length === a.length && depth(b) > depth(a)) ? b : a,
      );
      return [
        { path, problem: `none of the ${accepted.length} forms the next step accepts takes it` },
        ...closest,
      ];
    }
    const problems = valueProblems(p, c, path);
    if (problems.length > 0) return problems;
    problems.push(...keywordProblems(p, c, path), ...fieldProblems(p, c, path));
    const pProperties = (p.properties ?? {}) as Record<string, Schema>;
    for (const [name, schema] of Object.entries((c.properties ?? {}) as Record<string, Schema>)) {
      const mine = pProperties[name];
      if (mine !== undefined) problems.push(...deeper(asSchema(mine), asSchema(schema), `${path}.${name}`));
    }
    if (c.items !== undefined && typeof c.items === 'object' && !Array.isArray(c.items))
      problems.push(...deeper(asSchema(p.items ?? {}), asSchema(c.items), `${path}[]`));
    return problems;
  };

  return dedupe(compare(roots.produced, roots.accepted, '$'));
}

/** The values and types the next step takes that the previous one may not keep to. */
function valueProblems(p: Schema, c: Schema, path: string): Incompatibility[] {
  const problems: Incompatibility[] = [];
  const add = (problem: string) => problems.push({ path, problem });
  const pValues = valuesOf(p);
  const cValues = valuesOf(c);
  if (cValues !== undefined) {
    if (pValues === undefined)
      add(`the next step accepts only ${list(cValues)}; the previous step may produce other values`);
    else {
      const refused = pValues.filter((v) => !cValues.some((w) => same(v, w)));
      if (refused.length > 0) add(`the next step refuses ${list(refused)} (it accepts ${list(cValues)})`);
    }
  }
  const pTypes = typesOf(p);
  const cTypes = typesOf(c);
  if (cTypes !== undefined) {
    if (pTypes === undefined)
      add(`the previous step may produce any type; the next step takes ${cTypes.join(' or ')}`);
    else {
      const refused = pTypes.filter(
        (t) => !cTypes.includes(t) && !(t === 'integer' && cTypes.includes('number')),
      );
      if (refused.length > 0)
        add(
          `the previous step may produce ${refused.join(' or ')}; the next step takes ${cTypes.join(' or ')}`,
        );
    }
  }
  return problems;
}

/** Formats, patterns and bounds the next step takes that the previous one does not promise. */
function keywordProblems(p: Schema, c: Schema, path: string): Incompatibility[] {
  const problems: string[] = [];
  if (typeof c.format === 'string' && p.format !== c.format)
    problems.push(`the next step takes the format ${c.format}, which the previous step does not promise`);
  if (typeof c.pattern === 'string' && p.pattern !== c.pattern)
    problems.push(
      `the next step takes strings matching ${c.pattern}, which the previous step does not promise`,
    );
  const within = (bound: string, limit: number, lower: boolean) => {
    const promised = p[bound];
    return typeof promised === 'number' && (lower ? promised >= limit : promised <= limit);
  };
  for (const [bounds, lower] of [
    [LOWER_BOUNDS, true],
    [UPPER_BOUNDS, false],
  ] as const)
    for (const bound of bounds) {
      const limit = c[bound];
      if (typeof limit === 'number' && !within(bound, limit, lower))
        problems.push(
          `the next step takes ${bound} ${limit}; the previous step promises ${p[bound] ?? 'none'}`,
        );
    }
  return problems.map((problem) => ({ path, problem }));
}

/** Fields the next step requires that may be missing, and fields it refuses. */
function fieldProblems(p: Schema, c: Schema, path: string): Incompatibility[] {
  const problems: Incompatibility[] = [];
  const pProperties = (p.properties ?? {}) as Record<string, Schema>;
  const cProperties = (c.properties ?? {}) as Record<string, Schema>;
  const pRequired = new Set((p.required ?? []) as string[]);
  for (const name of (c.required ?? []) as string[]) {
    if (pRequired.has(name)) continue;
    problems.push({
      path: `${path}.${name}`,
      problem:
        name in pProperties
          ? 'required by the next step; the previous step may leave it out'
          : 'required by the next step; the previous step does not produce it',
    });
  }
  if (c.additionalProperties === false) {
    for (const name of Object.keys(pProperties))
      if (!(name in cProperties))
        problems.push({ path: `${path}.${name}`, problem: 'the next step refuses this field' });
  }
  return problems;
}

function asSchema(schema: unknown): Schema {
  if (schema === true || schema === undefined) return {};
  if (schema === false) return { not: {} };
  return schema as Schema;
}

function alternatives(schema: Schema): Schema[] | undefined {
  const list = schema.anyOf ?? schema.oneOf;
  if (!Array.isArray(list)) return undefined;
  // Keywords beside the alternatives apply to each of them.
  const { anyOf: _a, oneOf: _o, ...rest } = schema;
  return list.map((branch) => ({ ...rest, ...asSchema(branch) }));
}

function valuesOf(schema: Schema): unknown[] | undefined {
  if ('const' in schema) return [schema.const];
  return Array.isArray(schema.enum) ? schema.enum : undefined;
}

const typeOfValue = (value: unknown): string =>
  value === null
    ? 'null'
    : Array.isArray(value)
      ? 'array'
      : typeof value === 'number'
        ? Number.isInteger(value)
          ? 'integer'
          : 'number'
        : typeof value;

function typesOf(schema: Schema): string[] | undefined {
  if (typeof schema.type === 'string') return [schema.type];
  if (Array.isArray(schema.type)) return schema.type as string[];
  const values = valuesOf(schema);
  return values === undefined ? undefined : [...new Set(values.map(typeOfValue))];
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const list = (values: readonly unknown[]) => values.map((v) => JSON.stringify(v)).join(', ');

function dedupe(problems: Incompatibility[]): Incompatibility[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path}\u0000${p.problem}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
