/**
 * Sample dicts → the native columns decode.ts reads (the inverse of it): a layout per shape,
 * flat u64 values, errors and extras, so samples from elsewhere (an agent's push, a file) are
 * kept in the same compact encoding as the collector's own (`encodeSampleBlob`) and decode back
 * to equal dicts.
 */
import { InvalidDataError } from '../errors.js';
import {
  CPU_FIELDS, DISKSTATS_FIELDS, METRICS, NETDEV_FIELDS, PROCESS_COUNTERS, PROCESS_IO,
  type Counter, type DiskstatsEntry, type ProcessEntry, type SampleDict,
} from '../types/sample.js';
import type { NativeLayout, NativeProc } from './binding.js';
import { layoutInfo } from './decode.js';

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
export function layoutOf(d: SampleDict): NativeLayout {
  const disks = d.diskstats ?? [];
  const app = Object.entries(d.app ?? {});
  const cpus = d.stat ? ['cpu', ...Object.keys(d.stat.cpus)] : [];
  return {
    id: 0,
    sections: [...METRICS.filter((m) => d[m] != null), ...(d.processes ? ['processes'] : []), ...(app.length > 0 ? ['app'] : [])],
    disks: disks.map((e) => e.device_name),
    diskFields: disks.map(fieldsOf),
    vmstat: Object.keys(d.vmstat ?? {}),
    meminfo: Object.keys(d.meminfo ?? {}),
    net: (d.netdev ?? []).map((e) => e.interface_name),
    cpus,
    procs: d.processes?.map(procOf),
    app: app.map(([k]) => k),
    appGauge: app.map(([, v]) => !isCounter(v)),
  };
}

const TWO32 = 2 ** 32;

/**
 * Writes u64 values into a BigUint64Array through 32-bit and f64 views: no BigInt per value
 * (measured: `toColumns` at 174 µs a sample with a BigInt each, most of an ingest's time).
 */
class ValueWriter {
  readonly values: BigUint64Array;
  private readonly words: Uint32Array;
  private readonly floats: Float64Array;
  pos = 0;
  constructor(n: number) {
    this.values = new BigUint64Array(n);
    this.words = new Uint32Array(this.values.buffer);
    this.floats = new Float64Array(this.values.buffer);
  }
  u64(v: Counter): void {
    const i = this.pos++ * 2;
    if (typeof v === 'bigint') {
      this.words[i] = Number(v & 0xffffffffn);
      this.words[i + 1] = Number((v >> 32n) & 0xffffffffn);
    } else {
      const hi = Math.floor(v / TWO32);
      this.words[i] = v - hi * TWO32;
      this.words[i + 1] = hi;
    }
  }
  f64(x: number): void {
    this.floats[this.pos++] = x;
  }
}

/** A sample's values in its layout's order (decode.ts reads them back in the same order). */
function valuesOf(d: SampleDict, l: NativeLayout, out: ValueWriter): void {
  for (const [i, e] of (d.diskstats ?? []).entries()) {
    const n = l.diskFields[i];
    for (let f = 0; f < n; f++) out.u64(e[DISKSTATS_FIELDS[f]] ?? 0);
  }
  if (d.vmstat) for (const k in d.vmstat) out.u64(d.vmstat[k]);
  if (d.meminfo) for (const k in d.meminfo) out.u64(d.meminfo[k]);
  if (d.loadavg) {
    const a = d.loadavg;
    out.f64(a.load_1min);
    out.f64(a.load_5min);
    out.f64(a.load_15min);
    out.u64(a.running_processes);
    out.u64(a.total_processes);
  }
  for (const e of d.netdev ?? []) for (const f of NETDEV_FIELDS) out.u64(e[f]);
  if (d.stat) {
    const s = d.stat;
    for (const f of CPU_FIELDS) out.u64(s.cpu[f]);
    for (const k in s.cpus) for (const f of CPU_FIELDS) out.u64(s.cpus[k][f]);
    out.u64(s.intr);
    out.u64(s.ctxt);
    out.u64(s.btime);
    out.u64(s.processes);
    out.u64(s.procs_running);
    out.u64(s.procs_blocked);
  }
  for (const e of d.processes ?? []) {
    out.u64(e.state.length === 1 ? e.state.charCodeAt(0) : 63);
    out.u64(Math.round(e.uptime_s * 1000));
    out.u64(Math.round(e.cpu_pct * 100));
    for (const f of PROCESS_COUNTERS) out.u64(e[f]);
    for (const f of PROCESS_IO) out.u64(e[f] ?? 0);
  }
  let i = 0;
  if (d.app) {
    for (const k in d.app) {
      const v = d.app[k];
      if (l.appGauge[i++]) out.f64(Number(v));
      else out.u64(v);
    }
  }
}

