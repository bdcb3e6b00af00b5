/**
 * Each per-worker setting is declared once (sdk/settings.ts); everything else derives from it. These
 * tests walk the table, so a setting added there is checked everywhere without touching them: the
 * definition's check, the definition, the manifest's schema, the build's entry, the host's variable
 * and the effective value of a loaded worker.
 */
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { CONFIG_VARIABLES, loadConfig } from '../../adapter/config.ts';
import { manifestEntry } from '../../sdk/bundle.ts';
import { defineWorker, success } from '../../sdk/index.ts';
import {
  DEFAULT_SETTINGS,
  ownSettings,
  resolveSettings,
  SETTING_NAMES,
  SETTINGS,
  type WorkerSettings,
} from '../../sdk/settings.ts';

const define = (settings: Record<string, unknown>) =>
  defineWorker({
    type: 't',
    accepts: ['x'],
    input: z.object({}),
    handler: () => success(),
    ...(settings as WorkerSettings),
  });

const entry = (settings: Record<string, unknown>) =>
  manifestEntry.safeParse({
    type: 't',
    accepts: ['x'],
    bundle: 'bundles/t.mjs',
    sha256: 'a'.repeat(64),
    bytes: 1,
    source: 'functions/t.ts',
    sdkVersion: '0.1.0',
    inputSchema: {},
    ...settings,
  });

/** Values the setting takes, and values it refuses. */
function examples(name: keyof WorkerSettings): { valid: unknown[]; invalid: unknown[] } {
  const rule = SETTINGS[name];
  if ('choices' in rule) return { valid: [...rule.choices], invalid: ['other', 1] };
  return {
    valid: [rule.min, rule.default, rule.max],
    invalid: [rule.min - 1, rule.max + 1, rule.min + 0.5, String(rule.default)],
  };
}

describe.each(SETTING_NAMES)('the setting %s', (name) => {
  const { valid, invalid } = examples(name);

  it('is taken by a definition, carried by it, and written to its manifest entry, within its bounds', () => {
    for (const value of valid) {
      const definition = define({ [name]: value });
      expect(definition[name]).toBe(value);
      expect(ownSettings(definition)).toEqual({ [name]: value });
      expect(entry({ [name]: value }).success, `${name}: ${value}`).toBe(true);
    }
    expect(ownSettings(define({}))).toEqual({});
  });

  it('is refused outside its bounds, by the definition (naming it) and by the manifest', () => {
    for (const value of invalid) {
      expect(() => define({ [name]: value }), `${name}: ${value}`).toThrow(new RegExp(`${name} must be`));
      expect(entry({ [name]: value }).success, `${name}: ${value}`).toBe(false);
    }
  });

  it("has a default, the host's variable where it has one, and the definition's value wins", () => {
    const rule = SETTINGS[name];
    const config = loadConfig({});
    expect(config.settings[name]).toBe(rule.default);
    const other = valid.find((value) => value !== rule.default);
    expect(resolveSettings({ [name]: other }, config.settings)[name]).toBe(other);
    expect(resolveSettings({}, config.settings)[name]).toBe(rule.default);
    if ('choices' in rule) return;
    expect(CONFIG_VARIABLES).toContain(rule.variable);
    const perUnit = rule.perUnit ?? 1;
    expect(loadConfig({ [rule.variable]: String(rule.max / perUnit) }).settings[name]).toBe(rule.max);
    expect(() => loadConfig({ [rule.variable]: String((rule.max + perUnit) / perUnit) })).toThrow(
      new RegExp(rule.variable),
    );
  });
});

it('the defaults are the table’s', () => {
  expect(Object.keys(DEFAULT_SETTINGS).sort()).toEqual([...SETTING_NAMES].sort());
});
