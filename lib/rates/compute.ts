/**
 * Derived rates between two samples, with the formulas sysstat uses (iostat -x, sar -n DEV,
 * sar -u, sar -B), over the real interval between the samples. A counter that went backwards
 * gives no rate (the field is absent), never a negative one; a zero divisor gives 0.
 */
import type { CpuTimes, DiskstatsEntry, NetdevEntry, ProcessEntry } from '../types/sample.js';
import { InvalidOptionError } from '../errors.js';
import { delta, ratio } from './delta.js';
import type { CpuRates, DiskRates, IntervalOptions, NetRates, ProcRates, RateInput, Rates } from '../types/rates.js';

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

function diskRates(a: DiskstatsEntry, b: DiskstatsEntry, dt: number): DiskRates {
  const r = delta(a.reads_completed, b.reads_completed);
  const w = delta(a.writes_completed, b.writes_completed);
  const rsec = delta(a.sectors_read, b.sectors_read);
  const wsec = delta(a.sectors_written, b.sectors_written);
  const rticks = delta(a.time_reading_ms, b.time_reading_ms);
  const wticks = delta(a.time_writing_ms, b.time_writing_ms);
  const busy = delta(a.time_doing_ios_ms, b.time_doing_ios_ms);
  const weighted = delta(a.weighted_time_doing_ios_ms, b.weighted_time_doing_ios_ms);
  const out: DiskRates = {};
  put(out, 'r_s', per(r, dt));
  put(out, 'w_s', per(w, dt));
  put(out, 'iops', r !== undefined && w !== undefined ? ratio(r + w, dt) : undefined);
  put(out, 'rkB_s', per(rsec === undefined ? undefined : rsec / 2, dt));
  put(out, 'wkB_s', per(wsec === undefined ? undefined : wsec / 2, dt));
  put(out, 'rMB_s', per(rsec === undefined ? undefined : rsec / 2048, dt));
  put(out, 'wMB_s', per(wsec === undefined ? undefined : wsec / 2048, dt));
  put(out, 'rrqm_s', per(delta(a.reads_merged, b.reads_merged), dt));
  put(out, 'wrqm_s', per(delta(a.writes_merged, b.writes_merged), dt));
  put(out, 'r_await', r !== undefined && rticks !== undefined ? ratio(rticks, r) : undefined);
  put(out, 'w_await', w !== undefined && wticks !== undefined ? ratio(wticks, w) : undefined);
  put(out, 'aqu_sz', per(weighted === undefined ? undefined : weighted / 1000, dt));
  put(out, 'util', busy === undefined ? undefined : Math.min(100, ratio(busy / 10, dt)));
  return out;
}

function netRates(a: NetdevEntry, b: NetdevEntry, dt: number): NetRates {
  const out: NetRates = {};
  put(out, 'rx_bytes_s', per(delta(a.rx_bytes, b.rx_bytes), dt));
  put(out, 'tx_bytes_s', per(delta(a.tx_bytes, b.tx_bytes), dt));
  put(out, 'rx_packets_s', per(delta(a.rx_packets, b.rx_packets), dt));
  put(out, 'tx_packets_s', per(delta(a.tx_packets, b.tx_packets), dt));
  put(out, 'rx_errors_s', per(delta(a.rx_errors, b.rx_errors), dt));
  put(out, 'tx_errors_s', per(delta(a.tx_errors, b.tx_errors), dt));
  put(out, 'rx_dropped_s', per(delta(a.rx_dropped, b.rx_dropped), dt));
  put(out, 'tx_dropped_s', per(delta(a.tx_dropped, b.tx_dropped), dt));
  return out;
}

