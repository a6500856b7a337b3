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

interface SummaryOptions {
  json?: boolean;
  strict?: boolean;
}

const EXAMPLES = `
Examples:
  $ hostseries summary hostseries-20250101T120000Z.json
  $ hostseries summary run.jsonl.gz            # a stream, even one cut short by a crash
  $ hostseries summary run.json --json | jq '.hosts[].metrics.disk_iops.p95'
  $ hostseries record -o - -- ./bench.sh | hostseries summary -

Disk figures add up physical disks only (partitions, dm-*/md* and loop/ram/zram devices sit on
them or on files, so their I/O is left out of the totals and listed as "not in totals": no I/O is
counted twice); %util is the busiest disk's; net counts every interface but lo. MB are
MiB, as iostat prints them.`;

export function summaryCommand(): Command {
  return new Command('summary')
    .description('summarise a recording (.json or .jsonl, gzipped or not): coverage and headline rates per host')
    .argument('<file>', "a recording written by hostseries record (or mlpstorage); '-' reads stdin")
    .addOption(new Option('--json', 'print the summary as JSON'))
    .addOption(new Option('--strict', 'refuse a stream with a corrupt line (default: skip it, say which)'))
    .addHelpText('after', EXAMPLES)
    .action(async (file: string, opts: SummaryOptions) => {
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
      const hosts = [...hostOrder(rec)].map((h) => summarizeHost(h, rec.data.samplesByHost.get(h) ?? [], rec.data.collectionIntervalSeconds));
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
    })),
  };
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
  for (const h of hosts) {
    for (const m of HEADLINE_METRICS) {
      const a = h.metrics[m.key];
      rows.push([m.label, num(a.avg, m.digits), num(a.min, m.digits), num(a.max, m.digits), num(a.p95, m.digits)]);
    }
  }
  const lines = table(rows, ['left', 'right', 'right', 'right', 'right']);
  const header = lines[0];
  let at = 1;
  for (const h of hosts) {
    out.push('', coverage(h));
    for (const [source, e] of Object.entries(h.errors)) out.push(`  errors from ${source}: ${e.count} (first: ${e.first})`);
    const block = lines.slice(at, at + HEADLINE_METRICS.length);
    at += HEADLINE_METRICS.length;
    if (h.samples === 0) continue;
    if (HEADLINE_METRICS.every((m) => h.metrics[m.key].count === 0)) {
      out.push('  no data in any sample');
      continue;
    }
    if (h.disks.length > 0) out.push(`  disks: ${h.disks.join(', ')}`);
    if (h.otherDevices.length > 0) out.push(`  not in totals (their I/O is on the disks above): ${h.otherDevices.join(', ')}`);
    out.push('  ' + header, ...block.map((l) => '  ' + l));
    const procs = processLines(h.processes, h.app);
    if (procs.length > 0) out.push('', ...procs);
  }
  return out;
}
