/**
 * Sample dicts → the native columns decode.ts reads (the inverse of it): a layout per shape,
 * flat u64 values, errors and extras, so samples from elsewhere (an agent's push, a file) are
 * kept in the same compact encoding as the collector's own (`encodeSampleBlob`) and decode back
 * to equal dicts.
 */
import { InvalidDataError } from '../errors.js';
import {
  CPU_FIELDS, DISKSTATS_FIELDS, METRICS, NETDEV_FIELDS, PROCESS_COUNTERS, PROCESS_IO,
  type Counter, type ProcessEntry, type SampleDict,
} from '../types/sample.js';
import type { NativeLayout, NativeProc } from './binding.js';

/** What a stored layout is: the native one, plus what each of its samples shares. */
export interface StoredLayout {
  layout: NativeLayout;
  /** The samples' own `hostname`. */
  hostname: string;
  /** The samples had `timestamp_ns` (a precise stamp), not only the whole-second `timestamp`. */
  ns: boolean;
}

/** The columns of some samples (see `encodeSampleBlob`), and the layouts they use. */
export interface Columns {
  layoutIds: Uint32Array;
  wallNs: BigUint64Array;
  offsets: Uint32Array;
  values: BigUint64Array;
  errors: { sample: number; source: string; message: string }[];
  extras: { sample: number; json: string }[];
}

const U64 = 2n ** 64n;

function u64(v: Counter): bigint {
  return typeof v === 'bigint' ? v : BigInt(v);
}

/** A number's f64 bits as a u64. */
const f64 = new Float64Array(1);
const f64Bits = new BigUint64Array(f64.buffer);
function bits(x: number): bigint {
  f64[0] = x;
  return f64Bits[0];
}

/** An application value: a counter when it is a whole number ≥ 0 (decodes the same either way). */
function isCounter(v: Counter): boolean {
  return typeof v === 'bigint' || (Number.isSafeInteger(v) && v >= 0);
}

function procOf(e: ProcessEntry): NativeProc {
  return {
    key: e.key, pid: e.pid, ppid: e.ppid, name: e.name, cmdline: e.cmdline, startTimeNs: BigInt(e.start_time_ns),
    restarts: e.restarts, lastExitCode: e.last_exit_code, lastExitSignal: e.last_exit_signal, hasIo: e.read_bytes !== undefined,
  };
}

/** The layout a sample dict has (id 0: the registry numbers it). */
function layoutOf(d: SampleDict): NativeLayout {
  const disks = d.diskstats ?? [];
  const app = Object.entries(d.app ?? {});
  const cpus = d.stat ? ['cpu', ...Object.keys(d.stat.cpus)] : [];
  return {
    id: 0,
    sections: [...METRICS.filter((m) => d[m] != null), ...(d.processes ? ['processes'] : []), ...(app.length > 0 ? ['app'] : [])],
    disks: disks.map((e) => e.device_name),
    diskFields: disks.map((e) => (e.flush_requests_completed != null ? 17 : e.discards_completed != null ? 15 : 11)),
    vmstat: Object.keys(d.vmstat ?? {}),
    meminfo: Object.keys(d.meminfo ?? {}),
    net: (d.netdev ?? []).map((e) => e.interface_name),
    cpus,
    procs: d.processes?.map(procOf),
    app: app.map(([k]) => k),
    appGauge: app.map(([, v]) => !isCounter(v)),
  };
}

