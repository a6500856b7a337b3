/**
 * Samples and rates as flat (metric, value) pairs, for `export`: dotted names that say where the
 * value is (`diskstats.sda.reads_completed`, `meminfo.MemAvailable`, `stat.cpu0.user`; rates as
 * `aggregate()` names them without `rates.`: `disk.sda.util`, `cpu.all.usr`, `mem.used_pct`).
 * Counters stay exact (a bigint above 2^53).
 */
import type { TimeSeriesSample } from '../models/sample.js';
import type { Rates } from '../types/rates.js';
import { CPU_FIELDS, DISKSTATS_FIELDS, NETDEV_FIELDS, PROCESS_COUNTERS, PROCESS_IO, type Counter } from '../types/sample.js';

export type Value = number | bigint;
/** One value: its section (`diskstats`, `disk`), the device, interface, CPU or process it is of ('' for none), its field. */
export type Emit = (section: string, entity: string, field: string, value: Value) => void;

/** The dotted name of a value: `diskstats.sda.reads_completed`, `mem.used_pct`. */
export function metricName(section: string, entity: string, field: string): string {
  return entity === '' ? `${section}.${field}` : `${section}.${entity}.${field}`;
}

const STAT_SCALARS = ['intr', 'ctxt', 'btime', 'processes', 'procs_running', 'procs_blocked'] as const;
const LOADAVG = ['load_1min', 'load_5min', 'load_15min', 'running_processes', 'total_processes'] as const;

function each(section: string, o: Record<string, Counter> | undefined, emit: Emit): void {
  if (o) for (const k in o) emit(section, '', k, o[k]);
}

/** Every number of a sample (raw counters and levels), in file order. */
export function rawMetrics(s: TimeSeriesSample, emit: Emit): void {
  for (const d of s.diskstats ?? []) {
    for (const f of DISKSTATS_FIELDS) {
      const v = d[f];
      if (v !== undefined) emit('diskstats', d.device_name, f, v);
    }
  }
  each('vmstat', s.vmstat, emit);
  each('meminfo', s.meminfo, emit);
  if (s.loadavg) for (const f of LOADAVG) emit('loadavg', '', f, s.loadavg[f]);
  for (const n of s.netdev ?? []) for (const f of NETDEV_FIELDS) emit('netdev', n.interface_name, f, n[f]);
  if (s.stat) {
    for (const f of CPU_FIELDS) emit('stat', 'cpu', f, s.stat.cpu[f]);
    for (const [name, t] of Object.entries(s.stat.cpus)) for (const f of CPU_FIELDS) emit('stat', name, f, t[f]);
    for (const f of STAT_SCALARS) emit('stat', '', f, s.stat[f]);
  }
  for (const p of s.processes ?? []) {
    emit('processes', p.key, 'pid', p.pid);
    emit('processes', p.key, 'cpu_pct', p.cpu_pct);
    for (const f of PROCESS_COUNTERS) emit('processes', p.key, f, p[f]);
    for (const f of PROCESS_IO) {
      const v = p[f];
      if (v !== undefined) emit('processes', p.key, f, v);
    }
  }
  each('app', s.app, emit);
}

function group(section: string, o: Record<string, object>, emit: Emit): void {
  for (const [name, r] of Object.entries(o)) {
    for (const [k, v] of Object.entries(r as Record<string, number | undefined>)) if (v !== undefined) emit(section, name, k, v);
  }
}

/** Every rate of an interval. */
export function rateMetrics(r: Rates, emit: Emit): void {
  group('disk', r.disk, emit);
  group('net', r.net, emit);
  group('cpu', r.cpu, emit);
  for (const [k, v] of Object.entries(r.mem as Record<string, number | undefined>)) if (v !== undefined) emit('mem', '', k, v);
  for (const [k, v] of Object.entries(r.vm as Record<string, number | undefined>)) if (v !== undefined) emit('vm', '', k, v);
  group('proc', r.proc, emit);
  for (const [k, v] of Object.entries(r.app)) emit('app', '', k, v);
}
