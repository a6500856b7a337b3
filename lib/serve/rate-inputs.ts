/**
 * One rate of the read API worked out from stored columns: for `rates.disk.sda.util` the one
 * formula of lib/rates/formulas.ts (the one `computeRates` applies), the columns of only its
 * inputs (`diskstats.sda.time_doing_ios_ms`) and `stat.btime` (which tells a reboot), applied to
 * each pair of consecutive samples as `series()` pairs them. No sample objects, no whole
 * `computeRates` result (measured: an hour of rates.cpu.all.busy, ~25 ms that way → a few ms).
 * Paths this cannot serve (processes, app, collectors) decode sections instead (query.ts).
 *
 * Counters come as doubles (exact up to 2^53, as `aggregate()` reads sample values); the rates of
 * a counter beyond that may differ from the decoded path's in the last digits.
 */
import { CPU_FORMULAS, DISK_FORMULAS, MEM_FORMULAS, NET_FORMULAS, VM_FORMULAS, type DeltaFormula, type Deltas, type LevelFormula } from '../rates/formulas.js';
import type { Table } from './store/store.js';

/** What one rate needs: the sample paths to read (`store.table`), and the formula over them. */
export type RateRecipe =
  /** A rate over the interval: `paths` are the formula's inputs, then `stat.btime`. */
  | { kind: 'delta'; paths: string[]; formula: DeltaFormula }
  /** A level of the later sample (`rates.mem.used_pct`): `paths` are its inputs. */
  | { kind: 'level'; paths: string[]; formula: LevelFormula }
  /** A field no formula gives (a typo): no values. */
  | { kind: 'none'; paths: string[] };

/** The values of a rate, each with the wall time of the later sample of its pair, and their span. */
export interface RateSeries {
  timesNs: number[];
  values: number[];
  spanSeconds: number;
}

const own = <T>(table: { readonly [k: string]: T }, key: string): T | undefined => (Object.hasOwn(table, key) ? table[key] : undefined);

function delta(formula: DeltaFormula | undefined, prefix: string): RateRecipe {
  if (!formula) return { kind: 'none', paths: [] };
  return { kind: 'delta', formula, paths: [...formula.inputs.map((k) => `${prefix}.${k}`), 'stat.btime'] };
}

/** The recipe of a `rates.` path, or undefined where it needs decoded sections. */
export function rateRecipe(path: string): RateRecipe | undefined {
  const [, section, ...rest] = path.split('.');
  // Every rate's field is one segment: the name (a device, `eth0.100`) is what lies between.
  const name = rest.slice(0, -1).join('.');
  const field = rest[rest.length - 1];
  const named = section === 'disk' || section === 'net' || section === 'cpu';
  if (rest.length < 1 || (named && rest.length < 2) || (!named && rest.length > 1)) return undefined;
  switch (section) {
    case 'disk': return delta(own(DISK_FORMULAS, field), `diskstats.${name}`);
    case 'net': return delta(own(NET_FORMULAS, field), `netdev.${name}`);
    // decode.ts reads a /proc/stat without the aggregate `cpu` line as zeros; so does the column.
    case 'cpu': return delta(own(CPU_FORMULAS, field), name === 'all' ? 'stat.cpu' : `stat.cpus.${name}`);
    case 'vm': return delta(own(VM_FORMULAS, field), 'vmstat');
    case 'mem': {
      const formula = own(MEM_FORMULAS, field);
      return formula ? { kind: 'level', formula, paths: formula.inputs.map((k) => `meminfo.${k}`) } : { kind: 'none', paths: [] };
    }
    default:
      return undefined;
  }
}

/**
 * `series()` of the recipe's rate over a table of its paths (in time order): per pair of
 * consecutive samples, none where the wall clock stepped back; a delta rate none where the
 * interval is 0, across a reboot (`stat.btime` changed, both samples having one), or where an
 * input is missing at either end or went backwards (NaN in a column: the sample has no such
 * value). The same values, times and span (serve-rates.spec holds them equal).
 */
export function rateSeries(t: Table, recipe: RateRecipe): RateSeries {
  const timesNs: number[] = [];
  const values: number[] = [];
  let first = -1;
  let last = -1;
  const times = t.timesNs;
  const cols = t.columns;
  const add = (i: number, v: number | undefined): void => {
    if (v === undefined || !Number.isFinite(v)) return;
    values.push(v);
    timesNs.push(times[i]);
    if (first < 0) first = i - 1;
    last = i;
  };
  if (recipe.kind === 'delta') {
    const { inputs, of } = recipe.formula;
    const k = inputs.length;
    const btime = cols[k];
    const d: Deltas<string> = {};
    for (let i = 1; i < times.length; i++) {
      const dt = (times[i] - times[i - 1]) / 1e9;
      if (!(dt > 0)) continue;
      const a = btime[i - 1];
      const b = btime[i];
      if (a !== b && !Number.isNaN(a) && !Number.isNaN(b)) continue;
      for (let j = 0; j < k; j++) {
        // NaN (absent at either end) and a counter gone back give no delta.
        const x = cols[j][i] - cols[j][i - 1];
        d[inputs[j]] = x >= 0 ? x : undefined;
      }
      add(i, of(d, dt));
    }
  } else if (recipe.kind === 'level') {
    const { inputs, of } = recipe.formula;
    const v: Record<string, number> = {};
    for (let i = 1; i < times.length; i++) {
      if ((times[i] - times[i - 1]) / 1e9 < 0) continue;
      let all = true;
      for (let j = 0; j < inputs.length && all; j++) {
        v[inputs[j]] = cols[j][i];
        all = !Number.isNaN(cols[j][i]);
      }
      if (all) add(i, of(v));
    }
  }
  const spanSeconds = first >= 0 && last > first ? (times[last] - times[first]) / 1e9 : 0;
  return { timesNs, values, spanSeconds };
}