/** A sample's values in its layout's order (decode.ts reads them back in the same order). */
function valuesOf(d: SampleDict, l: NativeLayout, out: bigint[]): void {
  for (const [i, e] of (d.diskstats ?? []).entries()) {
    for (const f of DISKSTATS_FIELDS.slice(0, l.diskFields[i])) out.push(u64(e[f] ?? 0));
  }
  for (const v of Object.values(d.vmstat ?? {})) out.push(u64(v));
  for (const v of Object.values(d.meminfo ?? {})) out.push(u64(v));
  if (d.loadavg) {
    const a = d.loadavg;
    out.push(bits(a.load_1min), bits(a.load_5min), bits(a.load_15min), u64(a.running_processes), u64(a.total_processes));
  }
  for (const e of d.netdev ?? []) for (const f of NETDEV_FIELDS) out.push(u64(e[f]));
  if (d.stat) {
    const s = d.stat;
    for (const t of [s.cpu, ...Object.values(s.cpus)]) for (const f of CPU_FIELDS) out.push(u64(t[f]));
    out.push(u64(s.intr), u64(s.ctxt), u64(s.btime), u64(s.processes), u64(s.procs_running), u64(s.procs_blocked));
  }
  for (const e of d.processes ?? []) {
    out.push(BigInt(e.state.length === 1 ? e.state.charCodeAt(0) : 63), BigInt(Math.round(e.uptime_s * 1000)), BigInt(Math.round(e.cpu_pct * 100)));
    for (const f of PROCESS_COUNTERS) out.push(u64(e[f]));
    for (const f of PROCESS_IO) out.push(u64(e[f] ?? 0));
  }
  for (const [i, v] of Object.values(d.app ?? {}).entries()) out.push(l.appGauge[i] ? bits(Number(v)) : u64(v));
}

/** Layouts by shape, numbered in the order first seen; a store keeps them by number. */
export class LayoutRegistry {
  private readonly byKey = new Map<string, StoredLayout>();
  private readonly byId: StoredLayout[] = [];

  constructor(known: readonly StoredLayout[] = []) {
    for (const s of known) this.remember(s);
  }

  private remember(s: StoredLayout): void {
    const { id: _, ...shape } = s.layout;
    this.byKey.set(JSON.stringify([shape, s.hostname, s.ns]), s);
    this.byId[s.layout.id] = s;
  }

  /** The layout of `d`, and whether it is new (the caller stores new ones). */
  layoutFor(d: SampleDict): { stored: StoredLayout; isNew: boolean } {
    const layout = layoutOf(d);
    const { id: _, ...shape } = layout;
    const key = JSON.stringify([shape, d.hostname, d.timestamp_ns != null], (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    const known = this.byKey.get(key);
    if (known) return { stored: known, isNew: false };
    layout.id = this.byId.length;
    const stored = { layout, hostname: d.hostname, ns: d.timestamp_ns != null };
    this.byKey.set(key, stored);
    this.byId.push(stored);
    return { stored, isNew: true };
  }

  get(id: number): StoredLayout {
    const s = this.byId[id];
    if (!s) throw new InvalidDataError('', `stored samples use layout ${id}, which is not stored`);
    return s;
  }

  get size(): number {
    return this.byId.length;
  }
}

/**
 * Dicts (checked already: `TimeSeriesSample.fromDict`) as columns, their layouts added to
 * `registry` (the new ones are returned too). The wall time is `timestamp_ns`, or `timestamp`'s.
 */
export function toColumns(dicts: readonly SampleDict[], registry: LayoutRegistry): { columns: Columns; added: StoredLayout[] } {
  const ids: number[] = [];
  const walls: bigint[] = [];
  const offsets = [0];
  const values: bigint[] = [];
  const errors: Columns['errors'] = [];
  const extras: Columns['extras'] = [];
  const added: StoredLayout[] = [];
  dicts.forEach((d, i) => {
    const { stored, isNew } = registry.layoutFor(d);
    if (isNew) added.push(stored);
    ids.push(stored.layout.id);
    const ns = d.timestamp_ns != null ? BigInt(d.timestamp_ns) : BigInt(Date.parse(d.timestamp)) * 1_000_000n;
    walls.push(((ns % U64) + U64) % U64);
    valuesOf(d, stored.layout, values);
    offsets.push(values.length);
    for (const [source, message] of Object.entries(d.errors ?? {})) errors.push({ sample: i, source, message });
    if (d.collectors !== undefined) extras.push({ sample: i, json: JSON.stringify({ collectors: d.collectors }) });
  });
  return {
    columns: {
      layoutIds: Uint32Array.from(ids), wallNs: BigUint64Array.from(walls), offsets: Uint32Array.from(offsets),
      values: BigUint64Array.from(values), errors, extras,
    },
    added,
  };
}
