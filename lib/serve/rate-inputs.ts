/**
 * The inputs of one rate, read from the stored columns: for `rates.disk.sda.util` the counters of
 * sda (and `stat.btime`, which tells a reboot) of every sample, as samples holding only those, so
 * that the collector's own `computeRates` (through `series()`) works them out. Nothing else of the
 * samples is decoded (measured: an hour of rates.disk.X.util, 29 chunks, ~75 ms from decoded
 * sections → a few ms). Paths this cannot serve (processes, app, collectors) decode sections.
 *
 * Counters come as doubles (exact up to 2^53, as `aggregate()` reads sample values); the rates of
 * a counter beyond that may differ from the decoded path's in the last digits.
 */
import { CPU_FIELDS, DISKSTATS_FIELDS, NETDEV_FIELDS, type CpuTimes, type SampleDict } from '../types/sample.js';
import type { RateInput, Rates } from '../types/rates.js';
import { isoSeconds } from '../native/decode.js';
import type { Table } from './store/store.js';

/** The vmstat counters computeRates reads. */
const VM_KEYS = ['pgpgin', 'pgpgout', 'pgfault', 'pgmajfault', 'pswpin', 'pswpout'];
const MEM_KEYS = ['MemTotal', 'MemAvailable'];

/** What one rate needs: sample paths to read, and how a sample is made of their values. */
export interface RateRecipe {
  paths: string[];
  /** `v(j)`: the sample's value of `paths[j]` (NaN: none). */
  fill: (s: SampleDict, v: (j: number) => number) => void;
  /**
   * The rate in `computeRates`' output, where `valueAt(rates, path)` finds it (a direct read:
   * the general walk over dotted names was a quarter of a one-hour query, measured).
   */
  read: (r: Rates) => unknown;
}

/** A record of `fields` under `prefix` (undefined when the sample has none of them). */
function fields<K extends string>(keys: readonly K[], v: (j: number) => number, offset = 0): Record<K, number> | undefined {
  let out: Record<K, number> | undefined;
  keys.forEach((k, j) => {
    const x = v(offset + j);
    if (!Number.isNaN(x)) (out ??= {} as Record<K, number>)[k] = x;
  });
  return out;
}

/** The recipe of a `rates.` path, or undefined where it needs decoded sections. */
export function rateRecipe(path: string): RateRecipe | undefined {
  const [, section, ...rest] = path.split('.');
  // Every rate's field is one segment: the name is what lies between.
  const name = rest.slice(0, -1).join('.');
  const field = rest[rest.length - 1];
  if (rest.length < 1 || (rest.length < 2 && section !== 'mem' && section !== 'vm') || (rest.length > 1 && (section === 'mem' || section === 'vm'))) return undefined;
  const named = (r: Record<string, Record<string, number> | undefined>): unknown => (Object.hasOwn(r, name) ? r[name]?.[field] : undefined);
  const direct = (r: Record<string, number>): unknown => (Object.hasOwn(r, field) ? r[field] : undefined);
  const btime = (base: number): RateRecipe['fill'] => (s, v) => {
    const b = v(base);
    // stat is what tells a reboot; a sample without stat gives no reboot check, as decoded.
    if (!Number.isNaN(b)) s.stat = { cpu: s.stat?.cpu ?? ZERO_CPU, cpus: s.stat?.cpus ?? {}, btime: b, intr: 0, ctxt: 0, processes: 0, procs_running: 0, procs_blocked: 0 };
  };
  switch (section) {
    case 'disk': {
      const paths = [...DISKSTATS_FIELDS.map((f) => `diskstats.${name}.${f}`), 'stat.btime'];
      return { paths, read: (r) => named(r.disk as Record<string, Record<string, number>>), fill: (s, v) => {
        const f = fields(DISKSTATS_FIELDS, v);
        if (f) s.diskstats = [{ device_name: name, ...f }];
        btime(DISKSTATS_FIELDS.length)(s, v);
      } };
    }
    case 'net': {
      const paths = [...NETDEV_FIELDS.map((f) => `netdev.${name}.${f}`), 'stat.btime'];
      return { paths, read: (r) => named(r.net as Record<string, Record<string, number>>), fill: (s, v) => {
        const f = fields(NETDEV_FIELDS, v);
        if (f) s.netdev = [{ interface_name: name, ...f }];
        btime(NETDEV_FIELDS.length)(s, v);
      } };
    }
    case 'cpu': {
      const src = name === 'all' ? 'stat.cpu' : `stat.cpus.${name}`;
      const paths = [...CPU_FIELDS.map((f) => `${src}.${f}`), 'stat.btime'];
      return { paths, read: (r) => named(r.cpu as Record<string, Record<string, number>>), fill: (s, v) => {
        btime(CPU_FIELDS.length)(s, v);
        const t = fields(CPU_FIELDS, v) as CpuTimes | undefined;
        if (!s.stat || !t) return;
        if (name === 'all') s.stat.cpu = t;
        else s.stat.cpus = { [name]: t };
      } };
    }
    case 'mem':
      return { paths: [...MEM_KEYS.map((k) => `meminfo.${k}`), 'stat.btime'], read: (r) => direct(r.mem as Record<string, number>), fill: (s, v) => {
        const m = fields(MEM_KEYS, v);
        if (m) s.meminfo = m;
        btime(MEM_KEYS.length)(s, v);
      } };
    case 'vm':
      return { paths: [...VM_KEYS.map((k) => `vmstat.${k}`), 'stat.btime'], read: (r) => direct(r.vm as Record<string, number>), fill: (s, v) => {
        const m = fields(VM_KEYS, v);
        if (m) s.vmstat = m;
        btime(VM_KEYS.length)(s, v);
      } };
    default:
      return undefined;
  }
}

/** decode.ts reads a /proc/stat without the aggregate `cpu` line as zeros; so do these. */
const ZERO_CPU = Object.fromEntries(CPU_FIELDS.map((f) => [f, 0])) as unknown as CpuTimes;

/**
 * `isoSeconds` with the day's part made once a day (measured: toISOString per sample was a tenth
 * of a one-hour rates query).
 */
class Stamps {
  private day = NaN;
  private prefix = '';
  of(ns: number): string {
    const sec = Math.floor(ns / 1e9);
    const day = Math.floor(sec / 86_400);
    if (day !== this.day) {
      this.day = day;
      this.prefix = isoSeconds(day * 86_400_000).slice(0, 11);
    }
    const s = sec - day * 86_400;
    const two = (n: number): string => (n < 10 ? `0${n}` : String(n));
    return `${this.prefix}${two(Math.floor(s / 3600))}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}Z`;
  }
}

/** The samples of a table made by a recipe (time and the rate's inputs only). */
export function rateSamples(t: Table, recipe: RateRecipe): RateInput[] {
  const out: RateInput[] = new Array<RateInput>(t.timesNs.length);
  const stamps = new Stamps();
  for (let i = 0; i < t.timesNs.length; i++) {
    const ns = t.timesNs[i];
    const s: SampleDict = { timestamp: stamps.of(ns), timestamp_ns: ns, hostname: '' };
    recipe.fill(s, (j) => t.columns[j][i]);
    out[i] = s;
  }
  return out;
}