/** Whether `d` has exactly the shape of `s` (cheap: names compared in place, nothing built). */
function sameShape(d: SampleDict, s: StoredLayout): boolean {
  const l = s.layout;
  if (d.hostname !== s.hostname || (d.timestamp_ns != null) !== s.ns) return false;
  const keysAre = (o: object | undefined, names: readonly string[], from = 0): boolean => {
    let i = from;
    if (o) {
      for (const k in o) if (names[i++] !== k) return false;
    }
    return i === names.length;
  };
  const present = (m: string): boolean => l.sections.includes(m);
  for (const m of METRICS) if ((d[m] != null) !== present(m)) return false;
  if ((d.processes != null) !== present('processes')) return false;
  const disks = d.diskstats ?? [];
  if (disks.length !== l.disks.length || disks.some((e, i) => e.device_name !== l.disks[i] || fieldsOf(e) !== l.diskFields[i])) return false;
  const net = d.netdev ?? [];
  if (net.length !== l.net.length || net.some((e, i) => e.interface_name !== l.net[i])) return false;
  if (!keysAre(d.vmstat, l.vmstat) || !keysAre(d.meminfo, l.meminfo)) return false;
  if (d.stat && (l.cpus[0] !== 'cpu' || !keysAre(d.stat.cpus, l.cpus, 1))) return false;
  if (!keysAre(d.app, l.app)) return false;
  let i = 0;
  if (d.app) {
    for (const k in d.app) if (l.appGauge[i++] === isCounter(d.app[k])) return false;
  }
  const procs = d.processes ?? [];
  const ours = l.procs ?? [];
  return procs.length === ours.length && procs.every((e, j) => {
    const p = ours[j];
    return e.key === p.key && e.pid === p.pid && e.ppid === p.ppid && e.name === p.name && e.cmdline === p.cmdline &&
      BigInt(e.start_time_ns) === BigInt(p.startTimeNs) && e.restarts === p.restarts && e.last_exit_code === (p.lastExitCode ?? undefined) &&
      e.last_exit_signal === (p.lastExitSignal ?? undefined) && (e.read_bytes !== undefined) === p.hasIo;
  });
}

function fieldsOf(e: DiskstatsEntry): number {
  return e.flush_requests_completed != null ? 17 : e.discards_completed != null ? 15 : 11;
}

