/** CDL for ncgen, and what ncdump and h5dump print, read back for the product tests. */

export interface CdlOptions {
  readonly units: string;
  readonly calendar: string;
  readonly times: readonly number[];
  /** The data variable in a group of its own, compressed (NetCDF-4 only). */
  readonly grouped?: boolean;
  /** Latitudes from north to south, as most images are laid out. */
  readonly descending?: boolean;
}

/**
 * A CF product: time, latitude and longitude coordinates, one data variable, catalogue attributes.
 * Grouped, the grid (its dimensions, coordinates and compressed data) is a group of its own, and the
 * time stays at the root, as GDAL still places such a grid.
 */
export function cdl(options: CdlOptions): string {
  const lats = options.descending ? '45, 44.5, 44' : '44, 44.5, 45';
  const grid = `  float lat(lat) ;
    lat:units = "degrees_north" ;
    lat:standard_name = "latitude" ;
  float lon(lon) ;
    lon:units = "degrees_east" ;
    lon:standard_name = "longitude" ;
  float tas(time, lat, lon) ;
    tas:units = "K" ;
    tas:standard_name = "air_temperature" ;
    tas:long_name = "Near-surface air temperature" ;${options.grouped ? '\n    tas:_DeflateLevel = 5 ;\n    tas:_Shuffle = "true" ;' : ''}`;
  const dimensions = '  lat = 3 ;\n  lon = 4 ;';
  const values = `  lat = ${lats} ;\n  lon = 1.25, 1.75, 2.25, 2.75 ;`;
  const group = `group: measurements {\ndimensions:\n${dimensions}\nvariables:\n${grid}\ndata:\n${values}\n}\n`;
  return `netcdf p {
dimensions:
  time = UNLIMITED ;
${options.grouped ? '' : dimensions}
variables:
  double time(time) ;
    time:units = "${options.units}" ;
    time:calendar = "${options.calendar}" ;
    time:standard_name = "time" ;
${options.grouped ? '' : grid}
  :title = "A test product" ;
  :institution = "CNES" ;
  :Conventions = "CF-1.8" ;
data:
  time = ${options.times.join(', ')} ;
${options.grouped ? '' : values}
${options.grouped ? group : ''}}
`;
}

/** `ncdump -t -v time`: the times, as ISO 8601 date-times in UTC to the second. */
export function ncdumpTimes(output: string): string[] {
  const values = output.slice(output.indexOf(' time = '));
  return [...values.matchAll(/"(-?\d+)-(\d+)-(\d+)(?: (\d+)(?::(\d+)(?::(\d+))?)?)?"/g)].map(
    ([, y, mo, d, h, mi, s]) =>
      `${y?.padStart(4, '0')}-${mo?.padStart(2, '0')}-${d?.padStart(2, '0')}T${(h ?? '0').padStart(2, '0')}:${(mi ?? '0').padStart(2, '0')}:${(s ?? '0').padStart(2, '0')}Z`,
  );
}

/** `ncdump -h`: each variable's name (`group/name` in a group), type and dimensions, in order. */
export function ncdumpVariables(output: string): { name: string; type: string; dimensions: string[] }[] {
  const found: { name: string; type: string; dimensions: string[] }[] = [];
  const groups: string[] = [];
  let inVariables = false;
  for (const line of output.split('\n')) {
    const group = /^\s*group: (\S+) \{/.exec(line);
    if (group) groups.push(group[1] as string);
    else if (/^\s*\} \/\/ group/.test(line)) groups.pop();
    if (/^\s*variables:/.test(line)) inVariables = true;
    else if (/^\s*(dimensions|data|\/\/ global attributes|\/\/ group attributes):?/.test(line))
      inVariables = false;
    const declared = /^\s+(\w+) (\w+)(?:\(([^)]*)\))? ;/.exec(line);
    if (inVariables && declared)
      found.push({
        name: [...groups, declared[2] as string].join('/'),
        type: declared[1] as string,
        dimensions: declared[3] === undefined ? [] : declared[3].split(',').map((d) => d.trim()),
      });
  }
  return found;
}

/** `h5dump -H`: each dataset's path (without the leading `/`) and shape, in order. */
export function h5dumpDatasets(output: string): { name: string; shape: number[] }[] {
  const found: { name: string; shape: number[] }[] = [];
  const path: string[] = [];
  let dataset: string | undefined;
  for (const line of output.split('\n')) {
    const group = /^\s*GROUP "([^"]+)" \{/.exec(line);
    if (group && group[1] !== '/') path.push(group[1] as string);
    const opened = /^\s*DATASET "([^"]+)" \{/.exec(line);
    if (opened) dataset = opened[1];
    const space = /DATASPACE\s+SIMPLE \{ \( ([\d, ]+) \)/.exec(line);
    if (space && dataset !== undefined) {
      found.push({
        name: [...path, dataset].join('/'),
        shape: (space[1] as string).split(',').map((n) => Number(n.trim())),
      });
      dataset = undefined;
    }
    if (/^\s*\}\s*$/.test(line) && dataset === undefined && path.length > 0 && /^ {3}\}/.test(line))
      path.pop();
  }
  return found;
}
