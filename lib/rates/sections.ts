/**
 * The rates of the per-device, per-interface and per-CPU sections (computeRates runs them for every
 * pair): each formula of lib/rates/formulas.ts called by name and stored under its key, in the
 * formulas' order (report-model.spec holds the keys to it). Not a loop over the formulas: that
 * called all of them from one site and stored by computed key (measured: 8% of a report build,
 * and a generic `put` helper 6%).
 */
import type { CpuRates, DiskRates, NetRates } from '../types/rates.js';
import type { CpuTimes, DiskstatsEntry, NetdevEntry } from '../types/sample.js';
import { cpuDeltas, CPU_FORMULAS, diskDeltas, DISK_FORMULAS, netDeltas, NET_FORMULAS } from './formulas.js';

export function diskRates(a: DiskstatsEntry, b: DiskstatsEntry, dt: number): DiskRates {
  const d = diskDeltas(a, b);
  const out: DiskRates = {};
  let v: number | undefined;
  if ((v = DISK_FORMULAS.r_s.of(d, dt)) !== undefined) out.r_s = v;
  if ((v = DISK_FORMULAS.w_s.of(d, dt)) !== undefined) out.w_s = v;
  if ((v = DISK_FORMULAS.iops.of(d, dt)) !== undefined) out.iops = v;
  if ((v = DISK_FORMULAS.rkB_s.of(d, dt)) !== undefined) out.rkB_s = v;
  if ((v = DISK_FORMULAS.wkB_s.of(d, dt)) !== undefined) out.wkB_s = v;
  if ((v = DISK_FORMULAS.rMB_s.of(d, dt)) !== undefined) out.rMB_s = v;
  if ((v = DISK_FORMULAS.wMB_s.of(d, dt)) !== undefined) out.wMB_s = v;
  if ((v = DISK_FORMULAS.rrqm_s.of(d, dt)) !== undefined) out.rrqm_s = v;
  if ((v = DISK_FORMULAS.wrqm_s.of(d, dt)) !== undefined) out.wrqm_s = v;
  if ((v = DISK_FORMULAS.r_await.of(d, dt)) !== undefined) out.r_await = v;
  if ((v = DISK_FORMULAS.w_await.of(d, dt)) !== undefined) out.w_await = v;
  if ((v = DISK_FORMULAS.aqu_sz.of(d, dt)) !== undefined) out.aqu_sz = v;
  if ((v = DISK_FORMULAS.util.of(d, dt)) !== undefined) out.util = v;
  return out;
}

export function netRates(a: NetdevEntry, b: NetdevEntry, dt: number): NetRates {
  const d = netDeltas(a, b);
  const out: NetRates = {};
  let v: number | undefined;
  if ((v = NET_FORMULAS.rx_bytes_s.of(d, dt)) !== undefined) out.rx_bytes_s = v;
  if ((v = NET_FORMULAS.tx_bytes_s.of(d, dt)) !== undefined) out.tx_bytes_s = v;
  if ((v = NET_FORMULAS.rx_packets_s.of(d, dt)) !== undefined) out.rx_packets_s = v;
  if ((v = NET_FORMULAS.tx_packets_s.of(d, dt)) !== undefined) out.tx_packets_s = v;
  if ((v = NET_FORMULAS.rx_errors_s.of(d, dt)) !== undefined) out.rx_errors_s = v;
  if ((v = NET_FORMULAS.tx_errors_s.of(d, dt)) !== undefined) out.tx_errors_s = v;
  if ((v = NET_FORMULAS.rx_dropped_s.of(d, dt)) !== undefined) out.rx_dropped_s = v;
  if ((v = NET_FORMULAS.tx_dropped_s.of(d, dt)) !== undefined) out.tx_dropped_s = v;
  return out;
}

export function cpuRates(a: CpuTimes, b: CpuTimes, dt: number): CpuRates {
  const d = cpuDeltas(a, b);
  const out: CpuRates = {};
  let v: number | undefined;
  if ((v = CPU_FORMULAS.usr.of(d, dt)) !== undefined) out.usr = v;
  if ((v = CPU_FORMULAS.nice.of(d, dt)) !== undefined) out.nice = v;
  if ((v = CPU_FORMULAS.sys.of(d, dt)) !== undefined) out.sys = v;
  if ((v = CPU_FORMULAS.iowait.of(d, dt)) !== undefined) out.iowait = v;
  if ((v = CPU_FORMULAS.irq.of(d, dt)) !== undefined) out.irq = v;
  if ((v = CPU_FORMULAS.soft.of(d, dt)) !== undefined) out.soft = v;
  if ((v = CPU_FORMULAS.steal.of(d, dt)) !== undefined) out.steal = v;
  if ((v = CPU_FORMULAS.guest.of(d, dt)) !== undefined) out.guest = v;
  if ((v = CPU_FORMULAS.idle.of(d, dt)) !== undefined) out.idle = v;
  if ((v = CPU_FORMULAS.busy.of(d, dt)) !== undefined) out.busy = v;
  return out;
}
