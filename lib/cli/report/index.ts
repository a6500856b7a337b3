/**
 * `hostseries report FILE... -o run.html`: one self-contained HTML page (data and UI inlined, no
 * network) to look at one or more recordings: an overview of every host, one host in detail, and
 * hosts or recordings compared.
 */
import { Command, Option } from 'commander';
import { basename } from 'node:path';
import { writeFileAtomic } from '../../files/atomic.js';
import { readRecording } from '../../files/read-recording.js';
import { buildReportModel, type ReportInput } from '../../report/build.js';
import { renderReportHtml } from '../../report/html.js';
import { UsageError } from '../exit.js';
import { checkNewFile } from '../output-file.js';
import { Reporter, verbosityOf } from '../output.js';
import { fileName } from '../parse-args.js';
import { readWarnings } from '../stdin-file.js';
import { bytes, plural } from '../view/format.js';

interface ReportOptions {
  output?: string;
  force?: boolean;
  strict?: boolean;
  title?: string;
  quiet?: boolean;
}

const EXAMPLES = `
Examples:
  $ hostseries report run.json -o run.html
  $ hostseries report cluster.jsonl.gz -o cluster.html --title 'training, 16 nodes'
  $ hostseries report before.json after.json -o compare.html   # two recordings, side by side

The page opens from disk in any browser with no network: Overview (every host, fleet avg/min/max),
Host (one host in detail, with its summary table), Compare (hosts or recordings overlaid or side by
side). Keys: 1/2/3 switch views, [ and ] the host, ? lists them. Figures are the summary command's
(MB are MiB, as iostat prints them).`;

/** run.json → run.html, x.jsonl.gz → x.html */
export function reportName(input: string): string {
  return `${basename(input).replace(/(\.partial)?\.(jsonl?)(\.gz)?$/i, '')}.html`;
}

export function reportCommand(): Command {
  return new Command('report')
    .description('write one self-contained HTML page (charts, no network needed) for one or more recordings')
    .argument('<files...>', 'recordings written by hostseries record (.json or .jsonl, gzipped or not), or mlpstorage')
    .addOption(new Option('-o, --output <file>', 'the HTML file to write (default: the first file named .html, here)').argParser(fileName))
    .addOption(new Option('-f, --force', 'replace the output file if it exists (a regular file only)'))
    .addOption(new Option('--title <text>', "the page's title (default: the files' names)"))
    .addOption(new Option('--strict', 'refuse a stream with a corrupt line (default: skip it, say which)'))
    .addOption(new Option('-q, --quiet', 'only errors and warnings'))
    .addHelpText('after', EXAMPLES)
    .action(async (files: string[], opts: ReportOptions) => {
      const reporter = new Reporter(verbosityOf(opts));
      if (files.includes('-')) throw new UsageError("report reads files, not stdin ('-'): give the recording's path");
      const out = opts.output ?? reportName(files[0]);
      if (out === '-') throw new UsageError('report writes a file: give -o FILE.html');
      // Before reading: a long recording is not read only to be refused.
      await checkNewFile(out, { force: opts.force, what: 'the report' });
      const inputs: ReportInput[] = [];
      for (const file of files) {
        const rec = await readRecording(file, { strict: opts.strict === true });
        const warnings = readWarnings(file, rec);
        if (!rec.complete) warnings.push(`${file}: the stream was not finished (its writer was killed or is still running)`);
        for (const w of warnings) reporter.warn(w);
        inputs.push({ file, data: rec.data, warnings });
      }
      const model = buildReportModel(inputs, opts.title);
      const html = await renderReportHtml(model);
      await checkNewFile(out, { force: opts.force, what: 'the report' });
      await writeFileAtomic(out, [html], { overwrite: opts.force === true });
      const hosts = model.meta.hosts.length;
      reporter.info(`wrote ${out}: ${plural(files.length, 'recording')}, ${plural(hosts, 'host')}, ${bytes(Buffer.byteLength(html))}`);
    });
}
