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
  /** A vmstat/meminfo name is `__proto__`: those dicts are built with defineProperty. */
  protoKey: boolean;
}

/** Values per watched process (crates/core/src/procs/entry.rs `PROC_FIELDS`). */
const PROC_VALUES = 3 + PROCESS_COUNTERS.length + PROCESS_IO.length;

/** A process state code as its letter (crates/core/src/jsonl `state_letter` is the same). */
function stateLetter(code: Counter): string {
  const c = Number(code);
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) ? String.fromCharCode(c) : '?';
}

function processEntry(p: NativeProc, c: Cursor): ProcessEntry {
  const head = {
    key: p.key, pid: p.pid, ppid: p.ppid, name: p.name, cmdline: p.cmdline, start_time_ns: Number(p.startTimeNs),
    state: stateLetter(c.counter()),
    uptime_s: Number(c.counter()) / 1000,
    cpu_pct: Number(c.counter()) / 100,
  };
  const fields: Omit<ProcessEntry, 'restarts'> = { ...head, ...record(PROCESS_COUNTERS, c) };
  if (p.hasIo) Object.assign(fields, record(PROCESS_IO, c));
  else c.pos += PROCESS_IO.length;
  // `restarts` after the I/O fields, as the native writer has it.
  const e: ProcessEntry = Object.assign(fields, { restarts: p.restarts });
  if (p.lastExitCode != null) e.last_exit_code = p.lastExitCode;
  if (p.lastExitSignal != null) e.last_exit_signal = p.lastExitSignal;
  return e;
}

export function layoutInfo(l: NativeLayout): LayoutInfo {
  const sections = new Set(l.sections);
  let size = l.diskFields.reduce((a, b) => a + b, 0) + l.vmstat.length + l.meminfo.length + l.net.length * NETDEV_FIELDS.length;
  if (sections.has('loadavg')) size += 5;
  if (sections.has('stat')) size += l.cpus.length * CPU_FIELDS.length + 6;
  size += (l.procs?.length ?? 0) * PROC_VALUES + l.app.length;
  return { l, sections, size, protoKey: l.vmstat.includes('__proto__') || l.meminfo.includes('__proto__') };
}

/** Fill `s` with the sections of one sample whose values start at `c.pos`. */
export function decodeSections({ l, sections, protoKey }: LayoutInfo, c: Cursor, s: SampleDict): void {
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
  if (l.procs != null) s.processes = l.procs.map((p) => processEntry(p, c));
  if (l.app.length > 0) {
    const app: Record<string, Counter> = {};
    l.app.forEach((name, i) => (app[name] = l.appGauge[i] ? c.float() : c.counter()));
    s.app = app;
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
export function decodeOne(b: NativeBatch, i: number, info: LayoutInfo, hostname: string): SampleDict {
  const s = stamp(b.wallNs[i], hostname);
  decodeSections(info, new Cursor(b.values, b.offsets[i]), s);
  return s;
}

/** Layouts by id, kept across the batches of one sampler (a batch carries only new ones). */
export class LayoutCache {
  private readonly byId = new Map<number, LayoutInfo>();
  add(layouts: readonly NativeLayout[]): void {
    for (const l of layouts) if (!this.byId.has(l.id)) this.byId.set(l.id, layoutInfo(l));
  }
  get(id: number): LayoutInfo {
    const info = this.byId.get(id);
    if (!info) throw new NativeError('ERR_NATIVE', `layout ${id} was never received: decode every batch of a sampler with one LayoutCache`);
    return info;
  }
}

export function decodeBatch(b: NativeBatch, hostname: string, layouts = new LayoutCache()): DecodedBatch {
  layouts.add(b.layouts);
  const samples: SampleDict[] = [];
  const monoNs: bigint[] = [];
  for (let i = 0; i < b.layoutIds.length; i++) {
    samples.push(decodeOne(b, i, layouts.get(b.layoutIds[i]), hostname));
    monoNs.push(b.monoNs[i]);
  }
  for (const e of b.errors) {
    const s = samples[e.sample];
    if (s) (s.errors ??= {})[e.source] = e.message;
  }
  return { samples, monoNs, seqs: [...b.seqs], missedTicks: b.missedTicks, dropped: b.dropped, skippedLines: b.skippedLines };
}
