/**
 * extract-metadata on real product files, made by tools no one here wrote (GDAL, netCDF's ncgen,
 * HDF5's h5import) and checked against those tools' own readers (gdalinfo -json, ncdump, h5dump):
 * footprints to 1e-6 degrees, times to the second, variables, raster sizes and types. Then files that
 * are truncated, corrupt or hostile: answered INVALID_CONTENT naming the file and the problem.
 */
import { execFile } from 'node:child_process';
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import worker from '../../functions/extract-metadata.ts';
import { useTempDirs } from '../helpers/files.ts';
import { cdl, h5dumpDatasets, ncdumpTimes, ncdumpVariables } from '../helpers/product-tools.ts';
import { contentOf, run } from '../helpers/requests.ts';
import { GDAL, HDF5_TOOLS, NETCDF_TOOLS, needs } from '../integration/helpers/requirements.ts';

const ready = await needs('the product file tests', [GDAL, NETCDF_TOOLS, HDF5_TOOLS]);
const tool = (command: string, args: string[], cwd: string) =>
  promisify(execFile)(command, args, { cwd, timeout: 60_000, maxBuffer: 64 * 1024 * 1024 }).then(
    (r) => r.stdout,
  );
const tempDir = useTempDirs({ until: 'file' });

type Feature = {
  bbox?: number[];
  geometry: { type: string; coordinates: number[][][] } | null;
  properties: Record<string, unknown> & {
    product: { format: string; calendar?: string; noFootprint?: string } & Record<string, string>;
    variables?: { name: string; type: string; dimensions: string[]; shape: number[] }[];
    raster?: {
      width: number;
      height: number;
      bands: number;
      dataTypes: string[];
      resolution?: number[];
      crs?: string;
    };
  };
};

async function extract(path: string): Promise<Feature> {
  const answer = await run(worker, { path });
  expect(answer.status, JSON.stringify(answer.messages)).toBe('SUCCESS');
  return contentOf(answer) as Feature;
}

/**
 * GDAL's footprint in WGS84: its wgs84Extent; for a file in longitudes and latitudes (a geographic CRS,
 * or CF coordinates GDAL places with no CRS of their own), its corners.
 */
async function gdalBbox(dir: string, file: string): Promise<number[] | undefined> {
  const info = JSON.parse(await tool('gdalinfo', ['-json', file], dir));
  const geographic =
    info.coordinateSystem === undefined || String(info.coordinateSystem.wkt).startsWith('GEOGCRS');
  const ring: number[][] | undefined =
    info.wgs84Extent?.coordinates[0] ??
    (geographic && info.geoTransform !== undefined
      ? ['upperLeft', 'lowerLeft', 'lowerRight', 'upperRight'].map((corner) => info.cornerCoordinates[corner])
      : undefined);
  if (ring === undefined) return undefined;
  const xs = ring.map((p) => p[0] as number);
  const ys = ring.map((p) => p[1] as number);
  return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
}

function expectBbox(actual: number[] | undefined, expected: number[] | undefined) {
  expect(expected, 'the tool places the file').toBeDefined();
  expect(actual).toHaveLength(4);
  for (const [i, value] of (expected as number[]).entries()) expect(actual?.[i]).toBeCloseTo(value, 6);
}

const GEOTIFFS: [string, string[]][] = [
  ['geographic, EPSG:4326', ['-a_srs', 'EPSG:4326', '-a_ullr', '1.5', '44.5', '2.5', '43.5']],
  ['UTM 31N', ['-a_srs', 'EPSG:32631', '-a_ullr', '400000', '4900000', '420000', '4890000']],
  ['UTM 35S', ['-a_srs', 'EPSG:32735', '-a_ullr', '300000', '7100000', '330000', '7080000']],
  [
    'polar stereographic north (EPSG:3413)',
    ['-a_srs', 'EPSG:3413', '-a_ullr', '-500000', '-500000', '500000', '-1500000'],
  ],
  [
    'polar stereographic south (EPSG:3031)',
    ['-a_srs', 'EPSG:3031', '-a_ullr', '-1000000', '1000000', '0', '0'],
  ],
  ['Lambert-93 (EPSG:2154)', ['-a_srs', 'EPSG:2154', '-a_ullr', '600000', '6500000', '700000', '6400000']],
  ['Web Mercator', ['-a_srs', 'EPSG:3857', '-a_ullr', '200000', '5400000', '300000', '5300000']],
  [
    'tiled, three Float32 bands',
    [
      '-ot',
      'Float32',
      '-bands',
      '3',
      '-co',
      'TILED=YES',
      '-a_srs',
      'EPSG:32631',
      '-a_ullr',
      '400000',
      '4900000',
      '420000',
      '4890000',
    ],
  ],
  ['BigTIFF', ['-co', 'BIGTIFF=YES', '-a_srs', 'EPSG:4326', '-a_ullr', '-10', '60', '10', '40']],
];