function cpuRates(a: CpuTimes, b: CpuTimes): CpuRates {
  const d = (k: keyof CpuTimes): number | undefined => delta(a[k], b[k]);
  const [user, nice, system, idle, iowait, irq, softirq, steal, guest, guestNice] = [
    d('user'), d('nice'), d('system'), d('idle'), d('iowait'), d('irq'), d('softirq'), d('steal'), d('guest'), d('guest_nice'),
  ];
  const parts = [user, nice, system, idle, iowait, irq, softirq, steal];
  if (parts.some((p) => p === undefined)) return {};
  // Guest time is already counted in user (and guest_nice in nice): sar leaves it out of the total.
  const total = (parts as number[]).reduce((s, v) => s + v, 0);
  const pct = (v: number): number => ratio(v * 100, total);
  const g = guest ?? 0;
  const gn = guestNice ?? 0;
  return {
    usr: pct(Math.max(0, user! - g)),
    nice: pct(Math.max(0, nice! - gn)),
    sys: pct(system!),
    iowait: pct(iowait!),
    irq: pct(irq!),
    soft: pct(softirq!),
    steal: pct(steal!),
    guest: pct(g + gn),
    idle: pct(idle!),
    busy: total > 0 ? 100 - pct(idle!) - pct(iowait!) : 0,
  };
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
 * Rates from `prev` to `cur`. Devices and interfaces present in both are compared; across a
 * reboot (btime changed) there are no rates at all. `options.nominalSeconds`: see
 * `intervalSeconds`. Throws an InvalidOptionError when an argument is not a sample or when `cur`
 * was taken before `prev` (swapped arguments, or samples out of order).
 */
export function computeRates(prev: RateInput, cur: RateInput, options: IntervalOptions = {}): Rates {
  checkInput(prev, 'prev');
  checkInput(cur, 'cur');
  const dt = intervalSeconds(prev, cur, options);
  if (dt < 0) {
    throw new InvalidOptionError(`computeRates: cur (${cur.timestamp}) was taken ${-dt} s before prev (${prev.timestamp}); pass the earlier sample first`);
  }
  const out: Rates = { intervalSeconds: dt, disk: {}, net: {}, cpu: {}, mem: {}, vm: {}, proc: {}, app: {} };
  const mt = cur.meminfo?.MemTotal;
  const ma = cur.meminfo?.MemAvailable;
  if (mt !== undefined && ma !== undefined) out.mem.used_pct = ratio((Number(mt) - Number(ma)) * 100, Number(mt));
  const rebooted = prev.stat && cur.stat && prev.stat.btime !== cur.stat.btime;
  if (!(dt > 0) || rebooted) return out;

  const disks = byName(prev.diskstats, (d) => d.device_name);
  for (const d of cur.diskstats ?? []) {
    const p = disks.get(d.device_name);
    if (p) out.disk[d.device_name] = diskRates(p, d, dt);
  }
  const nets = byName(prev.netdev, (n) => n.interface_name);
  for (const n of cur.netdev ?? []) {
    const p = nets.get(n.interface_name);
    if (p) out.net[n.interface_name] = netRates(p, n, dt);
  }
  if (prev.stat && cur.stat) {
    out.cpu.all = cpuRates(prev.stat.cpu, cur.stat.cpu);
    for (const [name, t] of Object.entries(cur.stat.cpus)) {
      const p = prev.stat.cpus[name];
      if (p) out.cpu[name] = cpuRates(p, t);
    }
  }
  const vm = (k: string): number | undefined => per(delta(prev.vmstat?.[k], cur.vmstat?.[k]), dt);
  put(out.vm, 'pgpgin_s', vm('pgpgin'));
  put(out.vm, 'pgpgout_s', vm('pgpgout'));
  put(out.vm, 'fault_s', vm('pgfault'));
  put(out.vm, 'majflt_s', vm('pgmajfault'));
  put(out.vm, 'pswpin_s', vm('pswpin'));
  put(out.vm, 'pswpout_s', vm('pswpout'));
  const procs = byName(prev.processes, (p) => p.key);
  for (const p of cur.processes ?? []) {
    const q = procs.get(p.key);
    // A key whose process changed (a restart) has no rates across the change.
    if (q && q.pid === p.pid && q.start_time_ns === p.start_time_ns) out.proc[p.key] = procRates(q, p, dt);
  }
  if (prev.app && cur.app) {
    for (const [name, v] of Object.entries(cur.app)) put(out.app, `${name}_s`, per(delta(prev.app[name], v), dt));
  }
  return out;
}
