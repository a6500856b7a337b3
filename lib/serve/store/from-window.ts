/**
 * `points` and `table` for a store that can only give whole samples (`window`): the values of
 * sample paths read from the samples as `aggregate()` reads them (`valueAt`). The SQLite store
 * reads the same values from its columns without building samples; __test__/serve-prometheus.spec
 * holds the two equal.
 */
import { sectionsOf, valueAt } from '../../collector/aggregate.js';
import type { SectionFilter } from '../../native/decode.js';
import type { SampleDict } from '../../types/sample.js';
import { wallNsOf, type Points, type SampleStore, type Table } from './store.js';

/** The sections sample paths read (undefined: all of them, for `collectors.`). */
export function sectionsOfPaths(paths: readonly string[]): SectionFilter | undefined {
  const all = new Set<string>();
  for (const p of paths) {
    const s = sectionsOf(p);
    if (!s) return undefined;
    for (const x of s) all.add(x);
  }
  return all;
}

/** Per path its value in each sample (NaN where the sample has none), beside the samples' times. */
export function tableOf(samples: readonly SampleDict[], paths: readonly string[]): Table {
  const timesNs = samples.map((d) => Number(wallNsOf(d)));
  const columns = paths.map((p) => Float64Array.from(samples, (d) => valueAt(d, p) ?? NaN));
  return { timesNs, columns };
}

/** The samples that have a value of `path`, their times and values. */
export function pointsOf(samples: readonly SampleDict[], path: string): Points {
  const timesNs: number[] = [];
  const values: number[] = [];
  for (const d of samples) {
    const v = valueAt(d, path);
    if (v === undefined) continue;
    timesNs.push(Number(wallNsOf(d)));
    values.push(v);
  }
  return { timesNs, values };
}

/** `points` through a store's `window` (only the path's section read). */
export async function pointsFromWindow(store: Pick<SampleStore, 'window'>, host: string, fromNs: bigint, toNs: bigint, path: string): Promise<Points> {
  return pointsOf(await store.window(host, fromNs, toNs, sectionsOfPaths([path])), path);
}

/** `table` through a store's `window` (only the paths' sections read). */
export async function tableFromWindow(store: Pick<SampleStore, 'window'>, host: string, fromNs: bigint, toNs: bigint, paths: readonly string[]): Promise<Table> {
  return tableOf(await store.window(host, fromNs, toNs, sectionsOfPaths(paths)), paths);
}
