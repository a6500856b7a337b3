/** `hostseries summary FILE`: what a recording holds, per host, as a table or as JSON. */
import { Command, Option } from 'commander';
import { summarizeHost, type HostSummary } from './host-summary.js';
import { processLines } from './process-summary.js';
import { HEADLINE_METRICS } from '../view/headline.js';
import { duration, num, table } from '../view/format.js';
import { readRecording } from '../../files/read-recording.js';
import { Reporter } from '../output.js';
import { inputFile, namedAs, readWarnings } from '../stdin-file.js';
import type { Recording } from '../../types/files.js';
import type { Aggregate } from '../../types/collector.js';
import { DISK_DETAIL, type Busiest } from './detail-summary.js';
import { betweenOption, fileAndBetween, viewWindow } from '../show/view-window.js';
import { runStartNs } from '../show/load.js';
import { sampleNs } from '../../views/intervals.js';
import type { TimeSeriesSample } from '../../models/sample.js';
import { clockDigits, clockTime } from '../../views/layout.js';

interface SummaryOptions {
  json?: boolean;
  strict?: boolean;
  from?: string;
  to?: string;
  between?: string[];
}

const EXAMPLES = `
Examples:
  $ hostseries summary hostseries-20250101T120000Z.json
  $ hostseries summary run.jsonl.gz            # a stream, even one cut short by a crash
  $ hostseries summary run.json --json | jq '.hosts[].metrics.disk_iops.p95'
  $ hostseries record -o - -- ./bench.sh | hostseries summary -
  $ hostseries summary run.json --between start end   # the command's run only (markers)

Disk figures add up physical disks only (partitions, dm-*/md* and loop/ram/zram devices sit on
them or on files, so their I/O is left out of the totals and listed as "not in totals": no I/O is
counted twice); %util is the busiest disk's; net counts every interface but lo. MB are
MiB, as iostat prints them.`;

export function summaryCommand(): Command {
  return betweenOption(new Command('summary'))
    .description('summarise a recording (.json or .jsonl, gzipped or not): coverage and headline rates per host')
    .argument('[file]', "a recording written by hostseries record (or mlpstorage); '-' reads stdin")
    .addOption(new Option('--json', 'print the summary as JSON'))
    .addOption(new Option('--strict', 'refuse a stream with a corrupt line (default: skip it, say which)'))
    .addOption(new Option('--from <time>', 'only from this time (ISO 8601, HH:MM:SS UTC, or an offset from the start: 30s, 2m)'))
    .addOption(new Option('--to <time>', 'only to this time (as --from)'))
    .addHelpText('after', EXAMPLES)
    .action(async (fileArg: string | undefined, opts: SummaryOptions) => {
      let file = fileAndBetween(fileArg, opts);
      const input = await inputFile(file);
      let rec: Recording;
      try {
        rec = await namedAs(input, readRecording(input.path, { strict: opts.strict === true }));
      } finally {
        await input.release();
      }
      file = input.name;
      const reporter = new Reporter('normal');
      for (const w of readWarnings(input.name, rec)) reporter.warn(w.split(input.path).join(input.name));
      const order = [...hostOrder(rec)];
      const windowed = opts.between !== undefined || opts.from !== undefined || opts.to !== undefined;
      const loaded = { rec, name: input.name };
      const window = windowed ? viewWindow(opts, loaded, order, runStartNs(loaded, order)) : undefined;
      const inWindow = (h: string): TimeSeriesSample[] => {
        const all = rec.data.samplesByHost.get(h) ?? [];
        if (!window) return all;
        const w = window(h);
        return all.filter((s) => sampleNs(s) >= (w.fromNs ?? Number.NEGATIVE_INFINITY) && sampleNs(s) <= (w.toNs ?? Number.POSITIVE_INFINITY));
      };
      const hosts = order.map((h) => summarizeHost(h, inWindow(h), rec.data.collectionIntervalSeconds));
      for (const h of hosts) for (const w of h.warnings) reporter.warn(w);
      process.stdout.write(opts.json ? JSON.stringify(asJson(file, rec, hosts), null, 2) + '\n' : asText(file, rec, hosts).join('\n') + '\n');
    });
}