/** A layout's shape as a string key (bigints as digits), with what its samples share. */
export function shapeKey(l: NativeLayout, hostname: string, ns: boolean): string {
  const { id: _, ...shape } = l;
  return JSON.stringify([shape, hostname, ns], (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

/** Layouts by shape, numbered in the order first seen; a store keeps them by number. */
export class LayoutRegistry {
  private readonly byKey = new Map<string, StoredLayout>();
  private readonly byId: StoredLayout[] = [];

  constructor(known: readonly StoredLayout[] = []) {
    for (const s of known) this.remember(s);
  }

  /** The layout the previous sample had (most samples have the one before them's). */
  private last: StoredLayout | undefined;

  private remember(s: StoredLayout): void {
    this.byKey.set(shapeKey(s.layout, s.hostname, s.ns), s);
    this.byId[s.layout.id] = s;
  }

  /** The layout of `d`, and whether it is new (the caller stores new ones). */
  layoutFor(d: SampleDict): { stored: StoredLayout; isNew: boolean } {
    if (this.last && sameShape(d, this.last)) return { stored: this.last, isNew: false };
    const layout = layoutOf(d);
    const key = shapeKey(layout, d.hostname, d.timestamp_ns != null);
    const known = this.byKey.get(key);
    if (known) {
      this.last = known;
      return { stored: known, isNew: false };
    }
    layout.id = this.byId.length;
    const stored = { layout, hostname: d.hostname, ns: d.timestamp_ns != null };
    this.byKey.set(key, stored);
    this.byId.push(stored);
    this.last = stored;
    return { stored, isNew: true };
  }

  /**
   * The id this registry gives a layout of the same shape as `s` (a layout numbered elsewhere: an
   * agent's), and whether it is new here (then it is numbered next; `s` itself is not changed).
   */
  add(s: StoredLayout): { stored: StoredLayout; isNew: boolean } {
    const key = shapeKey(s.layout, s.hostname, s.ns);
    const known = this.byKey.get(key);
    if (known) return { stored: known, isNew: false };
    const stored = { layout: { ...s.layout, id: this.byId.length }, hostname: s.hostname, ns: s.ns };
    this.remember(stored);
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

  /** Values per sample of layout `id` (decode.ts's count, kept per layout). */
  sizeOf(id: number): number {
    return (this.sizes[id] ??= layoutInfo(this.get(id).layout).size);
  }

  private readonly sizes: number[] = [];
}

/** A stored layout as JSON text (a process's start time, a bigint, as a string of digits). */
export function layoutJson(s: StoredLayout): string {
  return JSON.stringify(s, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

/** `layoutJson`'s text back (not checked: a store's own; a push's goes through serve's check). */
export function layoutFromJson(text: string): StoredLayout {
  return JSON.parse(text, (k, v: unknown) => (k === 'startTimeNs' && typeof v === 'string' ? BigInt(v) : v)) as StoredLayout;
}

/**
 * Dicts (checked already: `TimeSeriesSample.fromDict`) as columns, their layouts added to
 * `registry` (the new ones are returned too). The wall time is `timestamp_ns`, or `timestamp`'s.
 */
export function toColumns(dicts: readonly SampleDict[], registry: LayoutRegistry): { columns: Columns; added: StoredLayout[] } {
  const layouts: StoredLayout[] = [];
  const added: StoredLayout[] = [];
  const offsets = new Uint32Array(dicts.length + 1);
  for (let i = 0; i < dicts.length; i++) {
    const { stored, isNew } = registry.layoutFor(dicts[i]);
    if (isNew) added.push(stored);
    layouts.push(stored);
    offsets[i + 1] = offsets[i] + registry.sizeOf(stored.layout.id);
  }
  const out = new ValueWriter(offsets[dicts.length]);
  const walls = new BigUint64Array(dicts.length);
  const errors: Columns['errors'] = [];
  const extras: Columns['extras'] = [];
  dicts.forEach((d, i) => {
    const ns = d.timestamp_ns != null ? BigInt(d.timestamp_ns) : BigInt(Date.parse(d.timestamp)) * 1_000_000n;
    walls[i] = ((ns % U64) + U64) % U64;
    valuesOf(d, layouts[i].layout, out);
    if (out.pos !== offsets[i + 1]) throw new InvalidDataError(`[${i}]`, `${out.pos - offsets[i]} values where its layout has ${offsets[i + 1] - offsets[i]}`);
    for (const [source, message] of Object.entries(d.errors ?? {})) errors.push({ sample: i, source, message });
    if (d.collectors !== undefined) extras.push({ sample: i, json: JSON.stringify({ collectors: d.collectors }) });
  });
  return {
    columns: { layoutIds: Uint32Array.from(layouts, (s) => s.layout.id), wallNs: walls, offsets, values: out.values, errors, extras },
    added,
  };
}
