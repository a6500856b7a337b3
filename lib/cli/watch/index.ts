/**
 * `hostseries watch`: the rows of `show`, live (`iostat -x 1`-like) for this host or several
 * (`-H`), each interval's block redrawn in place on a terminal or appended when piped. Ctrl-C
 * (or SIGTERM, or --count blocks) ends it with status 0.
 */
import { Command, Option } from 'commander';
import { TimeSeriesCollector } from '../../collector/time-series-collector.js';
import { MultiHostTimeSeriesCollector } from '../../remote/multi-collector.js';
import type { TimeSeriesSample } from '../../models/sample.js';
import { computeRates } from '../../rates/compute.js';
import { SECTION_DEFS, type Section } from '../../views/columns.js';
import { sampleNs, hasData, type Interval } from '../../views/intervals.js';
import { clockDigits, clockTime, fixed, groupedTable, terminalWidth } from '../../views/layout.js';
import { hostRows, type IntervalRow, type Selection } from '../../views/rows.js';
import { addHostOptions, hostEntries, type HostSourceOptions } from '../host-options.js';
import { positiveInt, seconds } from '../parse-args.js';
import { Reporter } from '../output.js';
import { duration } from '../view/format.js';
import { selectedSections } from '../show/index.js';
import { Screen } from './screen.js';

interface WatchOptions extends HostSourceOptions {
  interval: number;
  count?: number;
  cpu?: boolean;
  disk?: boolean | string;
  net?: boolean | string;
  mem?: boolean;
}

const EXAMPLES = `
Examples:
  $ hostseries watch                      # this host, every second: CPU, disks, network, memory
  $ hostseries watch --disk -i 2          # iostat -x 2, for the physical disks
  $ hostseries watch -H 'node[01-04]' --cpu
  $ hostseries watch --disk nvme0n1 -c 10 | tee disk.log   # 10 intervals, plain lines

On a terminal each interval is redrawn in place; piped, the blocks are appended. Ctrl-C ends it
(status 0). The numbers are computeRates' between consecutive samples, as in 'show'.`;

const names = (v: boolean | string | undefined): string[] | undefined => (typeof v === 'string' ? v.split(/[\s,]+/).filter(Boolean) : undefined);

function block(rows: readonly IntervalRow[], sections: readonly Section[], width: number, hosts: number, interval: number, at: number): string[] {
  const out = [`hostseries watch: every ${duration(interval)}, ${clockTime(at, clockDigits(interval))} UTC${hosts > 1 ? `, ${hosts} hosts` : ''} (Ctrl-C to stop)`];
  for (const s of sections) {
    const def = SECTION_DEFS[s];
    const mine = rows.filter((r) => r.section === s);
    if (mine.length === 0) continue;
    // The entity column: the device, interface, or `all` CPUs; memory has none.
    const entity = def.entityHead ?? (s === 'cpu' ? 'cpu' : undefined);
    const keyHeads = [...(hosts > 1 ? ['host'] : []), ...(entity ? [entity] : [])];
    const cells = mine.map((r) => [...(hosts > 1 ? [r.host] : []), ...(entity ? [r.entity === '' ? 'all' : r.entity] : []), ...r.values.map((v, i) => fixed(v, def.columns[i].digits))]);
    out.push('', ...groupedTable({ keyHeads, valueHeads: def.columns.map((c) => c.head), rows: cells }, width));
  }
  return out;
}

export function watchCommand(): Command {
  const cmd = new Command('watch')
    .description('watch rates live, interval by interval (like iostat -x 1): CPU %, disks, network, memory')
    .addOption(new Option('-i, --interval <seconds>', 'time between samples (default 1)').argParser(seconds(0.1, 86_400)).default(1))
    .addOption(new Option('-c, --count <N>', 'stop after N intervals').argParser(positiveInt))
    .addOption(new Option('--cpu', 'CPU %: usr, sys, iowait, steal, idle'))
    .addOption(new Option('--disk [dev]', 'per-disk iostat -x columns (this device or list; default the physical disks)'))
    .addOption(new Option('--net [iface]', 'per-interface rx/tx MB/s and packets/s'))
    .addOption(new Option('--mem', 'memory used %, page-in/out, faults'))
    .addHelpText('after', EXAMPLES)
    .action((opts: WatchOptions) => runWatch(opts));
  return addHostOptions(cmd, true);
}

interface Live {
  start(): Promise<void>;
  stop(): Promise<void>;
  on(listener: (s: TimeSeriesSample, host: string) => void): void;
  hosts: number;
}

function liveCollector(o: WatchOptions, reporter: Reporter): Live {
  const entries = hostEntries(o);
  const logger = { warn: (m: string) => (m.includes('maxSamples (') ? undefined : reporter.warn(m)), debug: () => undefined };
  if (entries.length === 0) {
    const c = new TimeSeriesCollector({ intervalSeconds: o.interval, maxSamples: 2, overflow: 'rolling', logger });
    c.on('error', (e) => reporter.warn(e.message));
    return { start: () => c.start(), stop: async () => void (await c.stop()), on: (l) => c.on('sample', (s) => l(s, c.hostname)), hosts: 1 };
  }
  const c = new MultiHostTimeSeriesCollector({ hosts: entries, intervalSeconds: o.interval, maxSamples: 2, overflow: 'rolling', logger });
  c.on('error', (e) => reporter.warn(e.message));
  return { start: () => c.start(), stop: async () => void (await c.stop()), on: (l) => c.on('sample', (s, host) => l(s, host)), hosts: entries.length };
}

async function runWatch(o: WatchOptions): Promise<void> {
  const reporter = new Reporter('normal');
  const sections = selectedSections(o) ?? ['cpu', 'disk', 'net', 'mem'];
  const sel: Selection = { sections, disks: names(o.disk), nets: names(o.net) };
  const collector = liveCollector(o, reporter);
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const screen = new Screen(process.stdout, process.stdout.isTTY === true, () => finish());
  const prev = new Map<string, TimeSeriesSample>();
  const latest = new Map<string, IntervalRow[]>();
  const firstNs = new Map<string, number>();
  let blocks = 0;
  let pending: NodeJS.Timeout | undefined;
  const render = (): void => {
    pending = undefined;
    const rows = [...latest.values()].flat();
    if (rows.length === 0) return;
    const at = Math.max(...rows.map((r) => r.endNs));
    screen.draw(block(rows, sections, terminalWidth(), collector.hosts, o.interval, at));
    blocks++;
    if (o.count !== undefined && blocks >= o.count) finish();
  };
  collector.on((s, host) => {
    if (!hasData(s)) return;
    const p = prev.get(host);
    prev.set(host, s);
    if (!firstNs.has(host)) firstNs.set(host, sampleNs(s));
    if (!p || sampleNs(s) <= sampleNs(p)) return;
    const endNs = sampleNs(s);
    const interval: Interval = { prev: p, cur: s, rates: computeRates(p, s), endNs, elapsedSeconds: (endNs - firstNs.get(host)!) / 1e9 };
    latest.set(host, [...hostRows(host, [interval], sel).values()].flat());
    // One block per tick: the hosts' samples of a tick arrive together; drawn once they are in.
    pending ??= setTimeout(render, Math.min(200, o.interval * 250));
  });
  const onSignal = (): void => finish();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await collector.start();
    await finished;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (pending) clearTimeout(pending);
    await collector.stop().catch((e: unknown) => reporter.warn(e instanceof Error ? e.message : String(e)));
    await screen.end();
  }
}
