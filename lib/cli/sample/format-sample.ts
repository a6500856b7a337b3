/** One sample as a few readable lines per section (counters are totals since boot). */
import type { CpuTimes, SampleDict } from '../../types/sample.js';
import { countedInterface, wholeDisks } from '../view/devices.js';
import { bytes, num, table } from '../view/format.js';

const MAX_ITEMS = 8;
const n = (v: number | bigint | undefined): string => (v === undefined ? '-' : typeof v === 'bigint' ? v.toLocaleString('en-US') : num(v, 0));

function cpuLine(t: CpuTimes, cpus: number): string {
  const v = (k: keyof CpuTimes): number => Number(t[k]);
  // As sar: guest time is inside user, so it is not added again.
  const total = v('user') + v('nice') + v('system') + v('idle') + v('iowait') + v('irq') + v('softirq') + v('steal');
  const pct = (x: number): string => `${num(total > 0 ? (x * 100) / total : 0, 1)}%`;
  return `${cpus} CPU${cpus === 1 ? '' : 's'}; since boot: ${pct(v('user') + v('nice'))} user, ${pct(v('system') + v('irq') + v('softirq'))} system, ` +
    `${pct(v('iowait'))} iowait, ${pct(v('steal'))} steal, ${pct(v('idle'))} idle`;
}

function more(items: string[], what: string): string[] {
  if (items.length <= MAX_ITEMS) return items;
  return [...items.slice(0, MAX_ITEMS), `… and ${items.length - MAX_ITEMS} more ${what} (--json shows all)`];
}

export function sampleText(d: SampleDict): string[] {
  const rows: [string, string][] = [];
  const add = (label: string, lines: string[]): void => lines.forEach((l, i) => rows.push([i === 0 ? label : '', l]));
  if (d.loadavg) {
    const l = d.loadavg;
    add('load', [`${num(l.load_1min, 2)} ${num(l.load_5min, 2)} ${num(l.load_15min, 2)} (1, 5, 15 min); ${l.running_processes} running of ${l.total_processes}`]);
  }
  if (d.stat) add('cpu', [cpuLine(d.stat.cpu, Object.keys(d.stat.cpus).length)]);
  if (d.meminfo) {
    const m = d.meminfo;
    const kb = (k: string): number | undefined => (m[k] === undefined ? undefined : Number(m[k]) * 1024);
    const total = kb('MemTotal');
    const avail = kb('MemAvailable');
    const parts: string[] = [];
    if (total !== undefined) parts.push(`${bytes(total)} total`);
    if (total !== undefined && avail !== undefined) parts.push(`${bytes(avail)} available (${num(((total - avail) * 100) / total, 1)}% used)`);
    const st = kb('SwapTotal');
    const sf = kb('SwapFree');
    if (st !== undefined && sf !== undefined) parts.push(`swap ${bytes(st - sf)} of ${bytes(st)} used`);
    add('memory', [parts.join(', ')]);
  }
  if (d.diskstats) {
    const byName = new Map(d.diskstats.map((e) => [e.device_name, e]));
    const disks = wholeDisks([...byName.keys()]);
    const lines = table(disks.map((name) => {
      const e = byName.get(name)!;
      return [`${name}:`, `${n(e.reads_completed)} reads (${bytes(BigInt(e.sectors_read) * 512n)}),`,
        `${n(e.writes_completed)} writes (${bytes(BigInt(e.sectors_written) * 512n)}),`, `${n(e.ios_in_progress)} in flight`];
    }));
    add('disks', more(lines.length > 0 ? lines : ['none'], 'disks'));
  }
  if (d.netdev) {
    const nets = d.netdev.filter((e) => countedInterface(e.interface_name));
    const lines = table(nets.map((e) => [`${e.interface_name}:`, `rx ${bytes(e.rx_bytes)} (${n(e.rx_packets)} packets),`,
      `tx ${bytes(e.tx_bytes)} (${n(e.tx_packets)} packets)`]));
    add('net', more(lines.length > 0 ? lines : ['no interface but lo'], 'interfaces'));
  }
  if (d.vmstat) {
    const v = d.vmstat;
    add('vm', [['pgfault', 'pgmajfault', 'pswpin', 'pswpout'].filter((k) => v[k] !== undefined).map((k) => `${k} ${n(v[k])}`).join(', ')]);
  }
  if (d.stat) {
    const s = d.stat;
    const boot = new Date(Number(s.btime) * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
    add('processes', [`${n(s.processes)} forks since boot at ${boot}; ${n(s.procs_running)} running, ${n(s.procs_blocked)} blocked`]);
  }
  for (const [source, message] of Object.entries(d.errors ?? {})) add('error', [`${source}: ${message}`]);
  return [`${d.hostname}  ${d.timestamp}`, ...table(rows)];
}
