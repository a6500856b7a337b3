/**
 * One sample of one host. Top-level properties are camelCase; the nested /proc records
 * (diskstats and netdev entries, vmstat/meminfo dicts, loadavg, stat) keep the snake_case and
 * kernel names they have in the file (typed by lib/types.ts), so the same objects serve the model
 * and the dict without renaming 600 keys per sample.
 */
import {
  CPU_FIELDS, DISKSTATS_FIELDS, NETDEV_FIELDS,
  type Counter, type CpuTimes, type DiskstatsEntry, type Loadavg, type NetdevEntry, type SampleDict, type StatInfo,
} from '../types.js';
import {
  array, count, counter, counterDict, indexPath, keyPath, nonNegativeFloat, optional, record, required, setOwn,
  string, stringDict, timestamp,
} from './validate.js';

export interface TimeSeriesSampleInit {
  /** Whole seconds, UTC, as the reference writes it: `2026-01-24T12:00:00Z`. */
  timestamp: string;
  /** Wall-clock nanoseconds since the epoch (exact; usually a bigint). */
  timestampNs?: Counter;
  hostname: string;
  diskstats?: DiskstatsEntry[];
  vmstat?: Record<string, Counter>;
  meminfo?: Record<string, Counter>;
  loadavg?: Loadavg;
  netdev?: NetdevEntry[];
  stat?: StatInfo;
  collectors?: Record<string, unknown>;
  errors?: Record<string, string>;
}

const BASE_DISK_FIELDS = 11;

function diskEntry(v: unknown, path: string): DiskstatsEntry {
  const o = record(v, path);
  const e: Record<string, string | Counter> = { device_name: string(required(o, 'device_name', path), keyPath(path, 'device_name')) };
  for (let i = 0; i < DISKSTATS_FIELDS.length; i++) {
    const f = DISKSTATS_FIELDS[i]!;
    const x = i < BASE_DISK_FIELDS ? required(o, f, path) : o[f];
    if (x !== undefined && x !== null) e[f] = counter(x, keyPath(path, f));
  }
  return e as unknown as DiskstatsEntry;
}

function netEntry(v: unknown, path: string): NetdevEntry {
  const o = record(v, path);
  const e: Record<string, string | Counter> = { interface_name: string(required(o, 'interface_name', path), keyPath(path, 'interface_name')) };
  for (const f of NETDEV_FIELDS) e[f] = counter(required(o, f, path), keyPath(path, f));
  return e as unknown as NetdevEntry;
}

function loadavg(v: unknown, path: string): Loadavg {
  const o = record(v, path);
  const f = (k: string): number => nonNegativeFloat(required(o, k, path), keyPath(path, k));
  const n = (k: string): number => count(required(o, k, path), keyPath(path, k));
  return { load_1min: f('load_1min'), load_5min: f('load_5min'), load_15min: f('load_15min'), running_processes: n('running_processes'), total_processes: n('total_processes') };
}

function cpuTimes(v: unknown, path: string): CpuTimes {
  const o = record(v, path);
  const t: Record<string, Counter> = {};
  for (const f of CPU_FIELDS) t[f] = counter(required(o, f, path), keyPath(path, f));
  return t as unknown as CpuTimes;
}

function stat(v: unknown, path: string): StatInfo {
  const o = record(v, path);
  const cpusPath = keyPath(path, 'cpus');
  const cpusIn = record(required(o, 'cpus', path), cpusPath);
  const cpus: Record<string, CpuTimes> = {};
  for (const k in cpusIn) setOwn(cpus, k, cpuTimes(cpusIn[k], keyPath(cpusPath, k)));
  const c = (k: string): Counter => counter(required(o, k, path), keyPath(path, k));
  return {
    cpu: cpuTimes(required(o, 'cpu', path), keyPath(path, 'cpu')),
    cpus,
    intr: c('intr'), ctxt: c('ctxt'), btime: c('btime'), processes: c('processes'),
    procs_running: c('procs_running'), procs_blocked: c('procs_blocked'),
  };
}

function list<T>(check: (v: unknown, path: string) => T): (v: unknown, path: string) => T[] {
  return (v, path) => array(v, path).map((e, i) => check(e, indexPath(path, i)));
}

