/**
 * The way back: series a time-series database holds under node_exporter's names (and ours) as
 * samples again, one per time stamp, for `serve --prometheus` (its /export gives a whole
 * TimeSeriesData file of a run stored in Prometheus or VictoriaMetrics). The inverse of
 * families.ts: every name, label and scale there is undone here, and a test round-trips real
 * samples through Prometheus and VictoriaMetrics.
 *
 * What a database cannot give back: time finer than a millisecond (`timestamp_ns` comes back as
 * whole ms), the file's order of devices, interfaces and processes (they come back in name
 * order), a process's command line and state (never sent), the sample's errors, and whatever
 * the sender left out (node_exporter's defaults leave out partitions, `lo` and most of vmstat:
 * FULL_FIDELITY sends them).
 */
import { isoSeconds } from '../native/decode.js';
import { CPU_FIELDS, DISKSTATS_FIELDS, NETDEV_FIELDS, type CpuTimes, type DiskstatsEntry, type NetdevEntry, type ProcessEntry, type SampleDict, type StatInfo } from '../types/sample.js';
import { DISK, MEMINFO_UNITLESS, NET, USER_HZ } from './families.js';

/** One series read back: its name, labels and raw points (ms since the epoch, value). */
export interface StoredSeries {
  name: string;
  labels: Record<string, string>;
  points: readonly (readonly [number, number])[];
}

const DISK_BY_NAME = new Map(DISK.map(([field, name, , scale]) => [name, { field, scale }]));
const NET_BY_NAME = new Map(NET.map(([field, stat]) => [`node_network_${stat}_total`, field]));
/** The /proc/meminfo keys with parentheses (meminfo_proc_show), which families.ts renames. */
const MEMINFO_PARENS = new Map(['Active(anon)', 'Inactive(anon)', 'Active(file)', 'Inactive(file)'].map((k) => [k.replace(/\((.*)\)/, '_$1'), k]));

const ticks = (seconds: number): number => Math.round(seconds * USER_HZ);
const ZERO_CPU = Object.fromEntries(CPU_FIELDS.map((f) => [f, 0])) as unknown as CpuTimes;
const emptyCpu = (): CpuTimes => ({ ...ZERO_CPU });

/** What is being rebuilt for one time stamp. */
class Builder {
  readonly disks = new Map<string, Record<string, number>>();
  readonly nics = new Map<string, Record<string, number>>();
  readonly cpus = new Map<string, CpuTimes>();
  cpuAll: CpuTimes | undefined;
  readonly stat: Record<string, number> = {};
  readonly load: Record<string, number> = {};
  readonly meminfo: Record<string, number> = {};
  readonly vmstat: Record<string, number> = {};
  readonly procs = new Map<string, Record<string, number | string>>();
  readonly app: Record<string, number> = {};

  entry(m: Map<string, Record<string, number>>, key: string): Record<string, number> {
    let e = m.get(key);
    if (!e) m.set(key, (e = {}));
    return e;
  }

  sample(ms: number, hostname: string): SampleDict {
    const d: SampleDict = { timestamp: isoSeconds(ms), timestamp_ns: nsOfMs(ms), hostname };
    if (this.disks.size) {
      d.diskstats = byName(this.disks).map(([device_name, f]) => ({ device_name, ...ordered(DISKSTATS_FIELDS, f) }) as unknown as DiskstatsEntry);
    }
    if (Object.keys(this.vmstat).length) d.vmstat = this.vmstat;
    if (Object.keys(this.meminfo).length) d.meminfo = this.meminfo;
    if (this.load.load_1min !== undefined) {
      d.loadavg = { load_1min: this.load.load_1min, load_5min: this.load.load_5min, load_15min: this.load.load_15min,
        running_processes: this.load.running_processes, total_processes: this.load.total_processes };
    }
    if (this.nics.size) d.netdev = byName(this.nics).map(([interface_name, f]) => ({ interface_name, ...ordered(NETDEV_FIELDS, f) }) as unknown as NetdevEntry);
    if (this.cpus.size || this.cpuAll) {
      const cpus = [...this.cpus].sort((a, b) => Number(a[0]) - Number(b[0]));
      const stat: StatInfo = {
        cpu: this.cpuAll ?? sumCpus(cpus.map(([, t]) => t)),
        cpus: Object.fromEntries(cpus.map(([n, t]) => [`cpu${n}`, t])),
        intr: this.stat.intr, ctxt: this.stat.ctxt, btime: this.stat.btime, processes: this.stat.processes,
        procs_running: this.stat.procs_running, procs_blocked: this.stat.procs_blocked,
      };
      d.stat = stat;
    }
    if (this.procs.size) {
      d.processes = byName(this.procs).map(([key, p]) => ({
        key, pid: p.pid, ppid: p.ppid, name: p.name, cmdline: '', start_time_ns: p.start_time_ns, state: '', uptime_s: p.uptime_s,
        cpu_pct: p.cpu_pct, cpu_user_ticks: p.cpu_user_ticks, cpu_system_ticks: p.cpu_system_ticks, num_threads: p.num_threads,
        rss_kb: p.rss_kb, rss_peak_kb: p.rss_peak_kb, minor_faults: p.minor_faults, major_faults: p.major_faults,
        voluntary_ctxt_switches: p.voluntary_ctxt_switches, involuntary_ctxt_switches: p.involuntary_ctxt_switches,
        ...(p.read_bytes !== undefined ? { read_bytes: p.read_bytes, write_bytes: p.write_bytes, read_chars: p.read_chars, write_chars: p.write_chars } : {}),
        restarts: p.restarts,
      }) as ProcessEntry);
    }
    if (Object.keys(this.app).length) d.app = this.app;
    return d;
  }
}

