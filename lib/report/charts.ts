/** The charts of a host's view in the report, for the detail series it has (lib/report/host-series). */
import type { ChartMeta, SeriesMeta } from './report-data.js';

/** The charts of the host view, for the series this host has. */
export function chartsFor(detail: Map<string, number[]>, disks: string[]): ChartMeta[] {
  const out: ChartMeta[] = [];
  const s = (key: string, label: string, unit: string): SeriesMeta => ({ key, label, unit });
  const add = (c: ChartMeta): void => {
    const series = c.series.filter((x) => detail.has(x.key));
    if (series.length > 0) out.push({ ...c, series });
  };
  add({ id: 'cpu', group: 'CPU, memory, load', title: 'CPU (all CPUs, stacked)', unit: '%', stacked: true, yMax: 100, series: [
    s('cpu.usr', 'usr', '%'), s('cpu.sys', 'sys', '%'), s('cpu.iowait', 'iowait', '%'), s('cpu.steal', 'steal', '%'), s('cpu.other', 'nice+irq+soft+guest', '%'),
  ] });
  add({ id: 'mem', group: 'CPU, memory, load', title: 'memory', unit: 'GiB', series: [
    s('mem.used', 'used (total − available)', 'GiB'), s('mem.cache', 'page cache + buffers', 'GiB'), s('mem.total', 'total', 'GiB'),
  ] });
  add({ id: 'load', group: 'CPU, memory, load', title: 'load average', unit: 'tasks', series: [
    s('load.1', '1 min', 'tasks'), s('load.5', '5 min', 'tasks'), s('load.15', '15 min', 'tasks'),
  ] });
  for (const d of disks) {
    const g = `disk ${d}`;
    const k = (x: string): string => `disk.${d}.${x}`;
    add({ id: `disk-${d}-iops`, group: g, title: `${d} IOPS`, unit: 'IOPS', series: [s(k('r_s'), 'reads/s', 'IOPS'), s(k('w_s'), 'writes/s', 'IOPS')] });
    add({ id: `disk-${d}-mb`, group: g, title: `${d} throughput`, unit: 'MB/s', series: [s(k('rMB_s'), 'read', 'MB/s'), s(k('wMB_s'), 'write', 'MB/s')] });
    add({ id: `disk-${d}-await`, group: g, title: `${d} await`, unit: 'ms', series: [s(k('r_await'), 'r_await', 'ms'), s(k('w_await'), 'w_await', 'ms')] });
    add({ id: `disk-${d}-util`, group: g, title: `${d} %util`, unit: '%', yMax: 100, series: [s(k('util'), '%util', '%')] });
  }
  const prefixes = (p: string): string[] => [...new Set([...detail.keys()].filter((k) => k.startsWith(p)).map((k) => k.slice(p.length, k.lastIndexOf('.'))))];
  for (const n of prefixes('net.')) {
    const g = `interface ${n}`;
    const k = (x: string): string => `net.${n}.${x}`;
    add({ id: `net-${n}-mb`, group: g, title: `${n} throughput`, unit: 'MB/s', series: [s(k('rx_MB_s'), 'rx', 'MB/s'), s(k('tx_MB_s'), 'tx', 'MB/s')] });
    add({ id: `net-${n}-pk`, group: g, title: `${n} packets`, unit: 'packets/s', series: [s(k('rx_packets_s'), 'rx', 'packets/s'), s(k('tx_packets_s'), 'tx', 'packets/s')] });
    add({ id: `net-${n}-err`, group: g, title: `${n} errors and drops`, unit: '/s', series: [
      s(k('rx_errors_s'), 'rx errors', '/s'), s(k('tx_errors_s'), 'tx errors', '/s'), s(k('rx_dropped_s'), 'rx dropped', '/s'), s(k('tx_dropped_s'), 'tx dropped', '/s'),
    ] });
  }
  const procs = prefixes('proc.');
  if (procs.length > 0) {
    const per = (x: string, unit: string): SeriesMeta[] => procs.map((p) => s(`proc.${p}.${x}`, p, unit));
    add({ id: 'proc-cpu', group: 'processes', title: 'process CPU (100 = one CPU)', unit: '%', series: per('cpu_pct', '%') });
    add({ id: 'proc-rss', group: 'processes', title: 'process resident memory', unit: 'MiB', series: per('rss_MB', 'MiB') });
    add({ id: 'proc-io', group: 'processes', title: 'process storage I/O (read + written)', unit: 'MB/s', series: [
      ...procs.map((p) => s(`proc.${p}.rMB_s`, `${p} read`, 'MB/s')), ...procs.map((p) => s(`proc.${p}.wMB_s`, `${p} write`, 'MB/s')),
    ] });
  }
  const apps = [...detail.keys()].filter((k) => k.startsWith('app.') && !k.endsWith('/s')).map((k) => k.slice(4));
  for (const a of apps) {
    add({ id: `app-${a}`, group: 'application counters', title: `app ${a}`, unit: 'value', series: [s(`app.${a}`, a, 'value')] });
    add({ id: `app-${a}-rate`, group: 'application counters', title: `app ${a} per second`, unit: '/s', series: [s(`app.${a}/s`, `${a}/s`, '/s')] });
  }
  return out;
}
