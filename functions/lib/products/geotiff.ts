/**
 * GeoTIFF (Cloud-Optimized and BigTIFF included) through geotiff.js, which reads the first image's
 * directory and geokeys from the file by ranges, never its pixels. The CRS comes from the geokeys
 * through geotiff-geokeys-to-proj4 (EPSG codes and user-defined projections alike); the date from
 * the TIFF DateTime tag.
 */
import { fromFile } from 'geotiff';
import { toProj4 } from 'geotiff-geokeys-to-proj4';
import { type Footprint, footprint } from './footprint.ts';
import { ProductError } from './format.ts';

export interface Raster {
  readonly width: number;
  readonly height: number;
  readonly bands: number;
  /** Each band's data type, as GDAL names it: Byte, UInt16, Int16, UInt32, Int32, Float32, Float64. */
  readonly dataTypes: readonly string[];
  /** The size of a pixel along x and y, in the CRS's units. */
  readonly resolution?: readonly [number, number];
  /** `EPSG:<code>`, when the geokeys name one. */
  readonly crs?: string;
}

export interface GeoTiffMetadata {
  readonly raster: Raster;
  readonly footprint: Footprint | string;
  /** The TIFF DateTime, as an ISO 8601 date-time in UTC. */
  readonly datetime?: string;
}

export async function readGeoTiff(path: string): Promise<GeoTiffMetadata> {
  let tiff: Awaited<ReturnType<typeof fromFile>>;
  let image: Awaited<ReturnType<Awaited<ReturnType<typeof fromFile>>['getImage']>>;
  try {
    tiff = await fromFile(path);
    image = await tiff.getImage(0);
  } catch (cause) {
    throw new ProductError(`its TIFF structure cannot be read: ${(cause as Error).message ?? cause}`);
  }
  try {
    const bands = image.getSamplesPerPixel();
    const dataTypes = Array.from({ length: bands }, (_, i) =>
      gdalType(image.getSampleFormat(i), image.getBitsPerSample(i)),
    );
    const keys = image.getGeoKeys() ?? {};
    const code = keys.ProjectedCSTypeGeoKey ?? keys.GeographicTypeGeoKey;
    const located = locate(image, keys);
    const resolution =
      typeof located === 'string' ? undefined : (image.getResolution().slice(0, 2) as [number, number]);
    const date = await image.fileDirectory.loadValue('DateTime').catch(() => undefined);
    return {
      raster: {
        width: image.getWidth(),
        height: image.getHeight(),
        bands,
        dataTypes,
        ...(resolution === undefined
          ? {}
          : { resolution: [Math.abs(resolution[0]), Math.abs(resolution[1])] as const }),
        ...(typeof code === 'number' && code > 0 && code < 32767 ? { crs: `EPSG:${code}` } : {}),
      },
      footprint: located,
      ...(typeof date === 'string' && tiffDate(date) !== undefined ? { datetime: tiffDate(date) } : {}),
    };
  } finally {
    void tiff.close?.();
  }
}

function locate(image: { getBoundingBox(): number[] }, keys: Record<string, unknown>): Footprint | string {
  let box: number[];
  try {
    box = image.getBoundingBox();
  } catch {
    return 'it has no georeferencing (no geotransform, tie points or geokeys)';
  }
  if (Object.keys(keys).length === 0) return 'it has a geotransform but no CRS (no geokeys)';
  const { proj4: definition } = toProj4(keys as unknown as Parameters<typeof toProj4>[0]);
  return footprint(box as [number, number, number, number], withPole(definition));
}

/**
 * geotiff-geokeys-to-proj4 leaves a polar stereographic's pole out (EPSG:3031 comes out with no
 * `+lat_0`, which proj4 then takes as the north pole): the pole is the side of its standard parallel.
 */
function withPole(definition: string): string {
  const parallel = /\+lat_ts=(-?[\d.]+)/.exec(definition)?.[1];
  if (!/\+proj=stere\b/.test(definition) || /\+lat_0=/.test(definition) || parallel === undefined)
    return definition;
  return definition.replace('+proj=stere', `+proj=stere +lat_0=${Number(parallel) < 0 ? -90 : 90}`);
}

function gdalType(format: number, bits: number): string {
  if (format === 3) return bits === 64 ? 'Float64' : 'Float32';
  if (bits === 8) return format === 2 ? 'Int8' : 'Byte';
  return `${format === 2 ? 'Int' : 'UInt'}${bits}`;
}

/** `YYYY:MM:DD HH:MM:SS`, the TIFF form, as ISO 8601 in UTC (TIFF gives no zone). */
function tiffDate(value: string): string | undefined {
  const match = /^(\d{4}):(\d{2}):(\d{2}) (\d{2}):(\d{2}):(\d{2})/.exec(value.trim());
  return match === null
    ? undefined
    : `${match[1]}-${match[2]}-${match[3]}T${match[4]}:${match[5]}:${match[6]}Z`;
}
