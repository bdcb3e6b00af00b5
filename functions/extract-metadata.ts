/**
 * extract-metadata: reads product files and answers with a GeoJSON update per product. From NetCDF
 * (classic and NetCDF-4), HDF5 and GeoTIFF products, recognised by their bytes: footprint (WGS84),
 * time coverage, variables or raster, and the global attributes a catalogue uses (lib/products/);
 * from GeoJSON products, their geometry, bbox and dates; and for any file its size, MD5 checksum,
 * MIME type and dates. Takes one file, or the list extract-archive produces (so the two chain). Given
 * the product's URN in REGARDS (and its model), it also sends REGARDS' feature manager the update of
 * that feature with what it extracted, confirmed before it answers.
 */
import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import {
  type Context,
  defineWorker,
  error,
  featureDate,
  featureModel,
  featureUpdate,
  featureUrn,
  invalid,
  success,
} from 'regards-worker';
import * as z from 'zod';
import { extractedFiles } from './lib/extracted-files.ts';
import { absolutePath, errorCode, md5Checksum, md5File } from './lib/files.ts';
import { MAX_GEOJSON_BYTES, readGeoJson } from './lib/geojson.ts';
import { mimeType } from './lib/mime.ts';
import { ProductError, readProduct } from './lib/products/product.ts';
import { productFragment, productProperties } from './lib/products/properties.ts';

const feature = z.object({
  type: z.literal('Feature'),
  id: z.string(),
  geometry: z.json().nullable(),
  bbox: z.array(z.number()).length(4).optional(),
  properties: z.record(z.string(), z.json()),
});
type Feature = z.infer<typeof feature>;
const PRODUCT_DATES = ['datetime', 'start_datetime', 'end_datetime', 'created', 'updated'] as const;

/**
 * What its feature updates set, as the model shipped beside it names them
 * (deploy/models/DEMO_PRODUCT.xml): the product's dates, what its format says of it (`product`,
 * `variables`, `raster`), and a `file` fragment.
 */
const updated = z.strictObject({
  ...Object.fromEntries(PRODUCT_DATES.map((name) => [name, featureDate().optional()])),
  product: productFragment.optional(),
  variables: z.array(z.json()).optional(),
  raster: z.json().optional(),
  file: z.strictObject({
    name: z.string(),
    path: z.string(),
    size: z.number().int().nonnegative(),
    checksum: z.strictObject({ algorithm: z.string(), value: z.string() }),
    mimeType: z.string(),
    modified: featureDate(),
    created: featureDate().optional(),
  }),
});

export default defineWorker({
  type: 'extract-metadata',
  accepts: ['product-file', 'extracted-files'],
  produces: 'geojson-update',
  emits: ['feature-update'],
  featureProperties: updated,
  input: z.union([
    z.object({
      path: absolutePath,
      id: z.string().min(1).optional(),
      /** The product in REGARDS: given, its feature is updated in rs-fem (which requires its model). */
      feature: z.object({ urn: featureUrn(), model: featureModel() }).optional(),
    }),
    extractedFiles,
  ]),
  output: z.union([feature, z.object({ type: z.literal('FeatureCollection'), features: z.array(feature) })]),
  async handler({ body }, { signal }) {
    const products =
      'path' in body
        ? [{ id: body.id ?? basename(body.path), path: body.path }]
        : body.files.map((file) => ({ id: file.path, path: join(body.target, file.path) }));
    const features: Feature[] = [];
    const unread: string[] = [];
    for (const product of products) {
      const described = await describe(product.id, product.path, signal, 'path' in body).catch(
        (cause: unknown) => {
          if (errorCode(cause) === 'ENOENT') return undefined;
          throw cause;
        },
      );
      if (described === undefined) return error(`product file ${product.path} does not exist`);
      // One product: its file cannot be read as what it is. Of many: said, and described as a file.
      if (described.feature === undefined) return invalid(described.problem);
      if (described.problem !== undefined) unread.push(described.problem);
      features.push(described.feature);
    }
    const only = features[0];
    if ('path' in body && only !== undefined) {
      const events =
        body.feature === undefined
          ? []
          : [
              featureUpdate({
                urn: body.feature.urn,
                model: body.feature.model,
                id: only.id,
                properties: updatedProperties(only.properties),
                ...(only.geometry === null ? {} : { geometry: only.geometry }),
              }),
            ];
      return success({ content: only, events });
    }
    return success({ content: { type: 'FeatureCollection', features }, messages: unread });
  },
});

/**
 * The feature's properties as rs-fem stores them: dates as date-times with an offset (a date alone is
 * midnight UTC); a product date that is no date at all stays in the answered Feature but not in the update.
 */
function updatedProperties(properties: Feature['properties']): Feature['properties'] {
  const updated: Feature['properties'] = {};
  for (const [name, value] of Object.entries(properties)) {
    const date = (PRODUCT_DATES as readonly string[]).includes(name) ? asDateTime(value) : value;
    if (date !== undefined) updated[name] = date;
  }
  return updated;
}

function asDateTime(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const text = /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value;
  return featureDate().safeParse(text).success ? text : undefined;
}

async function describe(
  id: string,
  path: string,
  signal: Context['signal'],
  /** The request's only product: one that cannot be read is the answer, not a feature. */
  only: boolean,
): Promise<{ feature: Feature; problem?: string } | { feature?: undefined; problem: string }> {
  const info = await stat(path);
  if (!info.isFile()) throw Object.assign(new Error(`${path} is not a file`), { code: 'ENOENT' });
  // Its format first, from a few bytes: a product that cannot be read is answered before it is hashed.
  let problem: string | undefined;
  const product = await readProduct(path).catch((cause: unknown) => {
    if (!(cause instanceof ProductError)) throw cause;
    problem = `product file ${path}: ${cause.message}`;
    return undefined;
  });
  if (problem !== undefined && only) return { problem };
  const [{ md5, size }, mime] = await Promise.all([md5File(path, signal), mimeType(path)]);
  const geo =
    product === undefined &&
    (mime === 'application/geo+json' || mime === 'application/json') &&
    size <= MAX_GEOJSON_BYTES
      ? await readGeoJson(path)
      : undefined;
  const productDates = Object.fromEntries(
    PRODUCT_DATES.flatMap((key) => {
      const value = geo?.properties[key];
      return typeof value === 'string' ? [[key, value]] : [];
    }),
  );
  const place = product?.footprint ?? geo;
  const feature: Feature = {
    type: 'Feature',
    id,
    geometry: (place?.geometry ?? null) as z.core.util.JSONType,
    ...(place?.bbox ? { bbox: [...place.bbox] } : {}),
    properties: {
      ...productDates,
      ...(product === undefined ? {} : productProperties(product)),
      file: {
        name: basename(path),
        path,
        size,
        checksum: md5Checksum(md5),
        mimeType: mime,
        modified: info.mtime.toISOString(),
        ...(info.birthtimeMs > 0 ? { created: info.birthtime.toISOString() } : {}),
      },
    },
  };
  return problem === undefined ? { feature } : { feature, problem };
}
