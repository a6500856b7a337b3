/**
 * Derived rates between two samples, with the formulas sysstat uses (iostat -x, sar -n DEV,
 * sar -u, sar -B: their home is formulas.ts), over the real interval between the samples. A
 * counter that went backwards gives no rate (the field is absent), never a negative one; a zero
 * divisor gives 0.
 */
import type { DiskstatsEntry, NetdevEntry, ProcessEntry } from '../types/sample.js';
import { InvalidOptionError } from '../errors.js';
import { delta, ratio } from './delta.js';
import { inputsOf, MEM_FORMULAS, vmDeltas, VM_FORMULAS, type DeltaFormula, type Deltas } from './formulas.js';
import { cpuRates, diskRates, netRates } from './sections.js';
import type { IntervalOptions, MemLevels, ProcRates, RateInput, Rates, VmRates } from '../types/rates.js';

function nanos(s: RateInput): number | undefined {
  const ns = s.timestamp_ns ?? s.timestampNs;
  return ns === undefined ? undefined : Number(ns);
}

/**
 * Seconds between two samples: from the precise stamps (`timestamp_ns`) when both have them;
 * otherwise from the whole-second `timestamp`s, or `nominalSeconds` where those cannot tell it
 * apart (they differ from it by no more than their 1 s resolution).
 */
export function intervalSeconds(a: RateInput, b: RateInput, options: IntervalOptions = {}): number {
  const na = nanos(a);
  const nb = nanos(b);
  if (na !== undefined && nb !== undefined) return (nb - na) / 1e9;
  const coarse = (Date.parse(b.timestamp) - Date.parse(a.timestamp)) / 1000;
  const nominal = options.nominalSeconds;
  // Floored to whole seconds, stamps t apart differ by floor(t) or ceil(t): a difference within
  // 1 s of the nominal spacing is that spacing (plus the collector's drift, which they cannot show).
  if (nominal !== undefined && nominal > 0 && coarse >= 0 && Math.abs(coarse - nominal) <= 1) return nominal;
  return coarse;
}

function describeInput(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'object') return Array.isArray(v) ? 'an array' : 'an object without a timestamp';
  if (typeof v === 'string') return `string ${JSON.stringify(v)}`;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return `${typeof v} ${v}`;
  return typeof v;
}

/** Throws unless `v` looks like a sample (a dict or a TimeSeriesSample with a string timestamp). */
function checkInput(v: unknown, name: string): asserts v is RateInput {
  if (typeof v !== 'object' || v === null || typeof (v as { timestamp?: unknown }).timestamp !== 'string') {
    throw new InvalidOptionError(`computeRates: ${name} must be a sample (an object with a timestamp), got ${describeInput(v)}`);
  }
}

/** Set `out[key]` only when the value exists. */
function put<T extends object, K extends keyof T>(out: T, key: K, v: T[K] | undefined): void {
  if (v !== undefined) out[key] = v;
}

const per = (d: number | undefined, dt: number): number | undefined => (d === undefined ? undefined : ratio(d, dt));

/** A section's formulas as lists, in the output's order. */
function listOf<K extends string>(formulas: { readonly [name: string]: DeltaFormula<K> }): { names: string[]; formulas: DeltaFormula<K>[] } {
  return { names: Object.keys(formulas), formulas: Object.values(formulas) };
}

/** The rates of a section's formulas from the deltas of its counters: those that have a value. */
function apply<K extends string, R>(list: { names: string[]; formulas: DeltaFormula<K>[] }, d: Deltas<K>, dt: number): R {
  const out: Record<string, number> = {};
  for (let i = 0; i < list.names.length; i++) {
    const v = list.formulas[i].of(d, dt);
    if (v !== undefined) out[list.names[i]] = v;
  }
  return out as R;
}

const VM = listOf(VM_FORMULAS);
const MEM_INPUTS = inputsOf(MEM_FORMULAS);
const MEM = Object.entries(MEM_FORMULAS) as [keyof MemLevels, (typeof MEM_FORMULAS)[keyof MemLevels]][];

/** The later sample's levels (`used_pct`), where it has every input. */
function memLevels(cur: RateInput): MemLevels {
  const out: MemLevels = {};
  const m = cur.meminfo;
  if (!m) return out;
  for (const k of MEM_INPUTS) if (m[k] === undefined) return out;
  const v = { MemTotal: Number(m.MemTotal), MemAvailable: Number(m.MemAvailable) };
  for (const [name, f] of MEM) out[name] = f.of(v);
  return out;
}

const MB = 1024 * 1024;
/** USER_HZ: /proc/<pid>/stat's CPU ticks per second on every Linux. */
const TICKS_PER_S = 100;

function procRates(a: ProcessEntry, b: ProcessEntry, dt: number): ProcRates {
  const r: ProcRates = { cpu_pct: b.cpu_pct };
  const ticks = (x: number | undefined): number | undefined => (x === undefined ? undefined : ratio(x * 100, TICKS_PER_S * dt));
  put(r, 'usr_pct', ticks(delta(a.cpu_user_ticks, b.cpu_user_ticks)));
  put(r, 'sys_pct', ticks(delta(a.cpu_system_ticks, b.cpu_system_ticks)));
  put(r, 'minflt_s', per(delta(a.minor_faults, b.minor_faults), dt));
  put(r, 'majflt_s', per(delta(a.major_faults, b.major_faults), dt));
  r.rss_MB = Number(b.rss_kb) / 1024;
  const mb = (d: number | undefined): number | undefined => (d === undefined ? undefined : ratio(d / MB, dt));
  put(r, 'rMB_s', mb(delta(a.read_bytes, b.read_bytes)));
  put(r, 'wMB_s', mb(delta(a.write_bytes, b.write_bytes)));
  put(r, 'cswch_s', per(delta(a.voluntary_ctxt_switches, b.voluntary_ctxt_switches), dt));
  put(r, 'nvcswch_s', per(delta(a.involuntary_ctxt_switches, b.involuntary_ctxt_switches), dt));
  return r;
}