const natural = new Intl.Collator('en', { numeric: true });

const bits = new DataView(new ArrayBuffer(8));

/**
 * A time in ms as `timestamp_ns`: ms × 1e6 as a double, or the next double up where that falls
 * short of it (a double holds ns of today's times to 256 ns: ms × 1e6 rounds down for about a
 * third of them), so that the sample's ms (`floor(timestamp_ns / 1e6)`, as remote write takes
 * it) is the one the database keeps and a sample read back and written again lands on itself.
 */
export function nsOfMs(ms: number): number {
  const ns = ms * 1e6;
  if (!Number.isSafeInteger(ms) || BigInt(ns) >= BigInt(ms) * 1_000_000n) return ns;
  bits.setFloat64(0, ns);
  bits.setBigUint64(0, bits.getBigUint64(0) + 1n);
  return bits.getFloat64(0);
}

/** Entries in name order (`sda`, `sdb`, `nvme0n1`, `nvme1n1`...): a database keeps no other. */
const byName = <T>(m: Map<string, T>): [string, T][] => [...m].sort((a, b) => natural.compare(a[0], b[0]));

/** Fields in the file's order (the order families.ts reads them in), those present. */
function ordered(fields: readonly string[], f: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of fields) if (f[k] !== undefined) out[k] = f[k];
  return out;
}

/** Without the aggregate line (node_exporter's defaults), its sum over the CPUs (the kernel's own sum, to a tick or so). */
function sumCpus(list: CpuTimes[]): CpuTimes {
  const t = emptyCpu() as unknown as Record<string, number>;
  for (const c of list) for (const f of CPU_FIELDS) t[f] += Number(c[f]);
  return t as unknown as CpuTimes;
}

/** /proc/stat's scalars: node_exporter's name → the sample's field. */
export const STAT_NAMES = new Map([
  ['node_boot_time_seconds', 'btime'], ['node_context_switches_total', 'ctxt'], ['node_forks_total', 'processes'],
  ['node_intr_total', 'intr'], ['node_procs_blocked', 'procs_blocked'], ['node_procs_running', 'procs_running'],
]);
/** /proc/loadavg's: name → the sample's field. */
export const LOAD_NAMES = new Map([
  ['node_load1', 'load_1min'], ['node_load5', 'load_5min'], ['node_load15', 'load_15min'],
  ['hostseries_loadavg_running_processes', 'running_processes'], ['hostseries_loadavg_total_processes', 'total_processes'],
]);

type ProcPut = (p: Record<string, number | string>, v: number) => void;
const set = (field: string, scale = 1): ProcPut => (p, v) => void (p[field] = scale === 1 ? v : Math.round(v / scale));
const PROCESS = new Map<string, ProcPut>([
  ['pid', set('pid')], ['ppid', set('ppid')], ['start_time_seconds', (p, v) => void (p.start_time_ns = v * 1e9)],
  ['cpu_seconds_total:user', (p, v) => void (p.cpu_user_ticks = ticks(v))], ['cpu_seconds_total:system', (p, v) => void (p.cpu_system_ticks = ticks(v))],
  ['cpu_percent', set('cpu_pct')], ['threads', set('num_threads')], ['resident_memory_bytes', set('rss_kb', 1024)],
  ['resident_memory_peak_bytes', set('rss_peak_kb', 1024)], ['minor_faults_total', set('minor_faults')], ['major_faults_total', set('major_faults')],
  ['context_switches_total:voluntary', set('voluntary_ctxt_switches')], ['context_switches_total:involuntary', set('involuntary_ctxt_switches')],
  ['read_bytes_total', set('read_bytes')], ['written_bytes_total', set('write_bytes')], ['read_chars_total', set('read_chars')],
  ['written_chars_total', set('write_chars')], ['uptime_seconds', set('uptime_s')], ['restarts_total', set('restarts')],
]);

