/**
 * One product file's metadata, whatever its format (recognised by its bytes): footprint, time
 * coverage, variables or raster, and the global attributes a catalogue uses. What a file cannot give
 * is said (`noFootprint`), never guessed.
 */
import type { TimeCoverage } from './cf.ts';
import { type Dataset, text } from './dataset.ts';
import type { Footprint } from './footprint.ts';
import { ProductError, productFormat } from './format.ts';
import type { Raster } from './geotiff.ts';

// Each format's reader loads with its first product (h5wasm's WebAssembly alone is 4 MB): a worker that
// is sent GeoJSON and plain files never pays for them. Measured: the bundle's import 310 → 60 ms.

export interface VariableInfo {
  readonly name: string;
  readonly dimensions: readonly string[];
  readonly shape: readonly number[];
  readonly type: string;
  readonly standard_name?: string;
  readonly long_name?: string;
  readonly units?: string;
}

/** The global attributes a catalogue uses, under the names the feature's `product` fragment gives them. */
export const CATALOGUE_ATTRIBUTES = {
  title: ['title'],
  institution: ['institution'],
  source: ['source'],
  platform: ['platform', 'platform_name', 'mission'],
  instrument: ['instrument', 'sensor', 'instrument_name'],
  product_version: ['product_version', 'version'],
  conventions: ['Conventions'],
} as const;

export type CatalogueAttributes = { -readonly [K in keyof typeof CATALOGUE_ATTRIBUTES]?: string };

export interface ProductMetadata {
  readonly format: 'NetCDF classic' | 'NetCDF-4' | 'HDF5' | 'GeoTIFF';
  readonly footprint?: Footprint;
  /** Why there is no footprint. */
  readonly noFootprint?: string;
  readonly time?: TimeCoverage;
  /** A GeoTIFF's date. */
  readonly datetime?: string;
  readonly attributes: CatalogueAttributes;
  readonly variables?: readonly VariableInfo[];
  readonly raster?: Raster;
}

/** Undefined for a file of no format this reads; a ProductError for one it cannot read as what it is. */
export async function readProduct(path: string): Promise<ProductMetadata | undefined> {
  const format = await productFormat(path);
  const claimed = /\.(nc|nc4|cdf|netcdf|h5|hdf5|he5|tif|tiff)$/i.exec(path)?.[1];
  if (format === undefined && claimed !== undefined)
    throw new ProductError(
      `its name says .${claimed}, but its first bytes are no NetCDF, HDF5 or TIFF signature`,
    );
  if (format === undefined) return undefined;
  if (format === 'geotiff') {
    const { readGeoTiff } = await import('./geotiff.ts');
    const tiff = await readGeoTiff(path);
    return {
      format: 'GeoTIFF',
      ...located(tiff.footprint),
      ...(tiff.datetime === undefined ? {} : { datetime: tiff.datetime }),
      attributes: {},
      raster: tiff.raster,
    };
  }
  const dataset =
    format === 'hdf5'
      ? await (await import('./hdf5.ts')).openHdf5(path)
      : await (await import('./netcdf-classic.ts')).openNetcdfClassic(path);
  try {
    return await describe(
      dataset,
      format === 'netcdf-classic' ? 'NetCDF classic' : netcdf4(dataset) ? 'NetCDF-4' : 'HDF5',
    );
  } finally {
    dataset.close();
  }
}

const located = (place: Footprint | string) =>
  typeof place === 'string' ? { noFootprint: place } : { footprint: place };

/** An HDF5 file netCDF-4 wrote: it says so, or its dimensions are netCDF's. */
const netcdf4 = (dataset: Dataset) =>
  text(dataset.attributes.Conventions)?.startsWith('CF') === true ||
  dataset.variables.some((v) => v.dimensions.some((d) => !/^dim\d+$/.test(d)));

async function describe(dataset: Dataset, format: ProductMetadata['format']): Promise<ProductMetadata> {
  const { cfFootprint, cfTimeCoverage } = await import('./cf.ts');
  const [place, time] = await Promise.all([cfFootprint(dataset), cfTimeCoverage(dataset)]);
  const attributes: CatalogueAttributes = {};
  for (const [name, sources] of Object.entries(CATALOGUE_ATTRIBUTES)) {
    const value = sources
      .map((source) => text(dataset.attributes[source]))
      .find((found) => found !== undefined);
    if (value !== undefined) attributes[name as keyof CatalogueAttributes] = value;
  }
  return {
    format,
    ...located(place),
    ...(time === undefined ? {} : { time }),
    attributes,
    variables: dataset.variables.map((v) => ({
      name: v.name,
      dimensions: v.dimensions,
      shape: v.shape,
      type: v.type,
      ...Object.fromEntries(
        (['standard_name', 'long_name', 'units'] as const).flatMap((key) => {
          const value = text(v.attributes[key]);
          return value === undefined ? [] : [[key, value]];
        }),
      ),
    })),
  };
}

export { ProductError };
