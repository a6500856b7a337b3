/** `hostseries show FILE`: the recording interval by interval, as `sar -f` / `iostat -x` print it. */
import { Command, Option } from 'commander';
import { type Section } from '../../views/columns.js';
import { intervals, dataSamples } from '../../views/intervals.js';
import { hostRows, type Selection } from '../../views/rows.js';
import { terminalWidth } from '../../views/layout.js';
import { collect, positiveInt } from '../parse-args.js';
import { writeStdout } from '../output.js';
import { loadRecording, pickHosts, runStartNs } from './load.js';
import { hostsAfterEachOther, interleavedByTime, rowsAsJson, type HostRows } from './render.js';
import { viewWindow, betweenOption, fileAndBetween, markersOf } from './view-window.js';

export interface ShowOptions {
  host?: string[];
  cpu?: boolean;
  disk?: boolean | string;
  net?: boolean | string;
  mem?: boolean;
  proc?: boolean;
  every?: number;
  from?: string;
  to?: string;
  between?: string[];
  byTime?: boolean;
  json?: boolean;
  strict?: boolean;
}

const EXAMPLES = `
Examples:
  $ hostseries show run.json                       # CPU, disks, network, memory per interval
  $ hostseries show run.json --disk nvme0n1 --every 10
  $ hostseries show run.json --cpu --from 30s --to 2m
  $ hostseries show run.json --between start end   # between two markers
  $ hostseries show run.json --by-time --net       # hosts interleaved by time
  $ hostseries show run.json --json | jq '.rows[] | select(.section=="disk") | .values.util'

A row is the interval that ends at its time (UTC). Without --disk, the physical disks (as summary
counts them); without --net, every interface but lo. --disk and --net take a name or a list
(sda,sdb). The numbers are computeRates' on the same pair of samples. MB are MiB.`;

/** `--disk` / `--net` → a list of names, or undefined for the default set. */
function names(v: boolean | string | undefined): string[] | undefined {
  return typeof v === 'string' ? v.split(/[\s,]+/).filter(Boolean) : undefined;
}

export function selectedSections(o: { cpu?: boolean; disk?: unknown; net?: unknown; mem?: boolean; proc?: boolean }): Section[] | undefined {
  const s: Section[] = [];
  if (o.cpu) s.push('cpu');
  if (o.disk !== undefined && o.disk !== false) s.push('disk');
  if (o.net !== undefined && o.net !== false) s.push('net');
  if (o.mem) s.push('mem');
  if (o.proc) s.push('proc');
  return s.length > 0 ? s : undefined;
}

export function showCommand(): Command {
  return betweenOption(new Command('show'))
    .description('show a recording interval by interval: CPU %, per-disk iostat -x columns, network, memory, processes')
    .argument('[file]', "a recording (.json or .jsonl, gzipped or not); '-' reads stdin")
    .addOption(new Option('--host <host>', 'only this host (repeatable)').argParser(collect))
    .addOption(new Option('--cpu', 'CPU %: usr, sys, iowait, steal, idle'))
    .addOption(new Option('--disk [dev]', 'per-disk r/s w/s rMB/s wMB/s r_await w_await aqu-sz %util (this device or list)'))
    .addOption(new Option('--net [iface]', 'per-interface rx/tx MB/s and packets/s (this interface or list)'))
    .addOption(new Option('--mem', 'memory used %, page-in/out, faults'))
    .addOption(new Option('--proc', 'watched processes: CPU %, RSS, storage I/O'))
    .addOption(new Option('--every <N>', 'one row per N sample intervals').argParser(positiveInt))
    .addOption(new Option('--from <time>', 'start at this time (ISO 8601, HH:MM:SS UTC, or an offset from the start: 30s, 2m)'))
    .addOption(new Option('--to <time>', 'end at this time (as --from)'))
    .addOption(new Option('--by-time', 'hosts interleaved by time in one table per section (default: one host after another)'))
    .addOption(new Option('--json', 'print the rows as JSON (unrounded)'))
    .addOption(new Option('--strict', 'refuse a stream with a corrupt line (default: skip it, say which)'))
    .addHelpText('after', EXAMPLES)
    .action(async (fileArg: string | undefined, opts: ShowOptions) => {
      const file = fileAndBetween(fileArg, opts);
      const loaded = await loadRecording(file, opts.strict === true);
      const hosts = pickHosts(loaded, opts.host);
      const window = viewWindow(opts, loaded, hosts, runStartNs(loaded, hosts));
      const all = hosts.map((h) => ({ host: h, list: intervals(loaded.rec.data.samplesByHost.get(h) ?? [], { nominalInterval: loaded.rec.data.collectionIntervalSeconds, every: opts.every, window: window(h) }) }));
      const sections = selectedSections(opts)
        ?? ['cpu', 'disk', 'net', 'mem', ...(all.some((h) => h.list.some((i) => Object.keys(i.rates.proc).length > 0)) ? ['proc' as const] : [])] as Section[];
      const sel: Selection = { sections, disks: names(opts.disk), nets: names(opts.net) };
      const rows: HostRows[] = all.map(({ host, list }) => ({
        host, samples: dataSamples(loaded.rec.data.samplesByHost.get(host) ?? []).samples.length, rows: hostRows(host, list, sel),
        markers: markersOf(loaded).filter((m) => m.host === undefined || m.host === host),
      }));
      if (opts.json) {
        await writeStdout([JSON.stringify(rowsAsJson(loaded.name, rows, sections), null, 2)], true);
        return;
      }
      const width = terminalWidth();
      const lines = opts.byTime ? interleavedByTime(rows, sections, width) : hostsAfterEachOther(rows, sections, width);
      await writeStdout(lines.map((l) => l + '\n'));
    });
}