const diskList = list(diskEntry);
const netList = list(netEntry);

export class TimeSeriesSample {
  timestamp: string;
  timestampNs: Counter | undefined;
  hostname: string;
  diskstats: DiskstatsEntry[] | undefined;
  vmstat: Record<string, Counter> | undefined;
  meminfo: Record<string, Counter> | undefined;
  loadavg: Loadavg | undefined;
  netdev: NetdevEntry[] | undefined;
  stat: StatInfo | undefined;
  collectors: Record<string, unknown> | undefined;
  /** source (file, collector name or `ssh`) → message. */
  errors: Record<string, string> | undefined;

  constructor(init: TimeSeriesSampleInit) {
    this.timestamp = init.timestamp;
    this.timestampNs = init.timestampNs;
    this.hostname = init.hostname;
    this.diskstats = init.diskstats;
    this.vmstat = init.vmstat;
    this.meminfo = init.meminfo;
    this.loadavg = init.loadavg;
    this.netdev = init.netdev;
    this.stat = init.stat;
    this.collectors = init.collectors;
    this.errors = init.errors;
  }

  /** The sample time as a Date (from `timestampNs` when present, else `timestamp`). */
  get date(): Date {
    return this.timestampNs !== undefined ? new Date(Number(BigInt(this.timestampNs) / 1_000_000n)) : new Date(this.timestamp);
  }

  /**
   * The mlpstorage dict: snake_case keys in file order, absent values left out. Nested objects
   * are shared with the sample, not copied.
   */
  toDict(): SampleDict {
    const d = { timestamp: this.timestamp } as SampleDict;
    if (this.timestampNs !== undefined) d.timestamp_ns = this.timestampNs;
    d.hostname = this.hostname;
    if (this.diskstats !== undefined) d.diskstats = this.diskstats;
    if (this.vmstat !== undefined) d.vmstat = this.vmstat;
    if (this.meminfo !== undefined) d.meminfo = this.meminfo;
    if (this.loadavg !== undefined) d.loadavg = this.loadavg;
    if (this.netdev !== undefined) d.netdev = this.netdev;
    if (this.stat !== undefined) d.stat = this.stat;
    if (this.collectors !== undefined) d.collectors = this.collectors;
    if (this.errors !== undefined) d.errors = this.errors;
    return d;
  }

  /**
   * Same as `toDict()` (so hostseries' JSON writer can take a sample). Counters above 2^53 are
   * bigints, which Node 20's `JSON.stringify` refuses: use `stringifyJson` from hostseries.
   */
  toJSON(): SampleDict {
    return this.toDict();
  }

  /**
   * Build a sample from a dict (as parsed from a file), checking every field. Throws an
   * InvalidDataError naming the bad field, prefixed by `path`. Unknown keys are ignored; a
   * missing or null optional section is absent.
   */
  static fromDict(v: unknown, path = ''): TimeSeriesSample {
    const d = record(v, path);
    return new TimeSeriesSample({
      timestamp: timestamp(required(d, 'timestamp', path), keyPath(path, 'timestamp')),
      timestampNs: optional(d, 'timestamp_ns', path, counter),
      hostname: string(required(d, 'hostname', path), keyPath(path, 'hostname')),
      diskstats: optional(d, 'diskstats', path, diskList),
      vmstat: optional(d, 'vmstat', path, counterDict),
      meminfo: optional(d, 'meminfo', path, counterDict),
      loadavg: optional(d, 'loadavg', path, loadavg),
      netdev: optional(d, 'netdev', path, netList),
      stat: optional(d, 'stat', path, stat),
      collectors: optional(d, 'collectors', path, record),
      errors: optional(d, 'errors', path, stringDict),
    });
  }

  /** Wrap a dict that is known to be well formed (the native core's), without checks or copies. */
  static fromTrustedDict(d: SampleDict): TimeSeriesSample {
    return new TimeSeriesSample({
      timestamp: d.timestamp, timestampNs: d.timestamp_ns ?? undefined, hostname: d.hostname,
      diskstats: d.diskstats, vmstat: d.vmstat, meminfo: d.meminfo, loadavg: d.loadavg, netdev: d.netdev,
      stat: d.stat, collectors: d.collectors, errors: d.errors,
    });
  }
}
