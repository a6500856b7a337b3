/**
 * `points` and `table` for a store that can only give whole samples (`window`): the values of
 * sample paths read from the samples as `aggregate()` reads them (`valueAt`, here `pathReader`:
 * the same walk with the path cut once). The SQLite store
 * reads the same values from its columns without building samples; __test__/serve-prometheus.spec
 * holds the two equal.
 */
import { sectionsOf } from '../../collector/aggregate.js';
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

/** Lists keyed by name inside a sample, as `valueAt` walks them (lib/collector/aggregate.ts). */
const LIST_KEYS: Record<string, string> = { diskstats: 'device_name', netdev: 'interface_name', processes: 'key' };

/** Every way to cut `segs` into keys (a key may hold dots: `eth0.100`), in the order `valueAt` tries them: longest first key first. */
function cuts(segs: readonly string[]): string[][] {
  if (segs.length === 0) return [[]];
  const out: string[][] = [];
  for (let k = segs.length; k >= 1; k--) {
    const key = segs.slice(0, k).join('.');
    for (const rest of cuts(segs.slice(k))) out.push([key, ...rest]);
  }
  return out;
}

/**
 * `valueAt(d, path)` with the path cut into keys once, not again for every sample (measured: the
 * walk was a third of /fleet over the TSDB, 16 hosts × an hour). The first cut whose every key
 * finds something is the value, as the walk finds it; __test__/serve-prometheus.spec holds the two equal.
 */
export function pathReader(path: string): (d: SampleDict) => number | undefined {
  const ways = cuts(path.split('.'));
  return (d) => {
    for (const keys of ways) {
      let node: unknown = d;
      let parent: string | undefined;
      for (const key of keys) {
        if (Array.isArray(node)) {
          const nameKey = parent === undefined ? undefined : LIST_KEYS[parent];
          node = nameKey ? node.find((e: Record<string, unknown>) => e[nameKey] === key) : undefined;
        } else node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
        if (node === undefined) break;
        parent = key;
      }
      if (node === undefined) continue;
      if (typeof node === 'number') return Number.isFinite(node) ? node : undefined;
      return typeof node === 'bigint' ? Number(node) : undefined;
    }
    return undefined;
  };
}

/** `Number(wallNsOf(d))`: a sample's `timestamp_ns` is that double already. */
const timeNsOf = (d: SampleDict): number => d.timestamp_ns ?? Number(wallNsOf(d));

/** Per path its value in each sample (NaN where the sample has none), beside the samples' times. */
export function tableOf(samples: readonly SampleDict[], paths: readonly string[]): Table {
  const timesNs = samples.map(timeNsOf);
  const columns = paths.map((p) => {
    const read = pathReader(p);
    return Float64Array.from(samples, (d) => read(d) ?? NaN);
  });
  return { timesNs, columns };
}

/** The samples that have a value of `path`, their times and values. */
export function pointsOf(samples: readonly SampleDict[], path: string): Points {
  const timesNs: number[] = [];
  const values: number[] = [];
  const read = pathReader(path);
  for (const d of samples) {
    const v = read(d);
    if (v === undefined) continue;
    timesNs.push(timeNsOf(d));
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