/** The metric names each sample section is written under (families.ts), as regular expressions. */
const SECTION_NAMES: Record<string, string> = {
  stat: 'node_boot_time_seconds|node_context_switches_total|node_cpu_seconds_total|node_cpu_guest_seconds_total|hostseries_cpu_all_seconds_total|node_forks_total|node_intr_total|node_procs_blocked|node_procs_running',
  diskstats: 'node_disk_.+',
  loadavg: 'node_load(1|5|15)|hostseries_loadavg_.+',
  meminfo: 'node_memory_.+',
  netdev: 'node_network_.+',
  vmstat: 'node_vmstat_.+',
  processes: 'hostseries_process_.+',
  app: 'hostseries_app_value',
};

/**
 * The names to read for samples of only these sections (a regular expression), `always` among
 * them (a series every sample has, so that each comes back even without the sections); undefined
 * for every name when a section is not one written.
 */
export function namesOfSections(sections: ReadonlySet<string> | undefined, always: string): string | undefined {
  if (!sections) return undefined;
  const parts = [always];
  for (const s of sections) {
    const names = SECTION_NAMES[s];
    if (names === undefined) return undefined;
    parts.push(names);
  }
  return parts.join('|');
}

type Put = (b: Builder, v: number) => void;

const isCpuField = (f: string | undefined): f is keyof CpuTimes => (CPU_FIELDS as readonly (string | undefined)[]).includes(f);

/**
 * What a point of series `s` sets in the sample being rebuilt at its time: worked out once per
 * series, not for each point (measured: the name's lookups per point were a fifth of rebuilding
 * a host's 15 min of every series).
 */
function putOf(s: StoredSeries): Put {
  const { name, labels: l } = s;
  const disk = DISK_BY_NAME.get(name);
  if (disk && l.device !== undefined) {
    const { device } = l;
    const { field, scale } = disk;
    return (b, v) => void (b.entry(b.disks, device)[field] = Math.round(v / scale));
  }
  const net = NET_BY_NAME.get(name);
  if (net && l.device !== undefined) {
    const { device } = l;
    return (b, v) => void (b.entry(b.nics, device)[net] = v);
  }
  if (name === 'node_cpu_seconds_total' || name === 'node_cpu_guest_seconds_total') {
    const field = name === 'node_cpu_seconds_total' ? l.mode : l.mode === 'nice' ? 'guest_nice' : 'guest';
    const known = isCpuField(field);
    const { cpu } = l;
    return (b, v) => {
      let t = b.cpus.get(cpu);
      if (!t) b.cpus.set(cpu, (t = emptyCpu()));
      if (known) (t as unknown as Record<string, number>)[field] = ticks(v);
    };
  }
  if (name === 'hostseries_cpu_all_seconds_total') {
    const { mode } = l;
    const known = isCpuField(mode);
    return (b, v) => {
      b.cpuAll ??= emptyCpu();
      if (known) (b.cpuAll as unknown as Record<string, number>)[mode] = ticks(v);
    };
  }
  const statField = STAT_NAMES.get(name);
  if (statField) return (b, v) => void (b.stat[statField] = v);
  const loadField = LOAD_NAMES.get(name);
  if (loadField) return (b, v) => void (b.load[loadField] = v);
  if (name.startsWith('node_memory_')) {
    const bare = name.slice('node_memory_'.length);
    const key = bare.endsWith('_bytes') ? bare.slice(0, -'_bytes'.length) : bare;
    const original = MEMINFO_PARENS.get(key) ?? key;
    const unitless = MEMINFO_UNITLESS.test(original);
    return (b, v) => void (b.meminfo[original] = unitless ? v : Math.round(v / 1024));
  }
  if (name.startsWith('node_vmstat_')) {
    const key = name.slice('node_vmstat_'.length);
    return (b, v) => void (b.vmstat[key] = v);
  }
  if (name.startsWith('hostseries_process_') && l.process !== undefined) {
    const { process } = l;
    const pname = l.name ?? '';
    const field = name.slice('hostseries_process_'.length);
    const put = PROCESS.get(field === 'cpu_seconds_total' ? `cpu_seconds_total:${l.mode}` : field === 'context_switches_total' ? `context_switches_total:${l.kind}` : field);
    return (b, v) => {
      const p = b.procs.get(process) ?? { name: pname };
      b.procs.set(process, p);
      if (put) put(p, v);
    };
  }
  if (name === 'hostseries_app_value' && l.name !== undefined) {
    const key = l.name;
    return (b, v) => void (b.app[key] = v);
  }
  return () => undefined;
}

/** The samples of one host the series hold, in time order (series of other names are ignored). */
export function samplesFromSeries(series: readonly StoredSeries[], hostname: string): SampleDict[] {
  const at = new Map<number, Builder>();
  for (const s of series) {
    const put = putOf(s);
    for (const [ms, v] of s.points) {
      let b = at.get(ms);
      if (!b) at.set(ms, (b = new Builder()));
      put(b, v);
    }
  }
  return [...at].sort((a, b) => a[0] - b[0]).map(([ms, b]) => b.sample(ms, hostname));
}

