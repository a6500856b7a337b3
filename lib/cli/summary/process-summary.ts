/**
 * What each watched process did over a recording (CPU % avg/p95/max, peak RSS, storage I/O,
 * restarts), and the application counters' and gauges' first and last values and rates: the
 * `summary` tables beside the host's.
 */
import { summarize } from '../../collector/aggregate.js';
import type { TimeSeriesSample } from '../../models/sample.js';
import type { Aggregate } from '../../types/collector.js';
import type { ProcessEntry } from '../../types/sample.js';
import { num, table } from '../view/format.js';

export interface ProcessSummary {
  key: string;
  /** The name of its latest process. */
  name: string;
  /** Processes this key had in the recording (1 + restarts seen). */
  processes: number;
  /** CPU % per sample (a process's first sample is left out: its figure covers its whole life). */
  cpuPct: Aggregate;
  peakRssKb: number;
  /** Storage bytes read and written during the recording (absent where /proc/<pid>/io was unreadable). */
  readBytes?: number;
  writeBytes?: number;
  /** Restarts during the recording. */
  restarts: number;
  lastExitCode?: number;
  lastExitSignal?: number;
}

export interface AppSummary {
  name: string;
  first: number;
  last: number;
  /** (last - first) / span, for a value that never went down (a counter). */
  perSecond?: number;
}

const ns = (s: TimeSeriesSample): number => s.timestampNs ?? Date.parse(s.timestamp) * 1e6;

/** Bytes done between two readings of one process (undefined where the field is absent). */
function grew(a: ProcessEntry | undefined, b: ProcessEntry, f: 'read_bytes' | 'write_bytes'): number | undefined {
  const now = b[f];
  if (now === undefined) return undefined;
  const before = a?.[f];
  if (before === undefined) return Number(now);
  const d = Number(now) - Number(before);
  return d > 0 ? d : 0;
}

export function summarizeProcesses(samples: readonly TimeSeriesSample[], spanSeconds: number): ProcessSummary[] {
  const byKey = new Map<string, { cpu: number[]; last?: ProcessEntry; firstRestarts: number; s: ProcessSummary }>();
  // A process seen in the first sample, or started well before it (found later by its name),
  // counts only what it did from its first reading; one started during the recording, all of it
  // (its start time is in clock ticks from boot: a second of slack).
  const start = samples.length > 0 ? ns(samples[0]) - 1e9 : 0;
  samples.forEach((sample, i) => {
    for (const e of sample.processes ?? []) {
      let k = byKey.get(e.key);
      if (!k) {
        k = { cpu: [], firstRestarts: e.restarts, s: { key: e.key, name: e.name, processes: 0, cpuPct: summarize([], 0), peakRssKb: 0, restarts: 0 } };
        byKey.set(e.key, k);
      }
      const same = k.last !== undefined && k.last.pid === e.pid && k.last.start_time_ns === e.start_time_ns;
      if (same) k.cpu.push(e.cpu_pct);
      else k.s.processes++;
      const base = same ? k.last : i === 0 || e.start_time_ns < start ? e : undefined;
      for (const [f, to] of [['read_bytes', 'readBytes'], ['write_bytes', 'writeBytes']] as const) {
        const d = grew(base, e, f);
        if (d !== undefined) k.s[to] = (k.s[to] ?? 0) + d;
      }
      k.s.name = e.name;
      k.s.peakRssKb = Math.max(k.s.peakRssKb, Number(e.rss_peak_kb));
      k.s.restarts = e.restarts - k.firstRestarts;
      if (e.last_exit_code !== undefined || e.last_exit_signal !== undefined) {
        k.s.lastExitCode = e.last_exit_code;
        k.s.lastExitSignal = e.last_exit_signal;
      }
      k.last = e;
    }
  });
  return [...byKey.values()].map((k) => ({ ...k.s, cpuPct: summarize(k.cpu, spanSeconds) }));
}

export function summarizeApp(samples: readonly TimeSeriesSample[], spanSeconds: number): AppSummary[] {
  const out = new Map<string, AppSummary & { down: boolean }>();
  for (const s of samples) {
    for (const [name, raw] of Object.entries(s.app ?? {})) {
      const v = Number(raw);
      const a = out.get(name);
      if (!a) out.set(name, { name, first: v, last: v, down: false });
      else {
        a.down ||= v < a.last;
        a.last = v;
      }
    }
  }
  return [...out.values()].map(({ down, ...a }) => (down || !(spanSeconds > 0) ? a : { ...a, perSecond: (a.last - a.first) / spanSeconds }));
}

const MB = 1024 * 1024;
const mb = (v: number | undefined): string => (v === undefined ? '-' : num(v / MB, 1));

function exit(p: ProcessSummary): string {
  if (p.lastExitSignal !== undefined) return `, last ended by signal ${p.lastExitSignal}`;
  if (p.lastExitCode !== undefined) return `, last exited ${p.lastExitCode}`;
  return '';
}

/** The processes table and the app lines of one host, indented as summary's blocks. */
export function processLines(procs: readonly ProcessSummary[], app: readonly AppSummary[]): string[] {
  const out: string[] = [];
  if (procs.length > 0) {
    const rows = [['process', 'cpu% avg', 'p95', 'max', 'peak RSS MiB', 'read MiB', 'written MiB', 'restarts']];
    for (const p of procs) {
      rows.push([
        p.key, num(p.cpuPct.avg), num(p.cpuPct.p95), num(p.cpuPct.max), num(p.peakRssKb / 1024, 1),
        mb(p.readBytes), mb(p.writeBytes), `${p.restarts}${exit(p)}`,
      ]);
    }
    out.push(...table(rows, ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'left']).map((l) => '  ' + l));
  }
  for (const a of app) {
    const rate = a.perSecond === undefined || a.first === a.last ? '' : ` (${num(a.perSecond, 2)}/s)`;
    out.push(`  app ${a.name}: ${a.first === a.last ? num(a.last, Number.isInteger(a.last) ? 0 : 3) : `${num(a.first, Number.isInteger(a.first) ? 0 : 3)} → ${num(a.last, Number.isInteger(a.last) ? 0 : 3)}`}${rate}`);
  }
  return out;
}
