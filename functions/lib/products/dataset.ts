/**
 * A self-describing scientific file (NetCDF classic, NetCDF-4/HDF5, HDF5) as the metadata reader sees
 * it: global attributes and variables with their dimensions, type and attributes, and the values of
 * the few variables it asks for (coordinates and time, never whole data arrays).
 */
import { ProductError } from './format.ts';

export type AttributeValue = string | number | boolean | readonly (string | number | boolean)[];

export interface Variable {
  /** Its name; in a group, `group/name`. */
  readonly name: string;
  readonly dimensions: readonly string[];
  readonly shape: readonly number[];
  /** As its format names it: `float`, `double`, `int`, `<f4`... */
  readonly type: string;
  readonly attributes: Readonly<Record<string, AttributeValue>>;
}

export interface Dataset {
  readonly attributes: Readonly<Record<string, AttributeValue>>;
  readonly variables: readonly Variable[];
  /** Its values as numbers, or a ProductError when there are more than `MAX_COORDINATE_VALUES`. */
  values(variable: Variable): Promise<Float64Array>;
  close(): void;
}

/** The most variables (or datasets) a file may hold: past it, it is refused rather than walked. */
export const MAX_VARIABLES = 2000;
/** The most values read of one coordinate or time variable (32 MB of doubles). */
export const MAX_COORDINATE_VALUES = 4 * 1024 * 1024;

/** How many values a variable of that shape holds: a ProductError past `MAX_COORDINATE_VALUES`. */
export function readableCount(name: string, shape: readonly number[]): number {
  const values = shape.reduce((product, size) => product * size, 1);
  if (values > MAX_COORDINATE_VALUES)
    throw new ProductError(
      `variable ${name} has ${values} values, more than the ${MAX_COORDINATE_VALUES} read`,
    );
  return values;
}

/** An attribute as text, when it is one. */
export function text(value: AttributeValue | undefined): string | undefined {
  if (typeof value === 'string') return value.trim() === '' ? undefined : value.trim();
  if (Array.isArray(value) && value.every((part) => typeof part === 'string'))
    return value.join('').trim() || undefined;
  return undefined;
}

/** An attribute as a number, when it is one (or a list of one). */
export function numeric(value: AttributeValue | undefined): number | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'number' && Number.isFinite(first) ? first : undefined;
}
