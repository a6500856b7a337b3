/**
 * The columns of the interval views (`show`, `watch`, `compare`, and the HTML report later): per
 * section, what sar / iostat -x print, read from one `computeRates` result. The values are the
 * rates unrounded; only the text renderers round them.
 */
import type { Rates } from '../types/rates.js';

export const SECTIONS = ['cpu', 'disk', 'net', 'mem', 'proc'] as const;
export type Section = (typeof SECTIONS)[number];

export interface ColumnDef {
  /** Stable name for JSON and scripts (the rate's own name where there is one). */
  key: string;
  /** Heading in the table, units included (`rMB/s`, `r_await ms`). */
  head: string;
  digits: number;
  get(r: Rates, entity: string): number | undefined;
}

export interface SectionDef {
  title: string;
  /** Heading of the entity column (device, interface, process); none for cpu and mem. */
  entityHead?: string;
  columns: readonly ColumnDef[];
}

const MiB = 1024 * 1024;
const div = (v: number | undefined, d: number): number | undefined => (v === undefined ? undefined : v / d);

export const SECTION_DEFS: Record<Section, SectionDef> = {
  cpu: {
    title: 'CPU (% of time, all CPUs)',
    columns: [
      { key: 'usr', head: '%usr', digits: 2, get: (r) => r.cpu.all?.usr },
      { key: 'sys', head: '%sys', digits: 2, get: (r) => r.cpu.all?.sys },
      { key: 'iowait', head: '%iowait', digits: 2, get: (r) => r.cpu.all?.iowait },
      { key: 'steal', head: '%steal', digits: 2, get: (r) => r.cpu.all?.steal },
      { key: 'idle', head: '%idle', digits: 2, get: (r) => r.cpu.all?.idle },
    ],
  },
  disk: {
    title: 'disks (iostat -x; MB = MiB, await in ms)',
    entityHead: 'device',
    columns: [
      { key: 'r_s', head: 'r/s', digits: 2, get: (r, d) => r.disk[d]?.r_s },
      { key: 'w_s', head: 'w/s', digits: 2, get: (r, d) => r.disk[d]?.w_s },
      { key: 'rMB_s', head: 'rMB/s', digits: 2, get: (r, d) => r.disk[d]?.rMB_s },
      { key: 'wMB_s', head: 'wMB/s', digits: 2, get: (r, d) => r.disk[d]?.wMB_s },
      { key: 'r_await', head: 'r_await', digits: 2, get: (r, d) => r.disk[d]?.r_await },
      { key: 'w_await', head: 'w_await', digits: 2, get: (r, d) => r.disk[d]?.w_await },
      { key: 'aqu_sz', head: 'aqu-sz', digits: 2, get: (r, d) => r.disk[d]?.aqu_sz },
      { key: 'util', head: '%util', digits: 2, get: (r, d) => r.disk[d]?.util },
    ],
  },
  net: {
    title: 'network (MB = MiB)',
    entityHead: 'iface',
    columns: [
      { key: 'rx_MB_s', head: 'rxMB/s', digits: 3, get: (r, i) => div(r.net[i]?.rx_bytes_s, MiB) },
      { key: 'tx_MB_s', head: 'txMB/s', digits: 3, get: (r, i) => div(r.net[i]?.tx_bytes_s, MiB) },
      { key: 'rx_packets_s', head: 'rxpck/s', digits: 2, get: (r, i) => r.net[i]?.rx_packets_s },
      { key: 'tx_packets_s', head: 'txpck/s', digits: 2, get: (r, i) => r.net[i]?.tx_packets_s },
    ],
  },
  mem: {
    title: 'memory and paging',
    columns: [
      { key: 'used_pct', head: '%used', digits: 2, get: (r) => r.mem.used_pct },
      { key: 'pgpgin_s', head: 'pgpgin/s', digits: 2, get: (r) => r.vm.pgpgin_s },
      { key: 'pgpgout_s', head: 'pgpgout/s', digits: 2, get: (r) => r.vm.pgpgout_s },
      { key: 'fault_s', head: 'fault/s', digits: 2, get: (r) => r.vm.fault_s },
      { key: 'majflt_s', head: 'majflt/s', digits: 2, get: (r) => r.vm.majflt_s },
    ],
  },
  proc: {
    title: 'watched processes (100% = one CPU; MB = MiB)',
    entityHead: 'process',
    columns: [
      { key: 'cpu_pct', head: '%cpu', digits: 2, get: (r, p) => r.proc[p]?.cpu_pct },
      { key: 'rss_MB', head: 'rssMB', digits: 1, get: (r, p) => r.proc[p]?.rss_MB },
      { key: 'rMB_s', head: 'rdMB/s', digits: 2, get: (r, p) => r.proc[p]?.rMB_s },
      { key: 'wMB_s', head: 'wrMB/s', digits: 2, get: (r, p) => r.proc[p]?.wMB_s },
    ],
  },
};