function byName<T>(list: T[] | undefined, key: (e: T) => string): Map<string, T> {
  return new Map((list ?? []).map((e) => [key(e), e]));
}

/**
 * Calls `f(p, c)` for each entry `c` of `cur` whose name `prev` has, with prev's last entry of
 * that name (what a Map of prev by name gives). When the two lists name the same entries in the
 * same order (nearly always), pairs them by position, without building the Map: the same pairs,
 * and where a name repeats, the same last pair (measured: building the Maps was ~3% of a report build).
 */
function byPosition<T>(prev: T[] | undefined, cur: T[] | undefined, name: (e: T) => string, f: (p: T, c: T) => void): void {
  if (!cur) return;
  if (prev && prev.length === cur.length) {
    let same = true;
    for (let i = 0; i < cur.length && same; i++) same = name(prev[i]) === name(cur[i]);
    if (same) {
      for (let i = 0; i < cur.length; i++) f(prev[i], cur[i]);
      return;
    }
  }
  const m = byName(prev, name);
  for (const c of cur) {
    const p = m.get(name(c));
    if (p) f(p, c);
  }
}

/**
 * What a caller reads of the rates (all of it where a field is absent). The report reads a few
 * devices and interfaces and no per-CPU or vm figures (a host with 64 CPUs or 20 loop devices has
 * many more). What is computed is computed as `computeRates` does it.
 */
export interface RatesScope {
  /** Only these devices' rates. */
  disks?: ReadonlySet<string>;
  /** Only the interfaces this keeps. */
  interfaces?: (name: string) => boolean;
  /** false: `cpu.all` only, no per-CPU rates. */
  perCpu?: boolean;
  /** false: no `vm` rates. */
  vm?: boolean;
}

const ALL: RatesScope = {};
const deviceName = (d: DiskstatsEntry): string => d.device_name;
const interfaceName = (n: NetdevEntry): string => n.interface_name;

/**
 * Rates from `prev` to `cur`. Devices and interfaces present in both are compared; across a
 * reboot (btime changed) there are no rates at all. `options.nominalSeconds`: see
 * `intervalSeconds`. Throws an InvalidOptionError when an argument is not a sample or when `cur`
 * was taken before `prev` (swapped arguments, or samples out of order).
 */
export function computeRates(prev: RateInput, cur: RateInput, options: IntervalOptions = {}): Rates {
  return scopedRates(prev, cur, options, ALL);
}

/** `computeRates` for what `scope` names only (the rest absent, as if the samples had none). */
export function scopedRates(prev: RateInput, cur: RateInput, options: IntervalOptions, scope: RatesScope): Rates {
  checkInput(prev, 'prev');
  checkInput(cur, 'cur');
  const dt = intervalSeconds(prev, cur, options);
  if (dt < 0) {
    throw new InvalidOptionError(`computeRates: cur (${cur.timestamp}) was taken ${-dt} s before prev (${prev.timestamp}); pass the earlier sample first`);
  }
  const out: Rates = { intervalSeconds: dt, disk: {}, net: {}, cpu: {}, mem: memLevels(cur), vm: {}, proc: {}, app: {} };
  const rebooted = prev.stat && cur.stat && prev.stat.btime !== cur.stat.btime;
  if (!(dt > 0) || rebooted) return out;

  const { disks, interfaces } = scope;
  byPosition(prev.diskstats, cur.diskstats, deviceName, (p, d) => {
    if (!disks || disks.has(d.device_name)) out.disk[d.device_name] = diskRates(p, d, dt);
  });
  byPosition(prev.netdev, cur.netdev, interfaceName, (p, n) => {
    if (!interfaces || interfaces(n.interface_name)) out.net[n.interface_name] = netRates(p, n, dt);
  });
  if (prev.stat && cur.stat) {
    out.cpu.all = cpuRates(prev.stat.cpu, cur.stat.cpu, dt);
    if (scope.perCpu !== false) {
      for (const [name, t] of Object.entries(cur.stat.cpus)) {
        const p = prev.stat.cpus[name];
        if (p) out.cpu[name] = cpuRates(p, t, dt);
      }
    }
  }
  if (scope.vm !== false) out.vm = apply<string, VmRates>(VM, vmDeltas(prev.vmstat, cur.vmstat), dt);
  if (cur.processes) {
    const procs = byName(prev.processes, (p) => p.key);
    for (const p of cur.processes) {
      const q = procs.get(p.key);
      // A key whose process changed (a restart) has no rates across the change.
      if (q && q.pid === p.pid && q.start_time_ns === p.start_time_ns) out.proc[p.key] = procRates(q, p, dt);
    }
  }
  if (prev.app && cur.app) {
    for (const [name, v] of Object.entries(cur.app)) put(out.app, `${name}_s`, per(delta(prev.app[name], v), dt));
  }
  return out;
}