describe.runIf(ready)('GeoTIFF products, against gdalinfo', () => {
  it.each(GEOTIFFS)('%s: footprint, size, bands and resolution as gdalinfo reads them', async (_, args) => {
    const dir = await tempDir();
    await tool(
      'gdal_create',
      ['-of', 'GTiff', '-outsize', '64', '32', '-ot', 'UInt16', ...args, 'p.tif'],
      dir,
    );
    const feature = await extract(join(dir, 'p.tif'));
    const info = JSON.parse(await tool('gdalinfo', ['-json', 'p.tif'], dir));
    expectBbox(feature.bbox, await gdalBbox(dir, 'p.tif'));
    expect(feature.geometry?.type).toBe('Polygon');
    const raster = feature.properties.raster;
    expect([raster?.width, raster?.height]).toEqual(info.size);
    expect(raster?.dataTypes).toEqual(info.bands.map((band: { type: string }) => band.type));
    expect(raster?.resolution?.[0]).toBeCloseTo(info.geoTransform[1], 9);
    expect(raster?.resolution?.[1]).toBeCloseTo(Math.abs(info.geoTransform[5]), 9);
    expect(raster?.crs).toBe(`EPSG:${info.stac['proj:epsg']}`);
    expect(feature.properties.product.format).toBe('GeoTIFF');
  });

  it('a Cloud-Optimized GeoTIFF, and its date from the TIFF DateTime tag', async () => {
    const dir = await tempDir();
    await tool(
      'gdal_create',
      [
        '-of',
        'GTiff',
        '-outsize',
        '600',
        '600',
        '-a_srs',
        'EPSG:32631',
        '-a_ullr',
        '400000',
        '4900000',
        '460000',
        '4840000',
        '-mo',
        'TIFFTAG_DATETIME=2024:03:01 10:20:30',
        'src.tif',
      ],
      dir,
    );
    await tool('gdal_translate', ['-of', 'COG', 'src.tif', 'cog.tif'], dir);
    const info = JSON.parse(await tool('gdalinfo', ['-json', 'cog.tif'], dir));
    expect(info.metadata.IMAGE_STRUCTURE.LAYOUT).toBe('COG');
    const feature = await extract(join(dir, 'cog.tif'));
    expectBbox(feature.bbox, await gdalBbox(dir, 'cog.tif'));
    const [date, time] = String(info.metadata[''].TIFFTAG_DATETIME).split(' ');
    expect(feature.properties.datetime).toBe(`${date?.replaceAll(':', '-')}T${time}Z`);
  });

  it('a TIFF with no georeferencing: no footprint, and it says why', async () => {
    const dir = await tempDir();
    await tool('gdal_create', ['-of', 'GTiff', '-outsize', '8', '8', 'plain.tif'], dir);
    expect(JSON.parse(await tool('gdalinfo', ['-json', 'plain.tif'], dir)).coordinateSystem).toBeUndefined();
    const feature = await extract(join(dir, 'plain.tif'));
    expect(feature.bbox).toBeUndefined();
    expect(feature.geometry).toBeNull();
    expect(feature.properties.product.noFootprint).toMatch(/no georeferencing/);
  });
});

const CALENDARS: [string, string, string, string, number[]][] = [
  ['standard', 'classic', 'days since 2000-01-01', 'standard', [0, 45.5, 366]],
  ['gregorian', 'classic', 'hours since 1990-06-15 06:00:00', 'gregorian', [0, 1000.25, 9000]],
  [
    'proleptic_gregorian, 64-bit offset',
    '64-bit-offset',
    'seconds since 1970-01-01T00:00:00Z',
    'proleptic_gregorian',
    [1.7e9, 1.7e9 + 86399],
  ],
  ['noleap, NetCDF-4', 'nc4', 'days since 1999-12-31', 'noleap', [58, 59, 400]],
  ['365_day, NetCDF-4', 'nc4', 'days since 2001-01-01', '365_day', [0, 730.5]],
  ['360_day, NetCDF-4', 'nc4', 'days since 2000-01-01 00:00:00', '360_day', [58.5, 59.5, 719]],
  ['julian, NetCDF-4 classic model', 'nc7', 'days since 2000-02-20', 'julian', [0, 20, 3000]],
];

