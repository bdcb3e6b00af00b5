/**
 * The host's own series: plain numbers by label values, updated on every message, and turned into
 * samples only when prom-client's registry reads them at a scrape (it calls `get()` on what is
 * registered). prom-client's instruments hash their labels into a key on every update: the five
 * updates a settled message makes took some 8 µs of the main thread's time (a CPU profile of the host
 * under saturation), against well under one here. At most two label names: the host needs no more.
 */

export type SeriesType = 'counter' | 'gauge' | 'histogram';

/** One sample as prom-client's exposition reads it. */
export interface Sample {
  readonly labels: Readonly<Record<string, string | number>>;
  readonly value: number;
  /** The histogram's `_bucket`, `_sum` or `_count` line; the series' name otherwise. */
  readonly metricName?: string;
}

/** What prom-client's registry reads from a registered metric. */
export interface ScrapedSeries {
  readonly name: string;
  readonly help: string;
  readonly type: SeriesType;
  get(): {
    name: string;
    help: string;
    type: SeriesType;
    values: Sample[];
    aggregator: 'sum';
  };
}

/** One cell of a series: its label values (in the names' order) and its number. */
interface Cell {
  readonly labels: Record<string, string>;
  value: number;
}

/** The cells of a series, by their label values. */
class Cells<C extends Cell> {
  /** By the first label value, then the second ('' for none): maps of the values themselves, no key made. */
  readonly #byValues = new Map<string, Map<string, C>>();
  readonly #labelNames: readonly string[];
  readonly #make: (labels: Record<string, string>) => C;

  constructor(labelNames: readonly string[], make: (labels: Record<string, string>) => C) {
    this.#labelNames = labelNames;
    this.#make = make;
    // A series without labels reads 0 from the start, as prom-client's do (a rate needs it to exist).
    if (labelNames.length === 0) this.at();
  }

  /** The cell of these label values (as many as there are names), made on first use. */
  at(first = '', second = ''): C {
    let bySecond = this.#byValues.get(first);
    if (bySecond === undefined) {
      bySecond = new Map();
      this.#byValues.set(first, bySecond);
    }
    let cell = bySecond.get(second);
    if (cell === undefined) {
      const values = [first, second];
      cell = this.#make(Object.fromEntries(this.#labelNames.map((name, i) => [name, values[i] ?? ''])));
      bySecond.set(second, cell);
    }
    return cell;
  }

  *all(): Generator<C> {
    for (const bySecond of this.#byValues.values()) yield* bySecond.values();
  }
}

abstract class Series implements ScrapedSeries {
  readonly name: string;
  readonly help: string;
  readonly type: SeriesType;

  constructor(name: string, help: string, type: SeriesType) {
    this.name = name;
    this.help = help;
    this.type = type;
  }

  protected abstract samples(): Sample[];

  get() {
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      values: this.samples(),
      aggregator: 'sum' as const,
    };
  }
}

/** A counter or a gauge: a number by label values. */
export class Tally extends Series {
  readonly #cells: Cells<Cell>;

  constructor(name: string, help: string, type: 'counter' | 'gauge', labelNames: readonly string[] = []) {
    super(name, help, type);
    this.#cells = new Cells(labelNames, (labels) => ({ labels, value: 0 }));
  }

  add(delta: number, first?: string, second?: string): void {
    this.#cells.at(first, second).value += delta;
  }

  set(value: number, first?: string, second?: string): void {
    this.#cells.at(first, second).value = value;
  }

  protected samples(): Sample[] {
    return Array.from(this.#cells.all(), ({ labels, value }) => ({ labels, value }));
  }
}

interface HistogramCell extends Cell {
  /** Observations by bucket, not cumulated: the last is past every bound (+Inf). */
  readonly counts: number[];
  /** `value` is the sum of observations. */
  count: number;
}

/** A histogram of fixed upper bounds, by label values. */
export class Histogram extends Series {
  readonly #cells: Cells<HistogramCell>;
  /** The buckets' upper bounds, ascending. */
  readonly #bounds: readonly number[];

  constructor(name: string, help: string, bounds: readonly number[], labelNames: readonly string[] = []) {
    super(name, help, 'histogram');
    this.#bounds = bounds;
    this.#cells = new Cells(labelNames, (labels) => ({
      labels,
      value: 0,
      count: 0,
      counts: new Array<number>(bounds.length + 1).fill(0),
    }));
  }

  observe(value: number, first?: string): void {
    const cell = this.#cells.at(first);
    let bucket = 0;
    while (bucket < this.#bounds.length && value > (this.#bounds[bucket] as number)) bucket += 1;
    cell.counts[bucket] = (cell.counts[bucket] as number) + 1;
    cell.value += value;
    cell.count += 1;
  }

  protected samples(): Sample[] {
    const bucket = `${this.name}_bucket`;
    const samples: Sample[] = [];
    for (const { labels, value, count, counts } of this.#cells.all()) {
      let below = 0;
      this.#bounds.forEach((le, i) => {
        below += counts[i] as number;
        samples.push({ labels: { le, ...labels }, value: below, metricName: bucket });
      });
      samples.push(
        { labels: { le: '+Inf', ...labels }, value: count, metricName: bucket },
        { labels, value, metricName: `${this.name}_sum` },
        { labels, value: count, metricName: `${this.name}_count` },
      );
    }
    return samples;
  }
}

/** A gauge whose samples are read at each scrape. */
export class ReadGauge extends Series {
  readonly #read: () => Sample[];

  constructor(name: string, help: string, read: () => Sample[]) {
    super(name, help, 'gauge');
    this.#read = read;
  }

  protected samples(): Sample[] {
    return this.#read();
  }
}
