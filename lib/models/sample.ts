/**
 * One sample of one host. Top-level properties are camelCase; the nested /proc records
 * (diskstats and netdev entries, vmstat/meminfo dicts, loadavg, stat) keep the snake_case and
 * kernel names they have in the file (typed by lib/types/sample.ts), so the same objects serve the model
 * and the dict without renaming 600 keys per sample.
 */
import {
  PROCESS_COUNTERS, PROCESS_IO,
  type Counter, type CpuTimes, type DiskstatsEntry, type Loadavg, type NetdevEntry, type ProcessEntry, type SampleDict,
  type StatInfo, type TimeSeriesSampleInit,
} from '../types/sample.js';
import {
  array, count, counter, counterDict, epochNanos, fail, field, join, nonNegativeFloat, optional, record, string, stringDict,
  timestamp, type Check, type Key,
} from './validate.js';
import { bigintFree, safeDict } from '../json/json-safe.js';
import { InvalidOptionError } from '../errors.js';
import { setOwn } from '../json/own.js';

// The nested records are rebuilt with their known fields in file order (unknown keys dropped).

function diskEntry(v: unknown, parent: string, key?: Key): DiskstatsEntry {
  const o = record(v, parent, key);
  const path = join(parent, key);
  const c = (f: string): Counter => field(o, f, path, counter);
  // Literals, not a loop over field names: V8 builds these ~15x faster.
  const e: DiskstatsEntry = {
    device_name: field(o, 'device_name', path, string),
    reads_completed: c('reads_completed'), reads_merged: c('reads_merged'), sectors_read: c('sectors_read'),
    time_reading_ms: c('time_reading_ms'), writes_completed: c('writes_completed'), writes_merged: c('writes_merged'),
    sectors_written: c('sectors_written'), time_writing_ms: c('time_writing_ms'), ios_in_progress: c('ios_in_progress'),
    time_doing_ios_ms: c('time_doing_ios_ms'), weighted_time_doing_ios_ms: c('weighted_time_doing_ios_ms'),
  };
  if (o.discards_completed != null || o.discards_merged != null || o.sectors_discarded != null || o.time_discarding_ms != null) {
    e.discards_completed = c('discards_completed');
    e.discards_merged = c('discards_merged');
    e.sectors_discarded = c('sectors_discarded');
    e.time_discarding_ms = c('time_discarding_ms');
  }
  if (o.flush_requests_completed != null || o.time_flushing_ms != null) {
    e.flush_requests_completed = c('flush_requests_completed');
    e.time_flushing_ms = c('time_flushing_ms');
  }
  return e;
}

function netEntry(v: unknown, parent: string, key?: Key): NetdevEntry {
  const o = record(v, parent, key);
  const path = join(parent, key);
  const c = (f: string): Counter => field(o, f, path, counter);
  return {
    interface_name: field(o, 'interface_name', path, string),
    rx_bytes: c('rx_bytes'), rx_packets: c('rx_packets'), rx_errors: c('rx_errors'), rx_dropped: c('rx_dropped'),
    rx_fifo: c('rx_fifo'), rx_frame: c('rx_frame'), rx_compressed: c('rx_compressed'), rx_multicast: c('rx_multicast'),
    tx_bytes: c('tx_bytes'), tx_packets: c('tx_packets'), tx_errors: c('tx_errors'), tx_dropped: c('tx_dropped'),
    tx_fifo: c('tx_fifo'), tx_collisions: c('tx_collisions'), tx_carrier: c('tx_carrier'), tx_compressed: c('tx_compressed'),
  };
}

function loadavg(v: unknown, parent: string, key?: Key): Loadavg {
  const o = record(v, parent, key);
  const path = join(parent, key);
  return {
    load_1min: field(o, 'load_1min', path, nonNegativeFloat),
    load_5min: field(o, 'load_5min', path, nonNegativeFloat),
    load_15min: field(o, 'load_15min', path, nonNegativeFloat),
    running_processes: field(o, 'running_processes', path, count),
    total_processes: field(o, 'total_processes', path, count),
  };
}

function cpuTimes(v: unknown, parent: string, key?: Key): CpuTimes {
  const o = record(v, parent, key);
  const path = join(parent, key);
  const c = (f: string): Counter => field(o, f, path, counter);
  return {
    user: c('user'), nice: c('nice'), system: c('system'), idle: c('idle'), iowait: c('iowait'),
    irq: c('irq'), softirq: c('softirq'), steal: c('steal'), guest: c('guest'), guest_nice: c('guest_nice'),
  };
}

