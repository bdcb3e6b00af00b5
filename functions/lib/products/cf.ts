/**
 * What the CF conventions say of a dataset's place and time: its footprint from projected x/y
 * coordinates and their `grid_mapping` (its WKT, `crs_wkt` or GDAL's `spatial_ref`, else its CF
 * parameters), or from latitude and longitude coordinates; its time coverage from the `time`
 * coordinate, its `units` and `calendar`. Only coordinate variables are read.
 */
import { cfDate, cfTime } from './cf-time.ts';
import { type AttributeValue, type Dataset, numeric, text, type Variable } from './dataset.ts';
import { cellExtent, type Footprint, footprint } from './footprint.ts';
import { ProductError } from './format.ts';

export interface TimeCoverage {
  readonly start: string;
  readonly end: string;
  readonly calendar: string;
}

const attr = (variable: Variable, name: string) => text(variable.attributes[name])?.toLowerCase();
const named = (variable: Variable, ...names: string[]) =>
  names.includes(variable.name.split('/').at(-1)?.toLowerCase() ?? '');

function isLatitude(v: Variable): boolean {
  return (
    attr(v, 'standard_name') === 'latitude' ||
    /^degrees?_?n(orth)?$/.test(attr(v, 'units') ?? '') ||
    named(v, 'lat', 'latitude')
  );
}

function isLongitude(v: Variable): boolean {
  return (
    attr(v, 'standard_name') === 'longitude' ||
    /^degrees?_?e(ast)?$/.test(attr(v, 'units') ?? '') ||
    named(v, 'lon', 'longitude')
  );
}

/** The footprint, or why there is none. */
export async function cfFootprint(dataset: Dataset): Promise<Footprint | string> {
  const projected = await projectedExtent(dataset);
  if (projected !== undefined) return projected;
  const lat = dataset.variables.find(isLatitude);
  const lon = dataset.variables.find(isLongitude);
  if (lat === undefined || lon === undefined)
    return 'it has no latitude and longitude coordinates, nor a grid mapping';
  const [lats, lons] = await Promise.all([dataset.values(lat), dataset.values(lon)]);
  const gridded = lat.shape.length === 1 && lon.shape.length === 1;
  const y = gridded ? cellExtent(masked(lats, lat)) : range(masked(lats, lat));
  const x = gridded ? cellExtent(masked(lons, lon)) : range(masked(lons, lon));
  if (x === undefined || y === undefined) return 'its latitude and longitude coordinates hold no value';
  return footprint([x[0], y[0], x[1], y[1]]);
}

async function projectedExtent(dataset: Dataset): Promise<Footprint | undefined> {
  const x = dataset.variables.find(
    (v) => attr(v, 'standard_name') === 'projection_x_coordinate' && v.shape.length === 1,
  );
  const y = dataset.variables.find(
    (v) => attr(v, 'standard_name') === 'projection_y_coordinate' && v.shape.length === 1,
  );
  const mapped = dataset.variables.find((v) => text(v.attributes.grid_mapping) !== undefined);
  const mapping = dataset.variables.find(
    (v) => v.name.split('/').at(-1) === text(mapped?.attributes.grid_mapping),
  );
  if (x === undefined || y === undefined || mapping === undefined) return undefined;
  const crs = gridMappingCrs(mapping.attributes);
  const scale = (v: Variable) => (attr(v, 'units') === 'km' ? 1000 : 1);
  const xs = cellExtent(await dataset.values(x));
  const ys = cellExtent(await dataset.values(y));
  if (xs === undefined || ys === undefined || crs === undefined) return undefined;
  return footprint([xs[0] * scale(x), ys[0] * scale(y), xs[1] * scale(x), ys[1] * scale(y)], crs);
}

/** A grid mapping as proj4 reads it: its WKT when it has one, else the CF parameters of the common ones. */
export function gridMappingCrs(a: Readonly<Record<string, AttributeValue>>): string | undefined {
  const wkt = text(a.crs_wkt) ?? text(a.spatial_ref);
  if (wkt !== undefined) return wkt;
  const n = (name: string) => numeric(a[name]);
  const p = (key: string, name: string) => (n(name) === undefined ? '' : ` +${key}=${n(name)}`);
  const earth =
    n('semi_major_axis') === undefined
      ? ' +datum=WGS84'
      : `${p('a', 'semi_major_axis')}${n('semi_minor_axis') === undefined ? p('rf', 'inverse_flattening') : p('b', 'semi_minor_axis')}`;
  const common = `${p('x_0', 'false_easting')}${p('y_0', 'false_northing')}${earth} +units=m +no_defs`;
  switch (text(a.grid_mapping_name)) {
    case 'latitude_longitude':
      return `+proj=longlat${earth} +no_defs`;
    case 'transverse_mercator':
      return `+proj=tmerc${p('lat_0', 'latitude_of_projection_origin')}${p('lon_0', 'longitude_of_central_meridian')}${p('k_0', 'scale_factor_at_central_meridian')}${common}`;
    case 'polar_stereographic': {
      const pole = n('latitude_of_projection_origin') ?? 90;
      const ts =
        n('standard_parallel') === undefined
          ? p('k_0', 'scale_factor_at_projection_origin')
          : p('lat_ts', 'standard_parallel');
      return `+proj=stere +lat_0=${pole}${p('lon_0', 'straight_vertical_longitude_from_pole')}${ts}${common}`;
    }
    case 'lambert_conformal_conic': {
      const parallels = [a.standard_parallel].flat().filter((v): v is number => typeof v === 'number');
      return `+proj=lcc +lat_1=${parallels[0]} +lat_2=${parallels[1] ?? parallels[0]}${p('lat_0', 'latitude_of_projection_origin')}${p('lon_0', 'longitude_of_central_meridian')}${common}`;
    }
    case 'mercator':
      return `+proj=merc${p('lon_0', 'longitude_of_projection_origin')}${p('lat_ts', 'standard_parallel')}${common}`;
    default:
      return undefined;
  }
}

function masked(values: Float64Array, variable: Variable): Float64Array {
  const fill = [numeric(variable.attributes._FillValue), numeric(variable.attributes.missing_value)].filter(
    (v) => v !== undefined,
  );
  return fill.length === 0 ? values : values.map((value) => (fill.includes(value) ? Number.NaN : value));
}

function range(values: Float64Array): [number, number] | undefined {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const value of values)
    if (Number.isFinite(value)) {
      min = Math.min(min, value);
      max = Math.max(max, value);
    }
  return min <= max ? [min, max] : undefined;
}

/** The time coverage, from the coordinate named `time` or whose standard_name or axis says time. */
export async function cfTimeCoverage(dataset: Dataset): Promise<TimeCoverage | undefined> {
  const time = dataset.variables.find(
    (v) =>
      (attr(v, 'standard_name') === 'time' || attr(v, 'axis') === 't' || named(v, 'time')) &&
      / since /i.test(text(v.attributes.units) ?? ''),
  );
  if (time === undefined) return undefined;
  const calendar = text(time.attributes.calendar) ?? 'standard';
  const reference = cfTime(text(time.attributes.units) ?? '', calendar);
  const span = range(masked(await dataset.values(time), time));
  if (span === undefined) return undefined;
  if (Math.abs(span[0]) > 1e15 || Math.abs(span[1]) > 1e15)
    throw new ProductError(`variable ${time.name} holds times out of any calendar`);
  return { start: cfDate(reference, span[0]), end: cfDate(reference, span[1]), calendar };
}
