/**
 * Batch → sample dicts. The native side hands over flat u64 columns plus the layouts they
 * follow; this is the one place that turns them into the mlpstorage shapes.
 *
 * Dicts keyed by the file's names (vmstat, meminfo) hold every key as an own property in the
 * file's order, `__proto__` and `constructor` included: they are plain objects, so
 * `JSON.stringify`, `Object.keys` and the package's writers see what the file had. The one thing
 * no JS object can keep is the place of an integer-like key (`10`): every object lists those
 * first, in numeric order. /proc never has such a name (every vmstat and meminfo key starts with
 * a letter); text from elsewhere that has one keeps the key and its value, not its place.
 */
import {
  CPU_FIELDS, DISKSTATS_FIELDS, NETDEV_FIELDS, PROCESS_COUNTERS, PROCESS_IO,
  type Counter, type CpuTimes, type DiskstatsEntry, type Loadavg, type NetdevEntry, type ProcessEntry, type SampleDict,
  type StatInfo,
} from '../types/sample.js';
import { NativeError } from '../errors.js';
import type { NativeBatch, NativeLayout, NativeProc } from './binding.js';
import { setOwn } from '../json/own.js';

const TWO32 = 4294967296;
/** hi word limit below which hi * 2^32 + lo is a safe integer. */
const SAFE_HI = 0x200000;

/** Formats a wall time the way the reference does: whole seconds, UTC, `Z`. */
export function isoSeconds(wallMs: number): string {
  return new Date(wallMs).toISOString().slice(0, 19) + 'Z';
}

/** Reads u64 values (exact counters or f64 bits) in layout order. */
export class Cursor {
  private readonly words: Uint32Array;
  private readonly floats: Float64Array;
  constructor(values: BigUint64Array, public pos: number) {
    this.words = new Uint32Array(values.buffer, values.byteOffset, values.length * 2);
    this.floats = new Float64Array(values.buffer, values.byteOffset, values.length);
  }
  /** Exact: a number up to 2^53 - 1, a bigint above. */
  counter(): Counter {
    const i = this.pos++ * 2;
    const lo = this.words[i];
    const hi = this.words[i + 1];
    return hi < SAFE_HI ? hi * TWO32 + lo : (BigInt(hi) << 32n) | BigInt(lo);
  }
  float(): number {
    return this.floats[this.pos++];
  }
}

function record<K extends string>(keys: readonly K[], c: Cursor, n = keys.length): Record<K, Counter> {
  const out = {} as Record<K, Counter>;
  for (let i = 0; i < n; i++) out[keys[i]] = c.counter();
  return out;
}

/** `record` for a layout whose names include `__proto__` (known once per layout, off the hot path). */
function recordOwn(keys: readonly string[], c: Cursor): Record<string, Counter> {
  const out: Record<string, Counter> = {};
  for (const k of keys) setOwn(out, k, c.counter());
  return out;
}

/** A /proc/stat without the aggregate `cpu` line (only malformed input) reads as zeros. */
function zeroCpu(): CpuTimes {
  return Object.fromEntries(CPU_FIELDS.map((f) => [f, 0])) as unknown as CpuTimes;
}

function cpuTimes(c: Cursor): CpuTimes {
  return record(CPU_FIELDS, c);
}

/** A native layout with its sections as a set, made once per layout. */
export interface LayoutInfo {
  l: NativeLayout;
  sections: Set<string>;
  /** Values per sample. */
  size: number;
  /** Values of each section present, in layout order (to skip the sections not asked for). */
  sizes: Map<string, number>;
  /** A vmstat/meminfo name is `__proto__`: those dicts are built with defineProperty. */
  protoKey: boolean;
  /** This layout with one section each (made once, for `decodeSome`). */
  alone?: Map<string, LayoutInfo>;
}

/** Values per watched process (crates/core/src/procs/entry.rs `PROC_FIELDS`). */
const PROC_VALUES = 3 + PROCESS_COUNTERS.length + PROCESS_IO.length;