describe.runIf(ready)('NetCDF products, against ncdump and gdalinfo', () => {
  it.each(CALENDARS)(
    '%s: time coverage as ncdump -t says, footprint as gdalinfo, variables as ncdump -h',
    async (_, kind, units, calendar, times) => {
      const dir = await tempDir();
      await writeFile(join(dir, 'p.cdl'), cdl({ units, calendar, times }));
      await tool('ncgen', ['-k', kind, '-o', 'p.nc', 'p.cdl'], dir);
      const feature = await extract(join(dir, 'p.nc'));
      const expected = ncdumpTimes(await tool('ncdump', ['-t', '-v', 'time', 'p.nc'], dir));
      expect(feature.properties.start_datetime).toBe(expected[0]);
      expect(feature.properties.end_datetime).toBe(expected.at(-1));
      expect(feature.properties.product.calendar).toBe(calendar);
      expectBbox(feature.bbox, await gdalBbox(dir, 'p.nc'));
      const declared = ncdumpVariables(await tool('ncdump', ['-h', 'p.nc'], dir));
      expect(
        feature.properties.variables?.map(({ name, type, dimensions }) => ({ name, type, dimensions })),
      ).toEqual(declared);
      expect(feature.properties.product).toMatchObject({
        title: 'A test product',
        institution: 'CNES',
        conventions: 'CF-1.8',
      });
    },
  );

  it('NetCDF-4 with groups and compressed variables, latitudes north to south', async () => {
    const dir = await tempDir();
    await writeFile(
      join(dir, 'p.cdl'),
      cdl({
        units: 'days since 2010-01-01',
        calendar: 'standard',
        times: [1, 2],
        grouped: true,
        descending: true,
      }),
    );
    await tool('ncgen', ['-k', 'nc4', '-o', 'p.nc', 'p.cdl'], dir);
    expect(await tool('ncdump', ['-hs', 'p.nc'], dir)).toMatch(/_DeflateLevel = 5/);
    const feature = await extract(join(dir, 'p.nc'));
    expect(feature.properties.product.format).toBe('NetCDF-4');
    expect(
      feature.properties.variables?.map(({ name, type, dimensions }) => ({ name, type, dimensions })),
    ).toEqual(ncdumpVariables(await tool('ncdump', ['-h', 'p.nc'], dir)));
    expectBbox(feature.bbox, await gdalBbox(dir, 'NETCDF:"p.nc":/measurements/tas'));
  });

  it.each([
    ['UTM 31N, NetCDF classic', 'EPSG:32631', ['400000', '4900000', '420000', '4890000'], []],
    [
      'polar stereographic south, NetCDF-4',
      'EPSG:3031',
      ['-1000000', '1000000', '0', '0'],
      ['-co', 'FORMAT=NC4'],
    ],
  ])(
    '%s as GDAL writes it (CF grid_mapping): footprint as gdalinfo reads it',
    async (_, srs, corners, options) => {
      const dir = await tempDir();
      await tool(
        'gdal_create',
        ['-of', 'GTiff', '-outsize', '40', '20', '-a_srs', srs, '-a_ullr', ...corners, 'src.tif'],
        dir,
      );
      await tool('gdal_translate', ['-of', 'netCDF', ...options, 'src.tif', 'p.nc'], dir);
      const feature = await extract(join(dir, 'p.nc'));
      expectBbox(feature.bbox, await gdalBbox(dir, 'p.nc'));
    },
  );

  it('a NetCDF file with no coordinates: no footprint, and it says why', async () => {
    const dir = await tempDir();
    await writeFile(
      join(dir, 'p.cdl'),
      'netcdf p {\ndimensions:\n  x = 3 ;\nvariables:\n  float v(x) ;\ndata:\n  v = 1, 2, 3 ;\n}\n',
    );
    await tool('ncgen', ['-k', 'classic', '-o', 'p.nc', 'p.cdl'], dir);
    const feature = await extract(join(dir, 'p.nc'));
    expect(feature.bbox).toBeUndefined();
    expect(feature.properties.product.noFootprint).toMatch(/no latitude and longitude/);
    expect(feature.properties.start_datetime).toBeUndefined();
  });
});

