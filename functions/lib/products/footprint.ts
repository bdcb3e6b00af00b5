/**
 * A footprint in WGS84 (longitude, latitude) from the extent of a grid in its own CRS: its four
 * corners transformed by proj4, as GDAL's `wgs84Extent` does, as a GeoJSON polygon with its bbox.
 */
import proj4 from 'proj4';
import { ProductError } from './format.ts';

export type BBox = [number, number, number, number];
export interface Footprint {
  readonly bbox: BBox;
  readonly geometry: { readonly type: 'Polygon'; readonly coordinates: number[][][] };
}

/** `crs`: a proj4 definition or WKT; undefined for longitudes and latitudes already. */
export function footprint(extent: BBox, crs?: string): Footprint {
  const [minX, minY, maxX, maxY] = extent;
  const corners = [
    [minX, maxY],
    [minX, minY],
    [maxX, minY],
    [maxX, maxY],
  ];
  let transform: (point: number[]) => number[] = (point) => point;
  if (crs !== undefined) {
    try {
      const converter = proj4(crs, 'WGS84');
      transform = (point) => converter.forward(point);
    } catch (cause) {
      throw new ProductError(`its CRS cannot be used: ${(cause as Error).message ?? cause}`);
    }
  }
  const ring = corners.map(transform).map(([x = Number.NaN, y = Number.NaN]) => [x, y]);
  if (!ring.flat().every(Number.isFinite))
    throw new ProductError('its corners do not transform to longitudes and latitudes');
  const xs = ring.map((point) => point[0] as number);
  const ys = ring.map((point) => point[1] as number);
  return {
    bbox: [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)],
    geometry: { type: 'Polygon', coordinates: [[...ring, ring[0] as number[]]] },
  };
}

/** The extent of cells centred on `values` (regular or not: half the first and last steps beyond). */
export function cellExtent(values: Float64Array): [number, number] | undefined {
  const finite = values.filter(Number.isFinite);
  const n = finite.length;
  if (n === 0) return undefined;
  const first = finite[0] as number;
  const last = finite[n - 1] as number;
  if (n === 1) return [first, first];
  const half = (last - first) / (n - 1) / 2;
  return first <= last ? [first - half, last + half] : [last + half, first - half];
}
