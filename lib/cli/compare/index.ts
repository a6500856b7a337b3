/** `hostseries compare A B` (or `A --host h1 --host h2`): two runs side by side, with the change in %. */
import { Command, Option } from 'commander';
import { compare, side, type Comparison, type Side } from '../../views/compare.js';
import { HEADLINE_METRICS, type HeadlineKey } from '../view/headline.js';
import { duration, num } from '../view/format.js';
import { fixed, groupedTable, terminalWidth } from '../../views/layout.js';
import { collect } from '../parse-args.js';
import { UsageError } from '../exit.js';
import { writeStdout } from '../output.js';
import { loadRecording, pickHosts, runStartNs, type Loaded } from '../show/load.js';
import { betweenOption, viewWindow } from '../show/view-window.js';

interface CompareOptions {
  host?: string[];
  between?: string[];
  from?: string;
  to?: string;
  json?: boolean;
  strict?: boolean;
}

const EXAMPLES = `
Examples:
  $ hostseries compare before.json after.json
  $ hostseries compare run.json --host node01 --host node02      # two hosts of one run
  $ hostseries compare a.json b.json --between start end          # the benchmark only (markers)
  $ hostseries compare a.json b.json --json | jq '.pairs[].metrics[] | {key, change_pct}'

Change is (B - A) / A of the averages. Hosts are paired by name (a run of one host each: those
two); the timeline averages each side per time slot, counted from each side's start.`;

/** The timeline's columns: what a user compares first. */
const TIMELINE: HeadlineKey[] = ['cpu_busy_pct', 'disk_write_mb_s', 'disk_read_mb_s', 'disk_util_max_pct', 'net_rx_mb_s', 'net_tx_mb_s', 'mem_used_pct'];

function pct(v: number | undefined): string {
  if (v === undefined) return '-';
  return `${v > 0 ? '+' : ''}${v.toFixed(1)}%`;
}

interface Pairing {
  a: { l: Loaded; host: string };
  b: { l: Loaded; host: string };
}

function pairings(files: string[], la: Loaded, lb: Loaded | undefined, hosts: string[] | undefined): Pairing[] {
  if (!lb) {
    if (!hosts || hosts.length !== 2) throw new UsageError(`compare needs two recordings, or one and two --host (got ${files.length} file${files.length === 1 ? '' : 's'} and ${hosts?.length ?? 0} --host)`);
    const [h1, h2] = pickHosts(la, hosts);
    if (h2 === undefined) throw new UsageError(`--host ${h1} twice: give two different hosts`);
    return [{ a: { l: la, host: h1 }, b: { l: la, host: h2 } }];
  }
  const ha = pickHosts(la, hosts);
  const hb = pickHosts(lb, hosts);
  if (ha.length === 1 && hb.length === 1) return [{ a: { l: la, host: ha[0] }, b: { l: lb, host: hb[0] } }];
  const common = ha.filter((h) => hb.includes(h));
  if (common.length === 0) throw new UsageError(`${la.name} (${ha.join(', ')}) and ${lb.name} (${hb.join(', ')}) have no host in common; pick one of each with --host`);
  return common.map((h) => ({ a: { l: la, host: h }, b: { l: lb, host: h } }));
}

function sideOf(x: { l: Loaded; host: string }, o: CompareOptions): Side {
  const data = x.l.rec.data;
  const window = viewWindow(o, x.l, [x.host], runStartNs(x.l, [x.host]))(x.host);
  return side(`${x.l.name} ${x.host}`, data.samplesByHost.get(x.host) ?? [], data.collectionIntervalSeconds, window);
}