/** A process state code as its letter (crates/core/src/jsonl `state_letter` is the same). */
function stateLetter(code: Counter): string {
  const c = Number(code);
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) ? String.fromCharCode(c) : '?';
}

/**
 * One process entry. Literals in the writer's key order, not loops or spreads over field names:
 * V8 then gives every entry the same fast shape (measured: 28 µs an entry with spreads, GC-bound).
 */
function processEntry(p: NativeProc, c: Cursor): ProcessEntry {
  // `restarts` comes after the I/O fields, as the native writer has it.
  const e: Omit<ProcessEntry, 'restarts'> & { restarts?: number } = {
    key: p.key, pid: p.pid, ppid: p.ppid, name: p.name, cmdline: p.cmdline, start_time_ns: Number(p.startTimeNs),
    state: stateLetter(c.counter()),
    uptime_s: Number(c.counter()) / 1000,
    cpu_pct: Number(c.counter()) / 100,
    cpu_user_ticks: c.counter(), cpu_system_ticks: c.counter(), num_threads: c.counter(), rss_kb: c.counter(),
    rss_peak_kb: c.counter(), minor_faults: c.counter(), major_faults: c.counter(), voluntary_ctxt_switches: c.counter(),
    involuntary_ctxt_switches: c.counter(),
  };
  if (p.hasIo) {
    e.read_bytes = c.counter();
    e.write_bytes = c.counter();
    e.read_chars = c.counter();
    e.write_chars = c.counter();
  } else {
    c.pos += PROCESS_IO.length;
  }
  e.restarts = p.restarts;
  if (p.lastExitCode != null) e.last_exit_code = p.lastExitCode;
  if (p.lastExitSignal != null) e.last_exit_signal = p.lastExitSignal;
  return e as ProcessEntry;
}

export function layoutInfo(l: NativeLayout): LayoutInfo {
  const sections = new Set(l.sections);
  const all: [string, number][] = [
    ['diskstats', l.diskFields.reduce((a, b) => a + b, 0)],
    ['vmstat', l.vmstat.length],
    ['meminfo', l.meminfo.length],
    ['loadavg', 5],
    ['netdev', l.net.length * NETDEV_FIELDS.length],
    ['stat', l.cpus.length * CPU_FIELDS.length + 6],
    ['processes', (l.procs?.length ?? 0) * PROC_VALUES],
    ['app', l.app.length],
  ];
  const sizes = new Map(all.filter(([name]) => sections.has(name)));
  const size = [...sizes.values()].reduce((a, b) => a + b, 0);
  return { l, sections, size, sizes, protoKey: l.vmstat.includes('__proto__') || l.meminfo.includes('__proto__') };
}

/** The sections to decode: all, or only some (the others are skipped, not built). */
export type SectionFilter = ReadonlySet<string> | undefined;