/** Requested hosts first (a host that never answered is still shown), then any others. */
function hostOrder(rec: Recording): Set<string> {
  return new Set([...rec.data.hostsRequested, ...rec.data.samplesByHost.keys()]);
}

function asJson(file: string, rec: Recording, hosts: HostSummary[]): unknown {
  const d = rec.data;
  return {
    file,
    format: rec.format,
    complete: rec.complete,
    skipped_lines: rec.skippedLines,
    skipped: rec.skipped,
    warnings: rec.warnings,
    collection_method: d.collectionMethod,
    collection_interval_seconds: d.collectionIntervalSeconds,
    start_time: d.startTime,
    end_time: d.endTime,
    num_samples: d.countSamples(),
    hosts_requested: d.hostsRequested,
    hosts_collected: d.hostsCollected,
    hosts: hosts.map((h) => ({
      host: h.host,
      samples: h.samples,
      span_seconds: h.spanSeconds,
      interval_seconds: h.intervalSeconds ?? null,
      gaps: h.gaps,
      longest_gap_seconds: h.longestGapSeconds,
      error_samples: h.errorSamples,
      errors: h.errors,
      disks: h.disks,
      not_in_totals: h.otherDevices,
      out_of_order: h.outOfOrder,
      warnings: h.warnings,
      // NaN (no values) becomes null in JSON.
      metrics: Object.fromEntries(HEADLINE_METRICS.map(({ key }) => {
        const a = h.metrics[key];
        return [key, { count: a.count, avg: a.avg, min: a.min, max: a.max, p95: a.p95 }];
      })),
      processes: h.processes.map((p) => ({
        key: p.key, name: p.name, processes: p.processes,
        cpu_pct: { count: p.cpuPct.count, avg: p.cpuPct.avg, max: p.cpuPct.max, p95: p.cpuPct.p95 },
        peak_rss_kb: p.peakRssKb, read_bytes: p.readBytes ?? null, write_bytes: p.writeBytes ?? null, restarts: p.restarts,
        last_exit_code: p.lastExitCode, last_exit_signal: p.lastExitSignal,
      })),
      app: h.app.map((a) => ({ name: a.name, first: a.first, last: a.last, per_second: a.perSecond ?? null })),
      disk_details: h.details.disks.map((d) => ({
        device: d.device, in_totals: d.inTotals,
        ...Object.fromEntries(DISK_DETAIL.map(({ key }) => [key, aggJson(d.metrics[key])])),
      })),
      cpu_details: {
        iowait_pct: aggJson(h.details.cpu.iowait), steal_pct: aggJson(h.details.cpu.steal), hot_core_busy_pct: aggJson(h.details.cpu.hotCore),
        hottest_cpu: h.details.cpu.hottest ? { cpu: h.details.cpu.hottest.cpu, busy_pct: h.details.cpu.hottest.busyPct } : null,
      },
      busiest_intervals: h.details.busiest.map((b) => ({
        what: b.key, value: b.value, time: new Date(Math.round(b.endNs / 1e6)).toISOString(), interval_seconds: b.intervalSeconds,
      })),
    })),
  };
}

function aggJson(a: Aggregate): unknown {
  return { count: a.count, avg: a.avg, min: a.min, max: a.max, p95: a.p95 };
}

/** The rows each host adds below the headline ones: CPU detail, then each disk's. */
function detailRows(h: HostSummary): { label: string; a: Aggregate; digits: number }[] {
  const c = h.details.cpu;
  const rows = [
    { label: 'CPU iowait %', a: c.iowait, digits: 1 },
    { label: 'CPU steal %', a: c.steal, digits: 1 },
    { label: 'hot core busy %', a: c.hotCore, digits: 1 },
  ].filter((r) => r.a.count > 0);
  for (const d of h.details.disks) {
    for (const m of DISK_DETAIL) rows.push({ label: `${d.device} ${m.label}`, a: d.metrics[m.key], digits: m.digits });
  }
  return rows;
}