describe.runIf(ready)('HDF5 products, against h5dump', () => {
  it('lists the datasets h5dump -H lists, with their shapes', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'values.txt'), '1 2 3 4\n5 6 7 8\n9 10 11 12\n');
    await writeFile(
      join(dir, 'values.cfg'),
      'PATH /measurements/temperature\nINPUT-CLASS TEXTFP\nRANK 2\nDIMENSION-SIZES 3 4\nOUTPUT-CLASS FP\nOUTPUT-SIZE 32\n',
    );
    await tool('h5import', ['values.txt', '-c', 'values.cfg', '-o', 'p.h5'], dir);
    const feature = await extract(join(dir, 'p.h5'));
    expect(feature.properties.product.format).toBe('HDF5');
    const listed = h5dumpDatasets(await tool('h5dump', ['-H', 'p.h5'], dir));
    expect(feature.properties.variables?.map(({ name, shape }) => ({ name, shape }))).toEqual(listed);
    expect(feature.properties.product.noFootprint).toBeDefined();
  });
});

describe.runIf(ready)('truncated, corrupt and hostile product files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir();
    await writeFile(
      join(dir, 'p.cdl'),
      cdl({ units: 'days since 2000-01-01', calendar: 'standard', times: [1, 2] }),
    );
    await tool('ncgen', ['-k', 'classic', '-o', 'classic.nc', 'p.cdl'], dir);
    await tool('ncgen', ['-k', 'nc4', '-o', 'nc4.nc', 'p.cdl'], dir);
  });
  const refused = async (file: string, problem: RegExp) => {
    const answer = await run(worker, { path: join(dir, file) });
    expect(answer.status).toBe('INVALID_CONTENT');
    expect(answer.messages.join(' ')).toContain(join(dir, file));
    expect(answer.messages.join(' ')).toMatch(problem);
  };

  it('a NetCDF header cut short', async () => {
    await tool('sh', ['-c', 'head -c 200 classic.nc > cut.nc'], dir);
    await refused('cut.nc', /truncated|cut short|cannot be read/);
  });

  it('a NetCDF-4 (HDF5) file cut short', async () => {
    await tool('sh', ['-c', 'head -c 3000 nc4.nc > cut4.nc'], dir);
    await refused('cut4.nc', /HDF5 cannot open it: H5F__super_read\(\): truncated file/);
  });

  it('a name that says NetCDF on bytes that are not, even 4 GB of them (sparse): refused before it is read', async () => {
    const file = await open(join(dir, 'sparse.nc'), 'w');
    await file.truncate(4 * 1024 ** 3);
    await file.close();
    const started = performance.now();
    await refused('sparse.nc', /no NetCDF, HDF5 or TIFF signature/);
    expect(performance.now() - started).toBeLessThan(30_000);
  });

  it('a header that claims 2^31 latitudes', async () => {
    await tool('sh', ['-c', 'cp classic.nc huge.nc'], dir);
    // The lat dimension's length, big-endian after its name in the header: 3 becomes 2^31 - 1.
    const bytes = await tool(
      'sh',
      ['-c', "grep -obUaP 'lat\\x00\\x00\\x00\\x00\\x00\\x00\\x03' huge.nc | head -1 | cut -d: -f1"],
      dir,
    );
    const at = Number(bytes.trim()) + 4;
    const file = await open(join(dir, 'huge.nc'), 'r+');
    await file.write(Buffer.from([0x7f, 0xff, 0xff, 0xff]), 0, 4, at);
    await file.close();
    await refused('huge.nc', /lat|truncated|more than/);
  });

  it('a NetCDF-4 file of 10,000 variables', async () => {
    const vars = Array.from({ length: 10_000 }, (_, i) => `  byte v${i} ;`).join('\n');
    await writeFile(join(dir, 'many.cdl'), `netcdf many {\nvariables:\n${vars}\n}\n`);
    await tool('ncgen', ['-k', 'nc4', '-o', 'many.nc', 'many.cdl'], dir);
    await refused('many.nc', /more than the 2000 datasets read/);
  });
});