/** Fill `s` with the sections of one sample whose values start at `c.pos` (only those in `only`, if given). */
export function decodeSections(info: LayoutInfo, c: Cursor, s: SampleDict, only?: SectionFilter): void {
  if (only) {
    decodeSome(info, c, s, only);
    return;
  }
  const { l, sections, protoKey } = info;
  const dict = protoKey ? recordOwn : record;
  if (sections.has('diskstats')) {
    s.diskstats = l.disks.map((name, d): DiskstatsEntry => {
      const fields = record(DISKSTATS_FIELDS, c, l.diskFields[d]);
      return { device_name: name, ...fields };
    });
  }
  if (sections.has('vmstat')) s.vmstat = dict(l.vmstat, c);
  if (sections.has('meminfo')) s.meminfo = dict(l.meminfo, c);
  if (sections.has('loadavg')) {
    const la: Loadavg = {
      load_1min: c.float(),
      load_5min: c.float(),
      load_15min: c.float(),
      running_processes: Number(c.counter()),
      total_processes: Number(c.counter()),
    };
    s.loadavg = la;
  }
  if (sections.has('netdev')) {
    s.netdev = l.net.map((name): NetdevEntry => ({ interface_name: name, ...record(NETDEV_FIELDS, c) }));
  }
  if (sections.has('stat')) {
    let cpu: CpuTimes | undefined;
    const cpus: Record<string, CpuTimes> = {};
    for (const name of l.cpus) {
      const t = cpuTimes(c);
      if (name === 'cpu') cpu = t;
      else cpus[name] = t;
    }
    const stat: StatInfo = {
      cpu: cpu ?? zeroCpu(),
      cpus,
      intr: c.counter(),
      ctxt: c.counter(),
      btime: c.counter(),
      processes: c.counter(),
      procs_running: c.counter(),
      procs_blocked: c.counter(),
    };
    s.stat = stat;
  }
  if (sections.has('processes')) s.processes = (l.procs ?? []).map((p) => processEntry(p, c));
  if (sections.has('app')) {
    const app: Record<string, Counter> = {};
    l.app.forEach((name, i) => (app[name] = l.appGauge[i] ? c.float() : c.counter()));
    s.app = app;
  }
}

/** `decodeSections` of the sections in `only`, each alone, the cursor moved past the others. */
function decodeSome(info: LayoutInfo, c: Cursor, s: SampleDict, only: ReadonlySet<string>): void {
  for (const [name, size] of info.sizes) {
    if (!only.has(name)) {
      c.pos += size;
      continue;
    }
    const alone = (info.alone ??= new Map<string, LayoutInfo>());
    let one = alone.get(name);
    if (!one) alone.set(name, (one = { ...info, sections: new Set([name]), alone: undefined }));
    decodeSections(one, c, s);
  }
}

export interface DecodedBatch {
  samples: SampleDict[];
  /** Monotonic clock of each sample, ns (for intervals that wall-clock steps cannot skew). */
  monoNs: bigint[];
  /** Each sample's sequence number: samples taken before it since the sampler started. */
  seqs: number[];
  missedTicks: number;
  dropped: number;
  skippedLines: number;
}

/** The reference `timestamp` and our precise `timestamp_ns` of a wall time in ns. */
export function stamp(wallNs: bigint, hostname: string): SampleDict {
  // timestamp_ns is a number (exact to 256 ns): JSON.stringify takes it, unlike a bigint.
  return { timestamp: isoSeconds(Number(wallNs / 1_000_000n)), timestamp_ns: Number(wallNs), hostname };
}

/** Sample `i` of a batch whose layout is `info`. */
export function decodeOne(b: NativeBatch, i: number, info: LayoutInfo, hostname: string, only?: SectionFilter): SampleDict {
  const s = stamp(b.wallNs[i], hostname);
  decodeSections(info, new Cursor(b.values, b.offsets[i]), s, only);
  return s;
}

/** Layouts by id, kept across the batches of one sampler (a batch carries only new ones). */
export class LayoutCache {
  private readonly byId = new Map<number, LayoutInfo>();
  add(layouts: readonly NativeLayout[]): void {
    for (const l of layouts) if (!this.byId.has(l.id)) this.byId.set(l.id, layoutInfo(l));
  }
  get size(): number {
    return this.byId.size;
  }
  /** The ids of the layouts held, in the order they came. */
  ids(): number[] {
    return [...this.byId.keys()];
  }
  get(id: number): LayoutInfo {
    const info = this.byId.get(id);
    if (!info) throw new NativeError('ERR_NATIVE', `layout ${id} was never received: decode every batch of a sampler with one LayoutCache`);
    return info;
  }
}

