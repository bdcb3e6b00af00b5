/**
 * A product's metadata as feature properties, under the names deploy/models/DEMO_PRODUCT.xml gives
 * them (the README's example table lists them): `start_datetime` and `end_datetime` (time coverage),
 * `datetime` (a GeoTIFF's date), the `product` fragment (format, catalogue attributes, calendar, why
 * there is no footprint), `variables` and `raster` (JSON).
 */
import * as z from 'zod';
import { CATALOGUE_ATTRIBUTES, type ProductMetadata } from './product.ts';

/** At most this many variables are listed in a feature (the answer stays small). */
export const MAX_LISTED_VARIABLES = 200;

/** The `product` fragment as a feature update sends it. */
export const productFragment = z.strictObject({
  format: z.string(),
  ...Object.fromEntries(Object.keys(CATALOGUE_ATTRIBUTES).map((name) => [name, z.string().optional()])),
  calendar: z.string().optional(),
  noFootprint: z.string().optional(),
});

export function productProperties(meta: ProductMetadata): Record<string, z.core.util.JSONType> {
  return {
    ...(meta.time === undefined ? {} : { start_datetime: meta.time.start, end_datetime: meta.time.end }),
    ...(meta.datetime === undefined ? {} : { datetime: meta.datetime }),
    product: {
      format: meta.format,
      ...meta.attributes,
      ...(meta.time === undefined ? {} : { calendar: meta.time.calendar }),
      ...(meta.noFootprint === undefined ? {} : { noFootprint: meta.noFootprint }),
    },
    ...(meta.variables === undefined
      ? {}
      : { variables: json(meta.variables.slice(0, MAX_LISTED_VARIABLES)) }),
    ...(meta.raster === undefined ? {} : { raster: json(meta.raster) }),
  };
}

const json = (value: unknown) => JSON.parse(JSON.stringify(value)) as z.core.util.JSONType;