function cpuMap(v: unknown, parent: string, key?: Key): Record<string, CpuTimes> {
  const o = record(v, parent, key);
  const path = join(parent, key);
  const cpus: Record<string, CpuTimes> = {};
  for (const k in o) setOwn(cpus, k, cpuTimes(o[k], path, k));
  return cpus;
}

function stat(v: unknown, parent: string, key?: Key): StatInfo {
  const o = record(v, parent, key);
  const path = join(parent, key);
  return {
    cpu: field(o, 'cpu', path, cpuTimes),
    cpus: field(o, 'cpus', path, cpuMap),
    intr: field(o, 'intr', path, counter),
    ctxt: field(o, 'ctxt', path, counter),
    btime: field(o, 'btime', path, counter),
    processes: field(o, 'processes', path, counter),
    procs_running: field(o, 'procs_running', path, counter),
    procs_blocked: field(o, 'procs_blocked', path, counter),
  };
}

/** Counters (exact, bigint beyond 2^53) and gauges (any finite number), by name. */
function numberDict(v: unknown, path: string, key?: Key): Record<string, Counter> {
  const d = record(v, path, key);
  const at = join(path, key);
  const out: Record<string, Counter> = {};
  for (const k in d) {
    const x = d[k];
    setOwn(out, k, typeof x === 'number' && Number.isFinite(x) ? x : counter(x, at, k));
  }
  return out;
}

/** An integer, negative too (an exit code). */
function integer(v: unknown, path: string, key?: Key): number {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  return fail(path, 'an integer', v, key);
}

function processEntry(v: unknown, parent: string, key?: Key): ProcessEntry {
  const o = record(v, parent, key);
  const path = join(parent, key);
  const e: Omit<ProcessEntry, 'restarts'> = {
    key: field(o, 'key', path, string),
    pid: field(o, 'pid', path, count),
    ppid: field(o, 'ppid', path, count),
    name: field(o, 'name', path, string),
    cmdline: field(o, 'cmdline', path, string),
    start_time_ns: field(o, 'start_time_ns', path, epochNanos),
    state: field(o, 'state', path, string),
    uptime_s: field(o, 'uptime_s', path, nonNegativeFloat),
    cpu_pct: field(o, 'cpu_pct', path, nonNegativeFloat),
    ...Object.fromEntries(PROCESS_COUNTERS.map((f) => [f, field(o, f, path, counter)])) as Record<(typeof PROCESS_COUNTERS)[number], Counter>,
  };
  if (PROCESS_IO.some((f) => o[f] != null)) for (const f of PROCESS_IO) e[f] = field(o, f, path, counter);
  const out: ProcessEntry = Object.assign(e, { restarts: field(o, 'restarts', path, count) });
  const code = optional(o, 'last_exit_code', path, integer);
  if (code !== undefined) out.last_exit_code = code;
  const signal = optional(o, 'last_exit_signal', path, count);
  if (signal !== undefined) out.last_exit_signal = signal;
  return out;
}

function list<T>(check: Check<T>): Check<T[]> {
  return (v, parent, key) => {
    const a = array(v, parent, key);
    const path = join(parent, key);
    const out = new Array<T>(a.length);
    for (let i = 0; i < a.length; i++) out[i] = check(a[i], path, i);
    return out;
  };
}

const diskList = list(diskEntry);
const netList = list(netEntry);
const processList = list(processEntry);

export class TimeSeriesSample {
  timestamp: string;
  timestampNs: number | undefined;
  hostname: string;
  diskstats: DiskstatsEntry[] | undefined;
  vmstat: Record<string, Counter> | undefined;
  meminfo: Record<string, Counter> | undefined;
  loadavg: Loadavg | undefined;
  netdev: NetdevEntry[] | undefined;
  stat: StatInfo | undefined;
  /** The watched processes alive at this sample (our addition). */
  processes: ProcessEntry[] | undefined;
  /** Application counters and gauges (our addition). */
  app: Record<string, Counter> | undefined;
  collectors: Record<string, unknown> | undefined;
  /** source (file, collector name or `ssh`) → message. */
  errors: Record<string, string> | undefined;