/** Every sample of a batch as a dict (with `only`, only those sections of each). */
export function decodeBatch(b: NativeBatch, hostname: string, layouts = new LayoutCache(), only?: SectionFilter): DecodedBatch {
  layouts.add(b.layouts);
  const samples: SampleDict[] = [];
  const monoNs: bigint[] = [];
  for (let i = 0; i < b.layoutIds.length; i++) {
    samples.push(decodeOne(b, i, layouts.get(b.layoutIds[i]), hostname, only));
    monoNs.push(b.monoNs[i]);
  }
  // What a stored sample carried beyond its values (custom collectors'), then its errors: the
  // dict's key order.
  for (const e of b.extras) {
    const s = samples[e.sample];
    if (s) Object.assign(s, JSON.parse(e.json) as Pick<SampleDict, 'collectors'>);
  }
  for (const e of b.errors) {
    const s = samples[e.sample];
    if (s) (s.errors ??= {})[e.source] = e.message;
  }
  return { samples, monoNs, seqs: [...b.seqs], missedTicks: b.missedTicks, dropped: b.dropped, skippedLines: b.skippedLines };
}

/** How one value of a layout is read: its index in a sample's values and its kind, or a value the layout itself holds. */
export type Slot = { at: number; kind: 'counter' | 'float' | 'centi' | 'milli' } | { at: -1; kind: 'const'; value: number };

const PROC_READ: Record<string, Slot['kind']> = { uptime_s: 'milli', cpu_pct: 'centi' };
const PROC_ORDER = ['state', 'uptime_s', 'cpu_pct', ...PROCESS_COUNTERS, ...PROCESS_IO];
const LOADAVG_KEYS = ['load_1min', 'load_5min', 'load_15min', 'running_processes', 'total_processes'];
const STAT_SCALARS = ['intr', 'ctxt', 'btime', 'processes', 'procs_running', 'procs_blocked'];

/** Each section's first value in the layout's samples. */
function bases(info: LayoutInfo): Map<string, number> {
  const out = new Map<string, number>();
  let at = 0;
  for (const [name, size] of info.sizes) {
    out.set(name, at);
    at += size;
  }
  return out;
}

/**
 * Where the numeric value at sample path `segs` (split at dots, as `aggregate` takes it) sits in
 * this layout's samples; undefined where its samples do not have it as a number. Names with dots
 * (an interface `eth0.100`, a counter `io.bytes`) are the segments between the section and the field.
 */
