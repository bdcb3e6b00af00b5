/** Reading the geometry and product properties that a GeoJSON product file carries. */
import { readFile } from 'node:fs/promises';
import * as z from 'zod';

type Position = number[];
export type Geometry = { type: string; coordinates?: unknown; geometries?: Geometry[] };
export type BBox = [number, number, number, number];

const geometry: z.ZodType<Geometry> = z.lazy(() =>
  z.union([
    z.object({
      type: z.enum(['Point', 'MultiPoint', 'LineString', 'MultiLineString', 'Polygon', 'MultiPolygon']),
      coordinates: z.array(z.unknown()).or(z.array(z.number())),
    }),
    z.object({ type: z.literal('GeometryCollection'), geometries: z.array(geometry) }),
  ]),
);
const properties = z.record(z.string(), z.unknown()).nullish();
const feature = z.object({ type: z.literal('Feature'), geometry: geometry.nullable(), properties });
const collection = z.object({ type: z.literal('FeatureCollection'), features: z.array(feature) });

export interface GeoMetadata {
  readonly geometry: Geometry | null;
  readonly bbox: BBox | undefined;
  /** The product's own properties (a Feature's, or the only feature's of a collection). */
  readonly properties: Readonly<Record<string, unknown>>;
}

/** Largest GeoJSON product read whole to find its geometry. */
export const MAX_GEOJSON_BYTES = 64 * 1024 * 1024;

/** Undefined when the file is not a GeoJSON document. */
export async function readGeoJson(path: string): Promise<GeoMetadata | undefined> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch {
    return undefined;
  }
  const single = feature.safeParse(parsed);
  if (single.success) return withBBox(single.data.geometry, single.data.properties ?? {});
  const many = collection.safeParse(parsed);
  if (many.success) {
    const { features } = many.data;
    const geometries = features.flatMap((f) => (f.geometry ? [f.geometry] : []));
    const merged: Geometry | null =
      geometries.length > 1 ? { type: 'GeometryCollection', geometries } : (geometries[0] ?? null);
    return withBBox(merged, features.length === 1 ? (features[0]?.properties ?? {}) : {});
  }
  const bare = geometry.safeParse(parsed);
  return bare.success ? withBBox(bare.data, {}) : undefined;
}

function withBBox(geom: Geometry | null, props: Record<string, unknown>): GeoMetadata {
  return { geometry: geom, bbox: geom ? bbox(geom) : undefined, properties: props };
}

/** The 2D bounding box [west, south, east, north] of a geometry, or undefined if it has no position. */
export function bbox(geom: Geometry): BBox | undefined {
  let box: BBox | undefined;
  const visit = (position: Position) => {
    const [x, y] = position;
    if (typeof x !== 'number' || typeof y !== 'number') return;
    box = box
      ? [Math.min(box[0], x), Math.min(box[1], y), Math.max(box[2], x), Math.max(box[3], y)]
      : [x, y, x, y];
  };
  const walk = (value: unknown) => {
    if (!Array.isArray(value)) return;
    if (typeof value[0] === 'number') visit(value as Position);
    else for (const item of value) walk(item);
  };
  const each = (g: Geometry) => {
    walk(g.coordinates);
    for (const child of g.geometries ?? []) each(child);
  };
  each(geom);
  return box;
}