function asText(c: Comparison, width: number): string[] {
  const out = [`A: ${c.a.name} (${duration(c.a.spanSeconds)})`, `B: ${c.b.name} (${duration(c.b.spanSeconds)})`, ''];
  const rows = c.metrics.map((m) => [m.label, num(m.a.avg, m.digits), num(m.b.avg, m.digits), pct(m.changePct), num(m.a.p95, m.digits), num(m.b.p95, m.digits), num(m.a.max, m.digits), num(m.b.max, m.digits)]);
  out.push(...groupedTable({ keyHeads: [''], valueHeads: ['A avg', 'B avg', 'change', 'A p95', 'B p95', 'A max', 'B max'], rows }, width));
  out.push('', `timeline (averages per ${duration(c.bucketSeconds)}, time since each side's start):`);
  const keys = TIMELINE.filter((k) => c.timeline.some((t) => t.a[k] !== undefined || t.b[k] !== undefined));
  const label = (k: HeadlineKey): string => HEADLINE_METRICS.find((m) => m.key === k)!.label.replace('disk %util (max)', 'disk %util');
  const digits = (k: HeadlineKey): number => HEADLINE_METRICS.find((m) => m.key === k)!.digits;
  const heads = keys.flatMap((k) => [`${label(k)} A`, 'B']);
  const cells = c.timeline.map((t) => [`+${duration(t.toSeconds)}`, ...keys.flatMap((k) => [fixed(t.a[k], digits(k)), fixed(t.b[k], digits(k))])]);
  out.push(...groupedTable({ keyHeads: ['time'], valueHeads: heads, rows: cells }, width));
  return out;
}

function asJson(pairs: Comparison[]): unknown {
  const agg = (a: { count: number; avg: number; p95: number; max: number; min: number }): unknown => ({ count: a.count, avg: a.avg, min: a.min, max: a.max, p95: a.p95 });
  return {
    pairs: pairs.map((c) => ({
      a: { name: c.a.name, span_seconds: c.a.spanSeconds },
      b: { name: c.b.name, span_seconds: c.b.spanSeconds },
      metrics: c.metrics.map((m) => ({ key: m.key, label: m.label, a: agg(m.a), b: agg(m.b), change_pct: m.changePct ?? null })),
      bucket_seconds: c.bucketSeconds,
      timeline: c.timeline.map((t) => ({ to_seconds: t.toSeconds, a: t.a, b: t.b })),
    })),
  };
}

export function compareCommand(): Command {
  return betweenOption(new Command('compare'))
    .description('compare two recordings (or two hosts of one) side by side: headline rates with the change in %, and a timeline')
    .argument('[files...]', 'recording A, then recording B (or one recording and two --host)')
    .addOption(new Option('--host <host>', 'the host to compare (repeatable; with one recording: exactly two)').argParser(collect))
    .addOption(new Option('--from <time>', 'start at this time (ISO 8601, HH:MM:SS UTC, or an offset from each run\'s start: 30s)'))
    .addOption(new Option('--to <time>', 'end at this time (as --from)'))
    .addOption(new Option('--json', 'print the comparison as JSON'))
    .addOption(new Option('--strict', 'refuse a stream with a corrupt line'))
    .addHelpText('after', EXAMPLES)
    .action(async (files: string[], opts: CompareOptions) => {
      // `--between a b A.json B.json`: the variadic option took the files too.
      if (opts.between && opts.between.length > 2 && files.length === 0) files = opts.between.splice(2);
      if (opts.between && opts.between.length !== 2) throw new UsageError(`--between takes two marker labels (START END), got ${opts.between.length}`);
      if (files.length === 0 || files.length > 2) throw new UsageError(`compare takes one or two recordings, got ${files.length}`);
      if (files.filter((f) => f === '-').length > 1) throw new UsageError("only one of the recordings can be stdin ('-')");
      const la = await loadRecording(files[0], opts.strict === true);
      const lb = files[1] === undefined ? undefined : await loadRecording(files[1], opts.strict === true);
      const pairs = pairings(files, la, lb, opts.host).map((p) => compare(sideOf(p.a, opts), sideOf(p.b, opts)));
      if (opts.json) {
        await writeStdout([JSON.stringify(asJson(pairs), null, 2)], true);
        return;
      }
      const width = terminalWidth();
      const lines = pairs.flatMap((c, i) => [...(i > 0 ? [''] : []), ...asText(c, width)]);
      await writeStdout(lines.map((l) => l + '\n'));
    });
}