  constructor(init: TimeSeriesSampleInit) {
    // The two fields every sample has; the sections are the caller's (fromDict checks them all).
    if (typeof init !== 'object' || init === null) throw new InvalidOptionError(`new TimeSeriesSample(init): init must be an object, got ${init === null ? 'null' : typeof init}`);
    if (typeof init.timestamp !== 'string') throw new InvalidOptionError('new TimeSeriesSample(init): init.timestamp must be a string (YYYY-MM-DDTHH:MM:SSZ)');
    if (typeof init.hostname !== 'string') throw new InvalidOptionError('new TimeSeriesSample(init): init.hostname must be a string');
    this.timestamp = init.timestamp;
    this.timestampNs = init.timestampNs;
    this.hostname = init.hostname;
    this.diskstats = init.diskstats;
    this.vmstat = init.vmstat;
    this.meminfo = init.meminfo;
    this.loadavg = init.loadavg;
    this.netdev = init.netdev;
    this.stat = init.stat;
    this.processes = init.processes;
    this.app = init.app;
    this.collectors = init.collectors;
    this.errors = init.errors;
  }

  /** The sample time as a Date (from `timestampNs` when present, else `timestamp`). */
  get date(): Date {
    return this.timestampNs !== undefined ? new Date(Math.floor(this.timestampNs / 1e6)) : new Date(this.timestamp);
  }

  /**
   * The mlpstorage dict: snake_case keys in file order, absent values left out. Nested objects
   * are shared with the sample, not copied. Big counters stay bigints; the dict inherits a
   * `toJSON` so that `JSON.stringify` takes it all the same (see `toJSON`).
   */
  toDict(): SampleDict {
    const d = safeDict<SampleDict>();
    d.timestamp = this.timestamp;
    if (this.timestampNs !== undefined) d.timestamp_ns = this.timestampNs;
    d.hostname = this.hostname;
    if (this.diskstats !== undefined) d.diskstats = this.diskstats;
    if (this.vmstat !== undefined) d.vmstat = this.vmstat;
    if (this.meminfo !== undefined) d.meminfo = this.meminfo;
    if (this.loadavg !== undefined) d.loadavg = this.loadavg;
    if (this.netdev !== undefined) d.netdev = this.netdev;
    if (this.stat !== undefined) d.stat = this.stat;
    if (this.processes !== undefined) d.processes = this.processes;
    if (this.app !== undefined) d.app = this.app;
    if (this.collectors !== undefined) d.collectors = this.collectors;
    if (this.errors !== undefined) d.errors = this.errors;
    return d;
  }

  /**
   * `toDict()` for `JSON.stringify`, which refuses bigints: a counter above 2^53 is written with
   * its exact digits on Node 22+ (`JSON.rawJSON`) and as the nearest number on Node 20 (no
   * rawJSON there). `stringifyJson` and the file writers stay exact on every runtime.
   */
  toJSON(): SampleDict {
    return bigintFree(this.toDict()) as SampleDict;
  }

  /**
   * Build a sample from a dict (as parsed from a file), checking every field. Throws an
   * InvalidDataError naming the bad field, prefixed by `path`. Unknown keys are ignored; a
   * missing or null optional section is absent.
   */
  static fromDict(v: unknown, path = ''): TimeSeriesSample {
    const d = record(v, path);
    return new TimeSeriesSample({
      timestamp: field(d, 'timestamp', path, timestamp),
      timestampNs: optional(d, 'timestamp_ns', path, epochNanos),
      hostname: field(d, 'hostname', path, string),
      diskstats: optional(d, 'diskstats', path, diskList),
      vmstat: optional(d, 'vmstat', path, counterDict),
      meminfo: optional(d, 'meminfo', path, counterDict),
      loadavg: optional(d, 'loadavg', path, loadavg),
      netdev: optional(d, 'netdev', path, netList),
      stat: optional(d, 'stat', path, stat),
      processes: optional(d, 'processes', path, processList),
      app: optional(d, 'app', path, numberDict),
      collectors: optional(d, 'collectors', path, record),
      errors: optional(d, 'errors', path, stringDict),
    });
  }

  /** Wrap a dict that is known to be well formed (the native core's), without checks or copies. */
  static fromTrustedDict(d: SampleDict): TimeSeriesSample {
    return new TimeSeriesSample({
      timestamp: d.timestamp, timestampNs: d.timestamp_ns ?? undefined, hostname: d.hostname,
      diskstats: d.diskstats, vmstat: d.vmstat, meminfo: d.meminfo, loadavg: d.loadavg, netdev: d.netdev,
      stat: d.stat, processes: d.processes, app: d.app, collectors: d.collectors, errors: d.errors,
    });
  }
}
