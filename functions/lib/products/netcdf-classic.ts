/**
 * NetCDF classic and 64-bit offset files through netcdfjs, which parses the header; the file is never
 * read whole: only its header (read in growing pieces, up to `MAX_HEADER_BYTES`) and the bytes of the
 * variables asked for (a record variable's value in each record). CDF-5 (64-bit data) is not read.
 */
import { open } from 'node:fs/promises';
import { NetCDFReader } from 'netcdfjs';
import { type AttributeValue, type Dataset, MAX_VARIABLES, readableCount, type Variable } from './dataset.ts';
import { ProductError } from './format.ts';

const MAX_HEADER_BYTES = 16 * 1024 * 1024;
const TYPE_BYTES: Readonly<Record<string, number>> = {
  byte: 1,
  char: 1,
  short: 2,
  int: 4,
  float: 4,
  double: 8,
};

type Header = NetCDFReader['header'];
type RawVariable = Header['variables'][number];

export async function openNetcdfClassic(path: string): Promise<Dataset> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const header = await readHeader(file, size);
    if (header.variables.length > MAX_VARIABLES)
      throw new ProductError(
        `it has ${header.variables.length} variables, more than the ${MAX_VARIABLES} read`,
      );
    const names = header.dimensions.map((dimension) => dimension.name);
    const numrecs = header.recordDimension.length ?? 0;
    const shapeOf = (raw: RawVariable) =>
      raw.dimensions.map((id) =>
        id === header.recordDimension.id ? numrecs : (header.dimensions[id]?.size ?? 0),
      );
    const variables = header.variables.map((raw) => ({
      name: raw.name,
      dimensions: raw.dimensions.map((id) => names[id] ?? String(id)),
      shape: shapeOf(raw),
      type: raw.type,
      attributes: attributes(raw.attributes),
      raw,
    }));
    return {
      attributes: attributes(header.globalAttributes),
      variables,
      values: async (variable: Variable) => {
        const found = variables.find((candidate) => candidate.name === variable.name);
        if (found === undefined) throw new ProductError(`no variable ${variable.name}`);
        return readValues(path, found.raw, found.shape, header.recordDimension.recordStep ?? 0, size);
      },
      close: () => undefined,
    };
  } finally {
    await file.close();
  }
}

async function readHeader(file: Awaited<ReturnType<typeof open>>, size: number): Promise<Header> {
  const version = Buffer.alloc(4);
  await file.read(version, 0, 4, 0);
  if (version[3] === 5)
    throw new ProductError('it is a CDF-5 (64-bit data) NetCDF file, which netcdfjs does not read');
  for (let bytes = Math.min(size, 64 * 1024); ; bytes = Math.min(size, bytes * 4)) {
    const head = Buffer.alloc(bytes);
    await file.read(head, 0, bytes, 0);
    try {
      return new NetCDFReader(head).header;
    } catch (cause) {
      // Cut short: read more, up to the bound; anything else is a header no reader can use.
      if (!(cause instanceof RangeError) && !/out of range|outside|beyond/i.test(String(cause)))
        throw invalid(cause);
      if (bytes >= size) throw new ProductError('its header is cut short: the file is truncated');
      if (bytes >= MAX_HEADER_BYTES)
        throw new ProductError(`its header is larger than ${MAX_HEADER_BYTES} bytes`);
    }
  }
}

const invalid = (cause: unknown) =>
  new ProductError(`its NetCDF header cannot be read: ${(cause as Error).message ?? cause}`);

function attributes(list: readonly { name: string; value: unknown }[]): Record<string, AttributeValue> {
  return Object.fromEntries(
    list.map(({ name, value }) => [
      name,
      (ArrayBuffer.isView(value)
        ? Array.from(value as unknown as ArrayLike<number>)
        : value) as AttributeValue,
    ]),
  );
}

async function readValues(
  path: string,
  raw: RawVariable,
  shape: readonly number[],
  recordStep: number,
  size: number,
) {
  const values = readableCount(raw.name, shape);
  const width = TYPE_BYTES[raw.type];
  if (width === undefined || raw.type === 'char')
    throw new ProductError(`variable ${raw.name} is not numeric`);
  const perRecord = raw.record ? values / Math.max(1, shape[0] ?? 1) : values;
  const records = raw.record ? (shape[0] ?? 0) : 1;
  const last = Number(raw.offset) + (records - 1) * (raw.record ? recordStep : 0) + perRecord * width;
  if (records > 0 && last > size)
    throw new ProductError(`variable ${raw.name} lies past the end of the file: it is truncated`);
  const out = new Float64Array(values);
  const file = await open(path, 'r');
  try {
    const bytes = Buffer.alloc(perRecord * width);
    for (let record = 0; record < records; record += 1) {
      await file.read(bytes, 0, bytes.length, Number(raw.offset) + record * (raw.record ? recordStep : 0));
      for (let i = 0; i < perRecord; i += 1) out[record * perRecord + i] = decode(bytes, i * width, raw.type);
    }
  } finally {
    await file.close();
  }
  return out;
}

function decode(bytes: Buffer, at: number, type: string): number {
  if (type === 'byte') return bytes.readInt8(at);
  if (type === 'short') return bytes.readInt16BE(at);
  if (type === 'int') return bytes.readInt32BE(at);
  if (type === 'float') return bytes.readFloatBE(at);
  return bytes.readDoubleBE(at);
}