export function slotOf(info: LayoutInfo, segs: readonly string[]): Slot | undefined {
  const { l } = info;
  const [section, ...rest] = segs;
  const base = bases(info).get(section);
  if (base === undefined || rest.length === 0) return undefined;
  const name = rest.slice(0, -1).join('.');
  const field = rest[rest.length - 1];
  const key = rest.join('.');
  const at = (i: number, kind: Slot['kind'] = 'counter'): Slot | undefined => (i < 0 ? undefined : { at: base + i, kind } as Slot);
  switch (section) {
    // A dict keeps the last of a repeated name; a list's `find` the first.
    case 'vmstat': return at(l.vmstat.lastIndexOf(key));
    case 'meminfo': return at(l.meminfo.lastIndexOf(key));
    case 'app': {
      const i = l.app.lastIndexOf(key);
      return at(i, l.appGauge[i] ? 'float' : 'counter');
    }
    case 'loadavg': {
      const i = LOADAVG_KEYS.indexOf(key);
      return at(i, i < 3 ? 'float' : 'counter');
    }
    case 'diskstats': {
      const d = l.disks.indexOf(name);
      const f = (DISKSTATS_FIELDS as readonly string[]).indexOf(field);
      if (d < 0 || f < 0 || f >= l.diskFields[d]) return undefined;
      return at(l.diskFields.slice(0, d).reduce((a, b) => a + b, 0) + f);
    }
    case 'netdev': {
      const n = l.net.indexOf(name);
      const f = (NETDEV_FIELDS as readonly string[]).indexOf(field);
      return n < 0 || f < 0 ? undefined : at(n * NETDEV_FIELDS.length + f);
    }
    case 'stat': {
      if (rest.length === 1) {
        const k = STAT_SCALARS.indexOf(field);
        return k < 0 ? undefined : at(l.cpus.length * CPU_FIELDS.length + k);
      }
      const f = (CPU_FIELDS as readonly string[]).indexOf(field);
      if (f < 0) return undefined;
      // decode: the last `cpu` line is `cpu` (zeros when there is none); the others are in `cpus`.
      if (name === 'cpu') {
        const i = l.cpus.lastIndexOf('cpu');
        return i < 0 ? { at: -1, kind: 'const', value: 0 } : at(i * CPU_FIELDS.length + f);
      }
      if (!name.startsWith('cpus.')) return undefined;
      const cpu = name.slice('cpus.'.length);
      return cpu === 'cpu' ? undefined : at(l.cpus.lastIndexOf(cpu) < 0 ? -1 : l.cpus.lastIndexOf(cpu) * CPU_FIELDS.length + f);
    }
    case 'processes': {
      const i = (l.procs ?? []).findIndex((p) => p.key === name);
      if (i < 0) return undefined;
      const p = l.procs![i];
      const ident: Record<string, number | undefined> = {
        pid: p.pid, ppid: p.ppid, start_time_ns: Number(p.startTimeNs), restarts: p.restarts,
        last_exit_code: p.lastExitCode ?? undefined, last_exit_signal: p.lastExitSignal ?? undefined,
      };
      if (field in ident) {
        const value = ident[field];
        return value === undefined ? undefined : { at: -1, kind: 'const', value };
      }
      const f = PROC_ORDER.indexOf(field);
      if (f <= 0 || (f >= PROC_ORDER.length - PROCESS_IO.length && !p.hasIo)) return undefined;
      return at(i * PROC_VALUES + f, PROC_READ[field] ?? 'counter');
    }
    default: return undefined;
  }
}

/**
 * The values of one sample path over a batch, read from its columns without building any sample
 * (`aggregate` over an hour of samples in about a millisecond); the same values `series()` finds in
 * the decoded samples (a property test holds the two equal). Also the span, as `series()` gives it;
 * `at`, if given, receives the index in the batch of the sample each value is of.
 */
export function valuesAt(b: NativeBatch, layouts: LayoutCache, path: string, at?: number[]): { values: number[]; spanSeconds: number } {
  layouts.add(b.layouts);
  const segs = path.split('.');
  const slots = new Map<number, Slot | undefined>();
  const words = new Uint32Array(b.values.buffer, b.values.byteOffset, b.values.length * 2);
  const floats = new Float64Array(b.values.buffer, b.values.byteOffset, b.values.length);
  const values: number[] = [];
  let first = -1;
  let last = -1;
  for (let i = 0; i < b.layoutIds.length; i++) {
    const id = b.layoutIds[i];
    let slot = slots.get(id);
    if (!slots.has(id)) slots.set(id, (slot = slotOf(layouts.get(id), segs)));
    if (slot === undefined) continue;
    const pos = b.offsets[i] + slot.at;
    let v: number;
    switch (slot.kind) {
      case 'const': v = slot.value; break;
      case 'float': v = floats[pos]; break;
      default: {
        // A counter as `Cursor.counter` then `Number()` gives it (the exact value, rounded once).
        const hi = words[pos * 2 + 1];
        const lo = words[pos * 2];
        const n = hi < SAFE_HI ? hi * TWO32 + lo : Number((BigInt(hi) << 32n) | BigInt(lo));
        v = slot.kind === 'centi' ? n / 100 : slot.kind === 'milli' ? n / 1000 : n;
      }
    }
    if (!Number.isFinite(v)) continue;
    values.push(v);
    at?.push(i);
    if (first < 0) first = i;
    last = i;
  }
  const spanSeconds = first >= 0 && last > first ? (Number(b.wallNs[last]) - Number(b.wallNs[first])) / 1e9 : 0;
  return { values, spanSeconds };
}
