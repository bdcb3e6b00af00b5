/**
 * NetCDF-4 and HDF5 files through h5wasm (HDF5's own C library, compiled to WebAssembly; its Node
 * build reads the file where it lies, a block at a time, never whole). Groups are walked to
 * `MAX_VARIABLES` datasets; netCDF-4's own bookkeeping (its dimension-only datasets, and the
 * attributes it keeps for itself) is left out, as `ncdump` leaves it out.
 */
import h5wasm from 'h5wasm/node';
import { type AttributeValue, type Dataset, MAX_VARIABLES, readableCount, type Variable } from './dataset.ts';
import { ProductError } from './format.ts';

type H5Dataset = InstanceType<typeof h5wasm.Dataset>;
type H5Group = InstanceType<typeof h5wasm.Group>;

/** Attributes that netCDF-4 and HDF5 dimension scales keep for themselves. */
const HIDDEN = new Set([
  '_Netcdf4Coordinates',
  '_Netcdf4Dimid',
  '_NCProperties',
  '_nc3_strict',
  'CLASS',
  'NAME',
  'REFERENCE_LIST',
  'DIMENSION_LIST',
  '_FillValue',
]);
const DIMENSION_ONLY = 'This is a netCDF dimension but not a netCDF variable';

/** HDF5's errors thrown, with their stack of causes, rather than printed on stderr (the host's log is JSON). */
const quiet = h5wasm.ready.then((module) => {
  module.activate_throwing_error_handler();
});

/** The deepest cause HDF5 gives, where it says one: `H5F__super_read(): truncated file: eof = 3000...`. */
function hdf5Problem(cause: unknown): string {
  const message = String((cause as Error).message ?? cause);
  const causes = [...message.matchAll(/ in (\w+\(\)): (.+)$/gm)].map((m) => `${m[1]}: ${m[2]}`);
  return causes.at(-1) ?? message.split('\n')[0] ?? message;
}

export async function openHdf5(path: string): Promise<Dataset> {
  await quiet;
  let file: InstanceType<typeof h5wasm.File>;
  try {
    file = new h5wasm.File(path, 'r');
  } catch (cause) {
    throw new ProductError(`HDF5 cannot open it: ${hdf5Problem(cause)}`);
  }
  try {
    const datasets: { variable: Variable; dataset: H5Dataset }[] = [];
    walk(file, '', datasets);
    return {
      attributes: attributesOf(file),
      variables: datasets.map((entry) => entry.variable),
      values: async (variable) => {
        const found = datasets.find((entry) => entry.variable.name === variable.name);
        if (found === undefined) throw new ProductError(`no variable ${variable.name}`);
        return valuesOf(found.dataset, found.variable);
      },
      close: () => void file.close(),
    };
  } catch (cause) {
    file.close();
    throw cause instanceof ProductError
      ? cause
      : new ProductError(`HDF5 cannot read it: ${hdf5Problem(cause)}`);
  }
}

function walk(group: H5Group, prefix: string, into: { variable: Variable; dataset: H5Dataset }[]): void {
  const keys = group.keys();
  if (into.length + keys.length > MAX_VARIABLES)
    throw new ProductError(`it holds more than the ${MAX_VARIABLES} datasets read`);
  const groups: [H5Group, string][] = [];
  // A group's own datasets, then its groups, as ncdump lists them.
  for (const key of keys) {
    const entity = group.get(key);
    const name = prefix === '' ? key : `${prefix}/${key}`;
    if (entity instanceof h5wasm.Group) groups.push([entity, name]);
    else if (entity instanceof h5wasm.Dataset) {
      const variable = describe(entity, name);
      if (variable !== undefined) into.push({ variable, dataset: entity });
    }
  }
  for (const [child, name] of groups) walk(child, name, into);
}

function describe(dataset: H5Dataset, name: string): Variable | undefined {
  const attributes = attributesOf(dataset);
  const label = dataset.attrs.NAME?.value;
  if (typeof label === 'string' && label.startsWith(DIMENSION_ONLY)) return undefined;
  const shape = dataset.shape ?? [];
  // A dimension scale (a netCDF-4 coordinate variable) is its own dimension.
  if (dataset.attrs.CLASS?.value === 'DIMENSION_SCALE' && shape.length === 1)
    return {
      name,
      dimensions: [name.split('/').at(-1) ?? name],
      shape,
      type: typeName(dataset.metadata),
      attributes,
    };
  const dimensions = shape.map((_, index) => {
    const scale = safe(() => dataset.get_attached_scales(index))?.[0];
    return scale === undefined
      ? (safe(() => dataset.get_dimension_labels()[index]) ?? `dim${index}`)
      : (scale.split('/').at(-1) ?? scale);
  });
  return { name, dimensions, shape, type: typeName(dataset.metadata), attributes };
}

const safe = <T>(read: () => T): T | undefined => {
  try {
    return read() ?? undefined;
  } catch {
    return undefined;
  }
};

function attributesOf(entity: { attrs: Record<string, { value: unknown }> }): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const [name, attribute] of Object.entries(entity.attrs)) {
    if (HIDDEN.has(name)) continue;
    const value = safe(() => attribute.value);
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
      out[name] = value;
    else if (typeof value === 'bigint') out[name] = Number(value);
    else if (ArrayBuffer.isView(value) || Array.isArray(value)) {
      const list = Array.from(value as ArrayLike<unknown>).map((item) =>
        typeof item === 'bigint' ? Number(item) : item,
      );
      if (list.every((item) => ['string', 'number', 'boolean'].includes(typeof item)))
        out[name] =
          list.length === 1
            ? (list[0] as string | number | boolean)
            : (list as (string | number | boolean)[]);
    }
  }
  return out;
}

/** netCDF's names for HDF5's types (those `ncdump -h` writes). */
function typeName(metadata: { type: number; size: number; signed?: boolean }): string {
  if (metadata.type === 1)
    return metadata.size === 4 ? 'float' : metadata.size === 8 ? 'double' : `float${metadata.size * 8}`;
  if (metadata.type === 0) {
    const names: Record<number, string> = { 1: 'byte', 2: 'short', 4: 'int', 8: 'int64' };
    const name = names[metadata.size] ?? `int${metadata.size * 8}`;
    return metadata.signed === false
      ? metadata.size === 4
        ? 'uint'
        : metadata.size === 8
          ? 'uint64'
          : `u${name}`
      : name;
  }
  if (metadata.type === 3) return 'string';
  return `hdf5-class-${metadata.type}`;
}

function valuesOf(dataset: H5Dataset, variable: Variable): Float64Array {
  readableCount(variable.name, variable.shape);
  const data = safe(() => dataset.value);
  if (!ArrayBuffer.isView(data) && !Array.isArray(data))
    throw new ProductError(`variable ${variable.name} is not numeric`);
  return Float64Array.from(data as ArrayLike<number | bigint>, (item) => Number(item));
}
