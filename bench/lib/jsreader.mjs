// A plain-JS reader, the baseline a user could write in ten minutes: readFileSync of the six
// files and string parsing into the same shapes hostseries returns (SampleDict sections).
// Values are JS numbers (not bigint), which flatters it a little.
import { readFileSync } from 'node:fs';

const DISK = [
  'reads_completed', 'reads_merged', 'sectors_read', 'time_reading_ms',
  'writes_completed', 'writes_merged', 'sectors_written', 'time_writing_ms',
  'ios_in_progress', 'time_doing_ios_ms', 'weighted_time_doing_ios_ms',
  'discards_completed', 'discards_merged', 'sectors_discarded', 'time_discarding_ms',
  'flush_requests_completed', 'time_flushing_ms',
];
const NET = [
  'rx_bytes', 'rx_packets', 'rx_errors', 'rx_dropped', 'rx_fifo', 'rx_frame', 'rx_compressed', 'rx_multicast',
  'tx_bytes', 'tx_packets', 'tx_errors', 'tx_dropped', 'tx_fifo', 'tx_collisions', 'tx_carrier', 'tx_compressed',
];
const CPU = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal', 'guest', 'guest_nice'];
const STAT_SCALARS = ['intr', 'ctxt', 'btime', 'processes', 'procs_running', 'procs_blocked'];
const WS = /\s+/;

function diskstats(text) {
  const out = [];
  for (const line of text.split('\n')) {
    const t = line.trim().split(WS);
    if (t.length < 14) continue;
    const n = t.length >= 20 ? 17 : t.length >= 18 ? 15 : 11;
    const e = { device_name: t[2] };
    for (let i = 0; i < n; i++) e[DISK[i]] = Number(t[3 + i]);
    out.push(e);
  }
  return out;
}

function vmstat(text) {
  const out = {};
  for (const line of text.split('\n')) {
    const t = line.trim().split(WS);
    if (t.length === 2 && /^\d+$/.test(t[1])) out[t[0]] = Number(t[1]);
  }
  return out;
}

function meminfo(text) {
  const out = {};
  for (const line of text.split('\n')) {
    const parts = line.split(':');
    if (parts.length !== 2) continue;
    const v = parseInt(parts[1], 10);
    if (!Number.isNaN(v)) out[parts[0].trim()] = v;
  }
  return out;
}

function loadavg(text) {
  const t = text.trim().split(WS);
  const [r, tot] = (t[3] ?? '').split('/');
  const v = {
    load_1min: Number(t[0]), load_5min: Number(t[1]), load_15min: Number(t[2]),
    running_processes: Number(r), total_processes: Number(tot),
  };
  return Object.values(v).some(Number.isNaN)
    ? { load_1min: 0, load_5min: 0, load_15min: 0, running_processes: 0, total_processes: 0 }
    : v;
}

function netdev(text) {
  const out = [];
  const lines = text.split('\n');
  for (let i = 2; i < lines.length; i++) {
    const line = lines[i];
    const c = line.indexOf(':');
    if (c < 0) continue;
    const t = line.slice(c + 1).trim().split(WS);
    if (t.length < 16) continue;
    const e = { interface_name: line.slice(0, c).trim() };
    for (let j = 0; j < 16; j++) e[NET[j]] = Number(t[j]);
    out.push(e);
  }
  return out;
}

function stat(text) {
  const out = { cpu: undefined, cpus: {} };
  for (const line of text.split('\n')) {
    const t = line.split(WS);
    const k = t[0];
    if (k.startsWith('cpu')) {
      const c = {};
      for (let j = 0; j < 10; j++) c[CPU[j]] = Number(t[j + 1] ?? 0);
      if (k === 'cpu') out.cpu = c;
      else out.cpus[k] = c;
    } else if (STAT_SCALARS.includes(k)) {
      out[k] = Number(t[1]);
    }
  }
  return out;
}

/** One sample of the six files, shaped like a hostseries SampleDict. */
export function readSample() {
  return {
    timestamp: new Date().toISOString().slice(0, 19) + 'Z',
    diskstats: diskstats(readFileSync('/proc/diskstats', 'latin1')),
    vmstat: vmstat(readFileSync('/proc/vmstat', 'latin1')),
    meminfo: meminfo(readFileSync('/proc/meminfo', 'latin1')),
    loadavg: loadavg(readFileSync('/proc/loadavg', 'latin1')),
    netdev: netdev(readFileSync('/proc/net/dev', 'latin1')),
    stat: stat(readFileSync('/proc/stat', 'latin1')),
  };
}