const BUSIEST: Record<Busiest['key'], (v: number) => string> = {
  cpu_busy_pct: (v) => `CPU ${num(v, 1)}% busy`,
  disk_mb_s: (v) => `disks ${num(v, 2)} MB/s`,
  net_mb_s: (v) => `net ${num(v, 2)} MB/s`,
};

/** The busiest interval by CPU, disks and network (one with nothing at all is not worth a line). */
function busiestLines(h: HostSummary): string[] {
  return h.details.busiest.filter((b) => b.value > 0).map((b) =>
    `  busiest interval, ${BUSIEST[b.key](b.value)}: the ${duration(b.intervalSeconds)} to ${clockTime(b.endNs, clockDigits(b.intervalSeconds))} UTC`);
}

function coverage(h: HostSummary): string {
  if (h.samples === 0) return `${h.host}: no samples`;
  const parts = [
    `${h.samples} sample${h.samples === 1 ? '' : 's'} over ${duration(h.spanSeconds)}`,
    h.intervalSeconds === undefined ? undefined : `interval ${duration(h.intervalSeconds)}`,
    h.gaps === 0 ? 'no gaps' : `${h.gaps} gap${h.gaps === 1 ? '' : 's'} (longest ${duration(h.longestGapSeconds)})`,
    h.errorSamples === 0 ? 'no errors' : `${h.errorSamples} with errors`,
  ];
  return `${h.host}: ${parts.filter(Boolean).join(', ')}`;
}

function asText(file: string, rec: Recording, hosts: HostSummary[]): string[] {
  const d = rec.data;
  const method = d.collectionMethod === 'ssh' ? 'over SSH' : d.collectionMethod === 'local' ? 'locally' : '(method not recorded)';
  const out = [`${file}: ${hosts.length} host${hosts.length === 1 ? '' : 's'}, ${d.startTime || '?'} to ${d.endTime || '?'}, every ${duration(d.collectionIntervalSeconds)}, collected ${method}`];
  if (!rec.complete) out.push(`(the stream was not finished: its writer was killed or is still running${rec.skippedLines ? `; ${rec.skippedLines} line${rec.skippedLines === 1 ? '' : 's'} skipped` : ''})`);
  // One table over every host, so the columns line up across hosts.
  const rows: string[][] = [['', 'avg', 'min', 'max', 'p95']];
  const blockSize: number[] = [];
  for (const h of hosts) {
    const all = [...HEADLINE_METRICS.map((m) => ({ label: m.label, a: h.metrics[m.key], digits: m.digits })), ...detailRows(h)];
    for (const { label, a, digits } of all) rows.push([label, num(a.avg, digits), num(a.min, digits), num(a.max, digits), num(a.p95, digits)]);
    blockSize.push(all.length);
  }
  const lines = table(rows, ['left', 'right', 'right', 'right', 'right']);
  const header = lines[0];
  let at = 1;
  hosts.forEach((h, hi) => {
    out.push('', coverage(h));
    for (const [source, e] of Object.entries(h.errors)) out.push(`  errors from ${source}: ${e.count} (first: ${e.first})`);
    const block = lines.slice(at, at + blockSize[hi]);
    at += blockSize[hi];
    if (h.samples === 0) return;
    if (HEADLINE_METRICS.every((m) => h.metrics[m.key].count === 0)) {
      out.push('  no data in any sample');
      return;
    }
    if (h.disks.length > 0) out.push(`  disks: ${h.disks.join(', ')}`);
    if (h.otherDevices.length > 0) out.push(`  not in totals (their I/O is on the disks above): ${h.otherDevices.join(', ')}`);
    out.push('  ' + header, ...block.map((l) => '  ' + l));
    const hot = h.details.cpu.hottest;
    if (hot) out.push(`  hottest core: ${hot.cpu}, ${num(hot.busyPct, 1)}% busy at most`);
    out.push(...busiestLines(h));
    const procs = processLines(h.processes, h.app);
    if (procs.length > 0) out.push('', ...procs);
  });
  return out;
}
