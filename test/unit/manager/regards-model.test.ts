/**
 * REGARDS models (the XML an administrator imports): read, then used as rs-fem uses them, on values
 * (the stand-in's check) and on what a worker declares (`check --model`), as tables. The models are our
 * own, written in REGARDS' format; deploy/models/DEMO_PRODUCT.xml is the example's.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { modelProblems } from '../../../manager/model-check.ts';
import { parseModel, propertyValueProblems } from '../../../manager/regards-model.ts';
import { RsFemStandIn } from '../../../manager/rs-fem-stand-in.ts';
import { featureDate } from '../../../sdk/index.ts';

const MISSION = parseModel(`<?xml version="1.0" encoding="UTF-8"?>
<model>
  <name>MISSION</name>
  <type>DATA</type>
  <attribute alterable="false"><label>Kind</label><name>kind</name><type>STRING</type></attribute>
  <attribute><label>Level</label><name>level</name><type>STRING</type>
    <restriction><enumeration><value>L1</value><value>L2</value></enumeration></restriction></attribute>
  <attribute optional="true"><label>Orbit</label><name>orbit</name><type>INTEGER</type></attribute>
  <attribute optional="true"><label>Count</label><name>count</name><type>LONG</type></attribute>
  <attribute optional="true"><label>Cloud</label><name>cloud</name><type unit="%">DOUBLE</type></attribute>
  <attribute optional="true"><label>Valid</label><name>valid</name><type>BOOLEAN</type></attribute>
  <attribute optional="true"><label>Link</label><name>link</name><type>URL</type></attribute>
  <attribute optional="true"><label>Extra</label><name>extra</name><type>JSON</type></attribute>
  <attribute optional="true"><label>Tags</label><name>tags</name><type>STRING_ARRAY</type></attribute>
  <attribute optional="true"><label>Coverage</label><name>coverage</name><type>DATE_RANGE</type></attribute>
  <fragment>
    <name>acquisition</name>
    <attribute><label>Start</label><name>start</name><type>DATE_ISO8601</type></attribute>
    <attribute optional="true"><label>Depths</label><name>depths</name><type>DOUBLE_INTERVAL</type></attribute>
  </fragment>
</model>`);

describe('a REGARDS model read from its XML', () => {
  it('has its attributes by path, fragments included, with their type, shape and restrictions', () => {
    expect(MISSION.name).toBe('MISSION');
    expect([...MISSION.fragments]).toEqual(['acquisition']);
    expect(MISSION.attributes.get('kind')).toMatchObject({ base: 'STRING', alterable: false });
    expect(MISSION.attributes.get('level')?.enumeration).toEqual(['L1', 'L2']);
    expect(MISSION.attributes.get('cloud')).toMatchObject({ type: 'DOUBLE', shape: 'single' });
    expect(MISSION.attributes.get('coverage')).toMatchObject({ base: 'DATE', shape: 'interval' });
    expect(MISSION.attributes.get('acquisition.depths')).toMatchObject({ base: 'DOUBLE', shape: 'interval' });
  });

  it("reads the example's and the tests' models", async () => {
    for (const file of ['deploy/models/DEMO_PRODUCT.xml', 'test/fixtures/models/BEHAVE.xml'])
      expect(parseModel(await readFile(file, 'utf8')).attributes.size).toBeGreaterThan(0);
  });

  it.each([
    ['not XML at all', 'model', /not well-formed XML/],
    ['another document', '<project><name>p</name></project>', /no <model> element/],
    ['no name', '<model><type>DATA</type></model>', /no <name>/],
    [
      'an unknown type',
      '<model><name>M</name><attribute><name>a</name><type>GEOMETRY</type></attribute></model>',
      /attribute a has an unknown type "GEOMETRY"/,
    ],
    [
      'an attribute twice',
      '<model><name>M</name><attribute><name>a</name><type>LONG</type></attribute><attribute><name>a</name><type>LONG</type></attribute></model>',
      /attribute a is defined twice/,
    ],
    [
      'a name with a dash',
      '<model><name>M</name><attribute><name>a-b</name><type>LONG</type></attribute></model>',
      /attribute name "a-b"/,
    ],
  ])('refuses %s, saying why', (_what, xml, message) => {
    expect(() => parseModel(xml)).toThrow(message);
  });
});

describe('values against the model, as rs-fem converts them', () => {
  it('accepts each type in its form', () => {
    expect(
      propertyValueProblems(MISSION, {
        level: 'L2',
        orbit: 2_147_483_647,
        count: 2 ** 40,
        cloud: 0.5,
        valid: true,
        link: 'https://example.org/a',
        extra: { any: ['thing'] },
        tags: ['a', 'b'],
        coverage: { lowerBound: '2024-05-01T00:00:00Z', upperBound: '2024-05-02T00:00:00+02:00' },
        acquisition: { start: '2024-05-01T10:00:00Z', depths: { lowerBound: 1.5, upperBound: 3 } },
        orbit_unset: undefined,
      }).filter((p) => !p.startsWith('orbit_unset')),
    ).toEqual([]);
  });

  it.each([
    [{ colour: 'red' }, 'colour: is not an attribute of model MISSION'],
    [{ kind: 'x' }, 'kind: is not alterable: rs-fem refuses it in an update'],
    [{ level: 'L3' }, "level: is not one of the model's values (L1, L2)"],
    [{ orbit: 2 ** 31 }, 'orbit: must be a 32-bit integer (INTEGER attribute)'],
    [{ count: 1.5 }, 'count: must be an integer (LONG attribute)'],
    [{ valid: 'yes' }, 'valid: must be true or false (BOOLEAN attribute)'],
    [{ link: 'not a url' }, 'link: must be a URL (URL attribute)'],
    [{ tags: 'a' }, 'tags: must be an array (STRING_ARRAY attribute)'],
    [{ tags: ['a', 2] }, 'tags: [1] must be a string (STRING_ARRAY attribute)'],
    [
      { coverage: { lowerBound: '2024-05-01' } },
      'coverage: lowerBound must be an ISO 8601 date-time (a date alone is refused) (DATE_RANGE attribute)',
    ],
    [{ coverage: { from: 1 } }, "coverage: has from, not an interval's bound (DATE_RANGE attribute)"],
    [{ acquisition: 'x' }, 'acquisition: fragment of model MISSION, must be an object'],
    [{ acquisition: { stop: 'x' } }, 'acquisition.stop: is not an attribute of model MISSION'],
  ])('refuses %j', (properties, problem) => {
    expect(propertyValueProblems(MISSION, properties)).toEqual([problem]);
  });
});

describe("a worker's declared properties against the model (check --model)", () => {
  const declared = (schema: z.ZodType) => modelProblems(MISSION, z.toJSONSchema(schema, { io: 'output' }));

  it('fit when each is an alterable attribute of a compatible type, and no others may come', () => {
    expect(
      declared(
        z.strictObject({
          level: z.enum(['L1']).optional(),
          orbit: z.int32().nullable(),
          count: z.number().int(),
          cloud: z.number(),
          valid: z.boolean(),
          link: z.url(),
          extra: z.json(),
          tags: z.array(z.string()),
          coverage: z.strictObject({ lowerBound: featureDate(), upperBound: featureDate() }),
          acquisition: z.strictObject({ start: featureDate() }),
        }),
      ),
    ).toEqual([]);
  });

  it.each([
    [z.strictObject({ colour: z.string() }), 'colour', 'is not an attribute of model MISSION'],
    [z.strictObject({ kind: z.string() }), 'kind', 'attribute kind is not alterable'],
    [
      z.strictObject({ level: z.string() }),
      'level',
      'declared any string, the model only L1, L2 (STRING attribute level)',
    ],
    [z.strictObject({ level: z.enum(['L1', 'L9']) }), 'level', "declares L9, not among the model's values"],
    [
      z.strictObject({ orbit: z.number().int() }),
      'orbit',
      'may exceed a 32-bit integer (declare it z.int32())',
    ],
    [z.strictObject({ count: z.number() }), 'count', 'declared number, the model an integer'],
    [z.strictObject({ valid: z.string() }), 'valid', 'declared string, the model a boolean'],
    [z.strictObject({ tags: z.string() }), 'tags', 'declared string, the model an array'],
    [
      z.strictObject({ coverage: z.strictObject({ lowerBound: z.iso.date() }) }),
      'coverage',
      'lowerBound: declared date, the model a date-time (declare it featureDate())',
    ],
    [
      z.strictObject({ coverage: z.object({ lowerBound: featureDate(), mid: featureDate() }) }),
      'coverage',
      'an interval holds lowerBound and upperBound only, not mid',
    ],
    [
      z.strictObject({ acquisition: z.strictObject({ start: z.string() }) }),
      'acquisition.start',
      'declared string, the model a date-time',
    ],
    [
      z.strictObject({ acquisition: z.string() }),
      'acquisition',
      'fragment acquisition of model MISSION must be an object',
    ],
    [z.looseObject({ cloud: z.number() }), '(properties)', 'may hold properties model MISSION does not have'],
  ])('are refused where %#: %s', (schema, property, message) => {
    const problems = declared(schema);
    expect(problems.map((p) => p.property)).toContain(property);
    expect(problems.map((p) => p.message).join('\n')).toContain(message);
  });
});

describe('the stand-in for rs-fem', () => {
  const URN = 'URN:FEATURE:DATA:PROJECT1:0f4d6d3c-1a2b-4c5d-8e9f-000000000042:V1';
  const body = (properties: unknown) => ({
    feature: { id: 'p', urn: URN, type: 'Feature', entityType: 'DATA', model: 'MISSION', properties },
    metadata: { storages: [], priority: 'NORMAL' },
  });
  const id = '3f0b1c2d-4e5f-5a6b-8c7d-9e0f1a2b3c4d';

  it('stores a new update, takes the same one again as a duplicate, and refuses another under the same id', () => {
    const fem = new RsFemStandIn([MISSION]);
    expect(fem.receive(id, body({ cloud: 1 }))).toEqual({ verdict: 'stored' });
    expect(fem.receive(id, body({ cloud: 1 }))).toEqual({ verdict: 'duplicate' });
    expect(fem.receive(id, body({ cloud: 2 }))).toMatchObject({ verdict: 'refused' });
  });

  it('refuses a request id over 36 characters, an unknown model and properties the model refuses', () => {
    const fem = new RsFemStandIn([MISSION]);
    expect(fem.receive(`${id}-event-1`, body({}))).toEqual({
      verdict: 'refused',
      problems: ['regards.request.id: 44 characters, not 1 to 36'],
    });
    const other = body({});
    other.feature.model = 'OTHER';
    expect(fem.receive(id, other)).toEqual({
      verdict: 'refused',
      problems: ['feature.model: unknown model OTHER'],
    });
    expect(fem.receive(id, body({ cloud: 'high' }))).toEqual({
      verdict: 'refused',
      problems: ['feature.properties.cloud: must be a number (DOUBLE attribute)'],
    });
  });
});
