/** `hostseries export FILE`: raw counters or derived rates as CSV, TSV, OpenMetrics or JSON Lines, streamed. */
import { Command, Option } from 'commander';
import { UsageError } from '../exit.js';
import { fileName } from '../parse-args.js';
import { Reporter } from '../output.js';
import { markerWindow } from '../../views/markers.js';
import { timeWindow } from '../../views/window.js';
import { metricName } from '../../views/metrics.js';
import { betweenOption, fileAndBetween } from '../show/view-window.js';
import { longHeader, longLines, wideHeader, wideLine, type TableFormat } from './formats.js';
import { OpenMetricsSpool } from './openmetrics.js';
import { ExportOutput } from './output.js';
import { exportRows, scanRecording, type RowOptions } from './rows.js';
import type { TimeWindow } from '../../views/intervals.js';

const FORMATS = ['csv', 'tsv', 'openmetrics', 'jsonl'] as const;
type Format = (typeof FORMATS)[number];

interface ExportOptions {
  format: Format;
  rates?: boolean;
  wide?: boolean;
  output?: string;
  force?: boolean;
  from?: string;
  to?: string;
  between?: string[];
}

const EXAMPLES = `
Examples:
  $ hostseries export run.json --format csv -o run.csv            # host,time,timestamp_ns,metric,value
  $ hostseries export run.json --format csv --rates --wide -o rates.csv   # one column per rate
  $ hostseries export run.jsonl.gz --format openmetrics -o run.om  # promtool tsdb create-blocks-from openmetrics
  $ hostseries export run.json --format jsonl --rates --between start end | jq .

Metrics are named by where they are: diskstats.sda.reads_completed, meminfo.MemAvailable,
stat.cpu0.user, processes.fio.rss_kb; rates as aggregate() names them: disk.sda.util,
net.eth0.rx_bytes_s, cpu.all.usr, mem.used_pct, vm.pgpgin_s. The recording is read one sample
at a time (--wide reads it twice: once for the columns), so any size exports in bounded memory.`;

function formatOf(v: string): Format {
  if (!(FORMATS as readonly string[]).includes(v)) throw new UsageError(`--format ${JSON.stringify(v)}: expected one of ${FORMATS.join(', ')}`);
  return v as Format;
}

export function exportCommand(): Command {
  return betweenOption(new Command('export'))
    .description('export a recording\'s counters or rates as csv, tsv, openmetrics or jsonl (streamed: any size)')
    .argument('[file]', 'a recording (.json or .jsonl, gzipped or not)')
    .addOption(new Option('-f, --format <format>', `${FORMATS.join(' | ')}`).makeOptionMandatory())
    .addOption(new Option('--rates', 'derived rates per interval (iostat/sar formulas) instead of raw counters'))
    .addOption(new Option('--wide', 'one row per sample, one column per metric (default: long, one value a row)'))
    .addOption(new Option('-o, --output <file>', 'write here (default: stdout)').argParser(fileName))
    .addOption(new Option('--force', 'replace an existing output file (a regular file only)'))
    .addOption(new Option('--from <time>', 'start at this time (ISO 8601, HH:MM:SS UTC, or an offset: 30s, 2m)'))
    .addOption(new Option('--to <time>', 'end at this time (as --from)'))
    .addHelpText('after', EXAMPLES)
    .action(async (fileArg: string | undefined, opts: ExportOptions) => {
      const file = fileAndBetween(fileArg, opts);
      const format = formatOf(opts.format);
      if (format === 'openmetrics' && opts.wide) throw new UsageError('--wide: OpenMetrics has one series per metric; leave --wide out');
      if (opts.between && (opts.from !== undefined || opts.to !== undefined)) throw new UsageError('--between cannot be combined with --from/--to');
      if (file === '-') throw new UsageError("export reads a file, not stdin ('-'): it streams the file, twice for --wide");
      const reporter = new Reporter('normal');
      const out = await ExportOutput.open(opts.output, opts.force === true);
      try {
        await run(file, format, opts, out, reporter);
        await out.close();
      } catch (e) {
        await out.abort();
        // A reader that went away (`| head`) is no failure.
        if (opts.output === undefined && ((e as Error).cause as NodeJS.ErrnoException | undefined)?.code === 'EPIPE') return;
        throw e;
      }
    });
}

async function run(file: string, format: Format, opts: ExportOptions, out: ExportOutput, reporter: Reporter): Promise<void> {
  const base: RowOptions = { rates: opts.rates === true, warn: (m) => reporter.warn(m) };
  const needScan = opts.wide === true || opts.between !== undefined || opts.from !== undefined || opts.to !== undefined;
  let window: ((host: string) => TimeWindow) | undefined;
  const columns = new Map<string, number>();
  if (needScan) {
    // The window first (it needs the markers and the start), then the columns within it.
    const { markers, startNs } = await scanRecording(file);
    if (opts.between) {
      const [a, b] = opts.between;
      window = (h) => markerWindow(markers, a, b, h, file);
    } else if (opts.from !== undefined || opts.to !== undefined) {
      const w = timeWindow(opts, Number.isFinite(startNs) ? startNs : 0);
      window = () => w;
    }
    if (opts.wide) {
      for await (const row of exportRows(file, { ...base, window, warn: () => undefined })) {
        for (const [a, b, c] of row.values) {
          const m = metricName(a, b, c);
          if (!columns.has(m)) columns.set(m, columns.size);
        }
      }
    }
  }
  const rows = exportRows(file, { ...base, window });
  if (format === 'openmetrics') {
    const spool = new OpenMetricsSpool(opts.rates === true);
    for await (const row of rows) await spool.add(row);
    for await (const text of spool.text()) await out.write(text);
    return;
  }
  const f: TableFormat = format;
  await out.write(opts.wide ? wideHeader(f, [...columns.keys()]) : longHeader(f));
  for await (const row of rows) await out.write(opts.wide ? wideLine(f, columns, row) : longLines(f, row));
}
