/** Schema pairs: what the previous step produces against what the next step accepts. */
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { incompatibilities, type JsonSchema } from '../../../manager/schema-compatibility.ts';

const object = (properties: Record<string, JsonSchema>, required: string[] = Object.keys(properties)) => ({
  type: 'object',
  properties,
  required,
});
const str = { type: 'string' };

describe('incompatibilities', () => {
  it.each<[string, JsonSchema, JsonSchema, string[]]>([
    ['the same object', object({ a: str }), object({ a: str }), []],
    ['anything accepted', object({ a: str }), {}, []],
    ['more fields than needed', object({ a: str, b: str }), object({ a: str }), []],
    [
      'a required field never produced',
      object({ a: str }),
      object({ a: str, b: str }),
      ['$.b: required by the next step; the previous step does not produce it'],
    ],
    [
      'a required field produced sometimes',
      object({ a: str, b: str }, ['a']),
      object({ a: str, b: str }),
      ['$.b: required by the next step; the previous step may leave it out'],
    ],
    ['an optional field not produced', object({ a: str }), object({ a: str, b: str }, ['a']), []],
    [
      'a type that differs',
      object({ n: str }),
      object({ n: { type: 'number' } }),
      ['$.n: the previous step may produce string; the next step takes number'],
    ],
    ['an integer where a number is taken', { type: 'integer' }, { type: 'number' }, []],
    [
      'a number where an integer is taken',
      { type: 'number' },
      { type: 'integer' },
      ['$: the previous step may produce number; the next step takes integer'],
    ],
    [
      'an enum within the accepted one',
      { type: 'string', enum: ['a'] },
      { type: 'string', enum: ['a', 'b'] },
      [],
    ],
    [
      'an enum value refused',
      { type: 'string', enum: ['a', 'c'] },
      { type: 'string', enum: ['a', 'b'] },
      ['$: the next step refuses "c" (it accepts "a", "b")'],
    ],
    [
      'any string where an enum is taken',
      str,
      { type: 'string', enum: ['a'] },
      ['$: the next step accepts only "a"; the previous step may produce other values'],
    ],
    ['a constant accepted', { const: 'Feature' }, { type: 'string', enum: ['Feature'] }, []],
    [
      'a format not promised',
      str,
      { type: 'string', format: 'uri' },
      ['$: the next step takes the format uri, which the previous step does not promise'],
    ],
    ['a format promised', { type: 'string', format: 'uri' }, { type: 'string', format: 'uri' }, []],
    [
      'a pattern not promised',
      str,
      { type: 'string', pattern: '^/' },
      ['$: the next step takes strings matching ^/, which the previous step does not promise'],
    ],
    [
      'a lower bound not promised',
      { type: 'number', minimum: 0 },
      { type: 'number', minimum: 1 },
      ['$: the next step takes minimum 1; the previous step promises 0'],
    ],
    ['a bound kept', { type: 'string', minLength: 3 }, { type: 'string', minLength: 1 }, []],
    [
      'array items',
      { type: 'array', items: object({ p: str }) },
      { type: 'array', items: object({ p: str, q: str }) },
      ['$[].q: required by the next step; the previous step does not produce it'],
    ],
    [
      'a closed object given an extra field',
      object({ a: str, x: str }),
      { ...object({ a: str }), additionalProperties: false },
      ['$.x: the next step refuses this field'],
    ],
    [
      'each produced alternative accepted',
      { anyOf: [object({ a: str }), object({ a: str, b: str })] },
      object({ a: str }),
      [],
    ],
    [
      'one produced alternative refused',
      { anyOf: [object({ a: str }), object({ b: str })] },
      object({ a: str }),
      ['$.a: required by the next step; the previous step does not produce it'],
    ],
    [
      'one accepted alternative fits',
      object({ a: str }),
      { anyOf: [object({ b: str }), object({ a: str })] },
      [],
    ],
    [
      'no accepted alternative fits',
      object({ a: str }),
      { anyOf: [object({ b: str }), object({ c: str })] },
      [
        '$: none of the 2 forms the next step accepts takes it',
        '$.b: required by the next step; the previous step does not produce it',
      ],
    ],
    [
      'a nullable field where null is refused',
      { type: ['string', 'null'] },
      str,
      ['$: the previous step may produce null; the next step takes string'],
    ],
    [
      'any value where a type is needed',
      {},
      str,
      ['$: the previous step may produce any type; the next step takes string'],
    ],
  ])('%s', (_, produced, accepted, expected) => {
    expect(incompatibilities(produced, accepted).map((i) => `${i.path}: ${i.problem}`)).toEqual(expected);
  });

  it('reads schemas as zod writes them (output of one, input of the next)', () => {
    const out = z.toJSONSchema(z.object({ files: z.array(z.object({ path: z.string() })) }), {
      io: 'output',
    });
    const okIn = z.toJSONSchema(z.object({ files: z.array(z.object({ path: z.string() })) }), {
      io: 'input',
    });
    const badIn = z.toJSONSchema(
      z.object({ files: z.array(z.object({ path: z.string(), size: z.number().int().min(0) })) }),
      { io: 'input' },
    );
    expect(incompatibilities(out as JsonSchema, okIn as JsonSchema)).toEqual([]);
    expect(incompatibilities(out as JsonSchema, badIn as JsonSchema)).toEqual([
      { path: '$.files[].size', problem: 'required by the next step; the previous step does not produce it' },
    ]);
  });
});
