/**
 * A sample as Prometheus metric families, named, labelled and scaled exactly as node_exporter's
 * collectors name the same /proc sources (diskstats, meminfo, netdev, loadavg, stat/cpu, vmstat;
 * checked against node_exporter itself in __test__/prometheus.spec.ts), so dashboards and
 * recording rules written for node_exporter work unchanged. What node_exporter has no name for
 * (watched processes, application counters) is under `hostseries_`.
 */
import { CPU_FIELDS, type CpuTimes, type SampleDict } from '../types/sample.js';

export type FamilyType = 'counter' | 'gauge' | 'untyped';

/** One series: its labels (name, value; in the order written) and its value. */
export interface Series {
  labels: readonly (readonly [string, string])[];
  value: number;
  /** When it was measured (ms since the epoch), if it differs from the exposition's. */
  timestampMs?: number;
}

export interface MetricFamily {
  name: string;
  help: string;
  type: FamilyType;
  series: Series[];
}

/** node_exporter's default `--collector.diskstats.device-exclude` (partitions, ram, loop, fd). */
export const NODE_EXPORTER_DISK_EXCLUDE = /^(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$/;

/** node_exporter's default `--collector.netdev.device-exclude`. */
export const NODE_EXPORTER_NET_EXCLUDE = /^lo$/;

/** node_exporter's default `--collector.vmstat.fields`. */
export const NODE_EXPORTER_VMSTAT_FIELDS = /^(oom_kill|pgpg|pswp|pg.*fault).*/;

/** /proc/stat and /proc/<pid>/stat count in USER_HZ, 100 a second on every Linux node_exporter supports. */
export const USER_HZ = 100;

export interface FamilyOptions {
  /** Devices left out, as node_exporter's default (a RegExp; null keeps every device). */
  diskExclude?: RegExp | null;
  /** Interfaces left out, as node_exporter's default (`lo`; null keeps every interface). */
  netExclude?: RegExp | null;
  /** vmstat fields exposed (default: node_exporter's default set). */
  vmstatFields?: RegExp;
  /** Also the aggregate `cpu` line of /proc/stat (`hostseries_cpu_all_seconds_total{mode}`). */
  aggregateCpu?: boolean;
  /**
   * Also `hostseries_sample_timestamp_seconds`, the sample's own time (ms) as a value: a series
   * every sample has, so that a reader finds the hosts, and their first and last sample and
   * count with range functions (`serve --prometheus`).
   */
  sampleTime?: boolean;
}

/** The series every sample written with `sampleTime` has (its value: the sample's time in s, to the ms). */
export const SAMPLE_TIME = 'hostseries_sample_timestamp_seconds';

/**
 * Everything a sample holds that a time-series database can keep (what a remote write sends by
 * default, so that `serve --prometheus` can give whole samples back): every device and interface,
 * every vmstat field, the aggregate CPU line. Left out: a process's command line and state, the
 * sample's errors. node_exporter writes the same names for these with its flags set so.
 */
export const FULL_FIDELITY: FamilyOptions = { diskExclude: null, netExclude: null, vmstatFields: /^/, aggregateCpu: true, sampleTime: true };

const num = (v: number | bigint | undefined): number => (v === undefined ? NaN : Number(v));

/** Collects families by name, in first-seen order. */
class Families {
  readonly list: MetricFamily[] = [];
  private readonly byName = new Map<string, MetricFamily>();

  add(name: string, type: FamilyType, help: string, labels: Series['labels'], value: number): void {
    // A missing or non-numeric field is left out, as node_exporter leaves out what it cannot read.
    if (!Number.isFinite(value)) return;
    let f = this.byName.get(name);
    if (!f) {
      f = { name, type, help, series: [] };
      this.byName.set(name, f);
      this.list.push(f);
    }
    f.series.push({ labels, value });
  }
}

// [our field, node_exporter's name, help, scale]
export const DISK: readonly (readonly [string, string, string, number])[] = [
  ['reads_completed', 'node_disk_reads_completed_total', 'The total number of reads completed successfully.', 1],
  ['reads_merged', 'node_disk_reads_merged_total', 'The total number of reads merged.', 1],
  ['sectors_read', 'node_disk_read_bytes_total', 'The total number of bytes read successfully.', 512],
  ['time_reading_ms', 'node_disk_read_time_seconds_total', 'The total number of seconds spent by all reads.', 0.001],
  ['writes_completed', 'node_disk_writes_completed_total', 'The total number of writes completed successfully.', 1],
  ['writes_merged', 'node_disk_writes_merged_total', 'The number of writes merged.', 1],
  ['sectors_written', 'node_disk_written_bytes_total', 'The total number of bytes written successfully.', 512],
  ['time_writing_ms', 'node_disk_write_time_seconds_total', 'This is the total number of seconds spent by all writes.', 0.001],
  ['ios_in_progress', 'node_disk_io_now', 'The number of I/Os currently in progress.', 1],
  ['time_doing_ios_ms', 'node_disk_io_time_seconds_total', 'Total seconds spent doing I/Os.', 0.001],
  ['weighted_time_doing_ios_ms', 'node_disk_io_time_weighted_seconds_total', 'The weighted # of seconds spent doing I/Os.', 0.001],
  ['discards_completed', 'node_disk_discards_completed_total', 'The total number of discards completed successfully.', 1],
  ['discards_merged', 'node_disk_discards_merged_total', 'The total number of discards merged.', 1],
  ['sectors_discarded', 'node_disk_discarded_sectors_total', 'The total number of sectors discarded successfully.', 1],
  ['time_discarding_ms', 'node_disk_discard_time_seconds_total', 'This is the total number of seconds spent by all discards.', 0.001],
  ['flush_requests_completed', 'node_disk_flush_requests_total', 'The total number of flush requests completed successfully', 1],
  ['time_flushing_ms', 'node_disk_flush_requests_time_seconds_total', 'This is the total number of seconds spent by all flush requests.', 0.001],
];

// [our field, node_exporter's statistic name]: node_network_<receive|transmit>_<stat>_total.
export const NET: readonly (readonly [string, string])[] = [
  ['rx_bytes', 'receive_bytes'], ['rx_packets', 'receive_packets'], ['rx_errors', 'receive_errs'],
  ['rx_dropped', 'receive_drop'], ['rx_fifo', 'receive_fifo'], ['rx_frame', 'receive_frame'],
  ['rx_compressed', 'receive_compressed'], ['rx_multicast', 'receive_multicast'],
  ['tx_bytes', 'transmit_bytes'], ['tx_packets', 'transmit_packets'], ['tx_errors', 'transmit_errs'],
  ['tx_dropped', 'transmit_drop'], ['tx_fifo', 'transmit_fifo'], ['tx_collisions', 'transmit_colls'],
  ['tx_carrier', 'transmit_carrier'], ['tx_compressed', 'transmit_compressed'],
];

export const CPU_MODES = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal'] as const;

/** `Active(anon)` → `Active_anon`, as node_exporter's meminfo collector renames. */
export function memName(key: string): string {
  return key.replace(/\((.*)\)/, '_$1');
}

/**
 * /proc/meminfo's only lines without a `kB` unit (counts of huge pages), which node_exporter
 * neither scales nor suffixes with `_bytes`. The sample keeps values without their units, so the
 * set is named here (the kernel's meminfo_proc_show and hugetlb_report_meminfo).
 */
export const MEMINFO_UNITLESS = /^HugePages_(Total|Free|Rsvd|Surp)$/;

function cpuSeries(f: Families, cpu: string, t: CpuTimes): void {
  for (const mode of CPU_MODES) {
    f.add('node_cpu_seconds_total', 'counter', 'Seconds the CPUs spent in each mode.', [['cpu', cpu], ['mode', mode]], num(t[mode]) / USER_HZ);
  }
  const help = 'Seconds the CPUs spent in guests (VMs) for each mode.';
  f.add('node_cpu_guest_seconds_total', 'counter', help, [['cpu', cpu], ['mode', 'nice']], num(t.guest_nice) / USER_HZ);
  f.add('node_cpu_guest_seconds_total', 'counter', help, [['cpu', cpu], ['mode', 'user']], num(t.guest) / USER_HZ);
}

/** Every family a sample holds, node_exporter's first, then hostseries'. */
export function sampleFamilies(d: SampleDict, o: FamilyOptions = {}): MetricFamily[] {
  const f = new Families();
  const exclude = o.diskExclude === undefined ? NODE_EXPORTER_DISK_EXCLUDE : o.diskExclude;
  const netExclude = o.netExclude === undefined ? NODE_EXPORTER_NET_EXCLUDE : o.netExclude;
  const vmstatFields = o.vmstatFields ?? NODE_EXPORTER_VMSTAT_FIELDS;
  const stat = d.stat;
  if (stat) {
    f.add('node_boot_time_seconds', 'gauge', 'Node boot time, in unixtime.', [], num(stat.btime));
    f.add('node_context_switches_total', 'counter', 'Total number of context switches.', [], num(stat.ctxt));
    // node_exporter numbers CPUs from the `cpuN` lines; the aggregate `cpu` line is not a series.
    for (const [name, t] of Object.entries(stat.cpus)) {
      const m = /^cpu(\d+)$/.exec(name);
      if (m) cpuSeries(f, m[1], t);
    }
    if (o.aggregateCpu) {
      for (const mode of CPU_FIELDS) {
        f.add('hostseries_cpu_all_seconds_total', 'counter', "Seconds all CPUs together spent in each mode (/proc/stat's cpu line).", [['mode', mode]], num(stat.cpu[mode]) / USER_HZ);
      }
    }
    f.add('node_forks_total', 'counter', 'Total number of forks.', [], num(stat.processes));
    f.add('node_intr_total', 'counter', 'Total number of interrupts serviced.', [], num(stat.intr));
    f.add('node_procs_blocked', 'gauge', 'Number of processes blocked waiting for I/O to complete.', [], num(stat.procs_blocked));
    f.add('node_procs_running', 'gauge', 'Number of processes in runnable state.', [], num(stat.procs_running));
  }
  for (const disk of d.diskstats ?? []) {
    if (exclude?.test(disk.device_name)) continue;
    const labels = [['device', disk.device_name]] as const;
    for (const [field, name, help, scale] of DISK) {
      const v = (disk as unknown as Record<string, number | bigint | undefined>)[field];
      if (v !== undefined) f.add(name, name.endsWith('_total') ? 'counter' : 'gauge', help, labels, num(v) * scale);
    }
  }
  if (d.loadavg) {
    f.add('node_load1', 'gauge', '1m load average.', [], d.loadavg.load_1min);
    f.add('node_load15', 'gauge', '15m load average.', [], d.loadavg.load_15min);
    f.add('node_load5', 'gauge', '5m load average.', [], d.loadavg.load_5min);
    f.add('hostseries_loadavg_running_processes', 'gauge', 'Runnable scheduling entities (/proc/loadavg).', [], d.loadavg.running_processes);
    f.add('hostseries_loadavg_total_processes', 'gauge', 'Scheduling entities that exist (/proc/loadavg).', [], d.loadavg.total_processes);
  }
  for (const [key, v] of Object.entries(d.meminfo ?? {})) {
    const name = MEMINFO_UNITLESS.test(key) ? `node_memory_${memName(key)}` : `node_memory_${memName(key)}_bytes`;
    const value = MEMINFO_UNITLESS.test(key) ? num(v) : num(v) * 1024;
    f.add(name, 'gauge', `Memory information field ${name.slice('node_memory_'.length)}.`, [], value);
  }
  for (const nic of d.netdev ?? []) {
    if (netExclude?.test(nic.interface_name)) continue;
    const labels = [['device', nic.interface_name]] as const;
    for (const [field, stat] of NET) {
      const v = (nic as unknown as Record<string, number | bigint>)[field];
      f.add(`node_network_${stat}_total`, 'counter', `Network device statistic ${stat}.`, labels, num(v));
    }
  }
  for (const [key, v] of Object.entries(d.vmstat ?? {})) {
    if (vmstatFields.test(key)) f.add(`node_vmstat_${key}`, 'untyped', `/proc/vmstat information field ${key}.`, [], num(v));
  }
  processFamilies(f, d);
  for (const [name, v] of Object.entries(d.app ?? {})) {
    f.add('hostseries_app_value', 'untyped', "An application's counter or gauge (collector.count/gauge, HOSTSERIES_COUNTER_FD).", [['name', name]], num(v));
  }
  if (o.sampleTime) {
    const ms = d.timestamp_ns != null ? Math.floor(d.timestamp_ns / 1e6) : Date.parse(d.timestamp);
    f.add(SAMPLE_TIME, 'gauge', "When the sample was taken, in unixtime (to the ms: the sample's own time stamp).", [], ms / 1000);
  }
  return f.list;
}

/** Watched processes, labelled by their stable key (`fio`, `fio#2`, `self`) and name; the PID is a value (it changes on restart). */
function processFamilies(f: Families, d: SampleDict): void {
  for (const p of d.processes ?? []) {
    const l = [['process', p.key], ['name', p.name]] as const;
    const add = (name: string, type: FamilyType, help: string, v: number | bigint | undefined, extra: readonly (readonly [string, string])[] = []) => {
      if (v !== undefined) f.add(`hostseries_process_${name}`, type, help, [...l, ...extra], num(v));
    };
    add('pid', 'gauge', 'The PID of the watched process.', p.pid);
    add('ppid', 'gauge', "The PID of the watched process's parent.", p.ppid);
    add('start_time_seconds', 'gauge', 'When the process started, in unixtime.', p.start_time_ns / 1e9);
    add('cpu_seconds_total', 'counter', 'CPU time of the process, by mode.', num(p.cpu_user_ticks) / USER_HZ, [['mode', 'user']]);
    add('cpu_seconds_total', 'counter', 'CPU time of the process, by mode.', num(p.cpu_system_ticks) / USER_HZ, [['mode', 'system']]);
    add('cpu_percent', 'gauge', 'CPU use over the last interval (100 = one CPU).', p.cpu_pct);
    add('threads', 'gauge', 'Threads of the process.', p.num_threads);
    add('resident_memory_bytes', 'gauge', 'Resident set size.', num(p.rss_kb) * 1024);
    add('resident_memory_peak_bytes', 'gauge', 'Peak resident set size (VmHWM).', num(p.rss_peak_kb) * 1024);
    add('minor_faults_total', 'counter', 'Minor page faults.', p.minor_faults);
    add('major_faults_total', 'counter', 'Major page faults.', p.major_faults);
    add('context_switches_total', 'counter', 'Context switches, by kind.', p.voluntary_ctxt_switches, [['kind', 'voluntary']]);
    add('context_switches_total', 'counter', 'Context switches, by kind.', p.involuntary_ctxt_switches, [['kind', 'involuntary']]);
    add('read_bytes_total', 'counter', 'Bytes the process read from storage (/proc/<pid>/io read_bytes).', p.read_bytes);
    add('written_bytes_total', 'counter', 'Bytes the process wrote to storage (write_bytes).', p.write_bytes);
    add('read_chars_total', 'counter', 'Bytes the process read by any read call (rchar).', p.read_chars);
    add('written_chars_total', 'counter', 'Bytes the process wrote by any write call (wchar).', p.write_chars);
    add('uptime_seconds', 'gauge', 'Time since the process started.', p.uptime_s);
    add('restarts_total', 'counter', 'Times a process under this key ended and another took its place.', p.restarts);
  }
}
