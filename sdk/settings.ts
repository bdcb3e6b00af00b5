/**
 * The settings a worker's definition may carry, each declared once, here: its type and meaning (the
 * interface) and its bounds, default and host variable (the table, which must name every one). The
 * definition's check, the manifest's schema and entry, the host's configuration and a loaded worker's
 * effective settings are derived from these two; nothing else names a setting.
 */
import * as z from 'zod';

export type Isolation = 'thread' | 'inline';
export const ISOLATIONS: readonly [Isolation, ...Isolation[]] = ['thread', 'inline'];

export interface WorkerSettings {
  /** Handler time limit, in ms; wins over the host's `WORKER_TIMEOUT_SECONDS`. */
  readonly timeoutMs?: number;
  /** Deliveries before dead-lettering an undetermined failure; wins over `WORKER_MAX_ATTEMPTS`. */
  readonly maxAttempts?: number;
  /** Unacknowledged requests this worker handles at once, per host; wins over `WORKER_PREFETCH`. */
  readonly prefetch?: number;
  /**
   * Where the handler runs: `'thread'` (the default), in a worker thread of its own, which the host
   * terminates at the time limit and which cannot block or crash the host; `'inline'`, on the host's
   * event loop, for tiny handlers where the hop costs more than it protects.
   */
  readonly isolation?: Isolation;
  /** Heap limit of the handler's thread, in MB; wins over `WORKER_MEMORY_MB`. */
  readonly memoryMb?: number;
}

/** What a loaded worker runs with: its definition's settings, else the host's. */
export type Settings = Required<WorkerSettings>;

interface NumberRule {
  readonly min: number;
  readonly max: number;
  readonly default: number;
  /** The host variable that sets it for workers whose definition does not. */
  readonly variable: string;
  /** The setting's units in one of the variable's (1000: a variable in seconds for a setting in ms). */
  readonly perUnit?: number;
}

interface ChoiceRule<T extends string> {
  readonly choices: readonly [T, ...T[]];
  readonly default: T;
}

type Rule<T> = [T] extends [string] ? ChoiceRule<T> : NumberRule;
type Rules = { readonly [K in keyof WorkerSettings]-?: Rule<NonNullable<WorkerSettings[K]>> };

export const SETTINGS: Rules = {
  // RabbitMQ closes a channel whose delivery stays unacknowledged 30 minutes: stay well below.
  timeoutMs: { min: 1, max: 1_500_000, default: 300_000, variable: 'WORKER_TIMEOUT_SECONDS', perUnit: 1000 },
  maxAttempts: { min: 1, max: 100, default: 3, variable: 'WORKER_MAX_ATTEMPTS' },
  prefetch: { min: 1, max: 65_535, default: 10, variable: 'WORKER_PREFETCH' },
  isolation: { choices: ISOLATIONS, default: 'thread' },
  memoryMb: { min: 16, max: 65_536, default: 512, variable: 'WORKER_MEMORY_MB' },
};

export const SETTING_NAMES = Object.keys(SETTINGS) as (keyof WorkerSettings)[];

export const DEFAULT_SETTINGS: Settings = Object.fromEntries(
  SETTING_NAMES.map((name) => [name, SETTINGS[name].default]),
) as unknown as Settings;

const isChoice = (rule: NumberRule | ChoiceRule<string>): rule is ChoiceRule<string> => 'choices' in rule;

/** The zod shape of the settings as a definition or a manifest entry holds them: each optional. */
export const settingsShape = Object.fromEntries(
  SETTING_NAMES.map((name) => {
    const rule: NumberRule | ChoiceRule<string> = SETTINGS[name];
    return [name, (isChoice(rule) ? z.enum(rule.choices) : z.int().min(rule.min).max(rule.max)).optional()];
  }),
) as unknown as { [K in keyof WorkerSettings]-?: z.ZodOptional<z.ZodType<NonNullable<WorkerSettings[K]>>> };

/** What is wrong with the settings `source` holds, one line each (none: they are valid). */
export function settingProblems(source: WorkerSettings): string[] {
  return SETTING_NAMES.flatMap((name) => {
    const value: unknown = source[name];
    const rule: NumberRule | ChoiceRule<string> = SETTINGS[name];
    if (value === undefined) return [];
    if (isChoice(rule))
      return rule.choices.includes(value as string)
        ? []
        : [`${name} must be one of ${rule.choices.join(', ')}`];
    const valid =
      Number.isSafeInteger(value) && (value as number) >= rule.min && (value as number) <= rule.max;
    return valid ? [] : [`${name} must be an integer from ${rule.min} to ${rule.max}`];
  });
}

/** Each setting, as a definition holds it: undefined where the author left it to the host. */
export type DefinedSettings = { readonly [K in keyof WorkerSettings]-?: WorkerSettings[K] | undefined };

export function definedSettings(source: WorkerSettings): DefinedSettings {
  return Object.fromEntries(SETTING_NAMES.map((name) => [name, source[name]])) as unknown as DefinedSettings;
}

/** The settings `source` sets itself (a definition, a manifest entry), nothing else. */
export function ownSettings(source: WorkerSettings): WorkerSettings {
  return Object.fromEntries(
    SETTING_NAMES.filter((name) => source[name] !== undefined).map((name) => [name, source[name]]),
  );
}

/** A worker's effective settings: what `own` sets, else `defaults`. */
export function resolveSettings(own: WorkerSettings, defaults: Settings): Settings {
  return { ...defaults, ...ownSettings(own) };
}

/** The host variables that set the defaults of workers, each read in its own unit. */
export const SETTING_VARIABLES = SETTING_NAMES.flatMap((name) => {
  const rule: NumberRule | ChoiceRule<string> = SETTINGS[name];
  if (isChoice(rule)) return [];
  const perUnit = rule.perUnit ?? 1;
  return [
    {
      name,
      variable: rule.variable,
      /** Reads the variable's text: a number within the setting's bounds, in the variable's unit. */
      schema: (perUnit === 1 ? z.coerce.number().int() : z.coerce.number())
        .min(rule.min / perUnit)
        .max(rule.max / perUnit)
        .default(rule.default / perUnit)
        .transform((value) => Math.round(value * perUnit)),
    },
  ];
});
