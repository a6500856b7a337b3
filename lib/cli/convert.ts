/**
 * `hostseries convert FILE.jsonl`: a JSON Lines stream (a finished .jsonl recording, or the
 * .partial.jsonl a killed recording left) as the mlpstorage TimeSeriesData JSON.
 */
import { Command, Option } from 'commander';
import { resolve } from 'node:path';
import { timeSeriesJsonChunks, writeTimeSeriesJson } from '../files/json-file.js';
import { readTimeSeriesJsonl } from '../files/jsonl-read.js';
import { UsageError } from './exit.js';
import { checkNewFile } from './output-file.js';
import { Reporter, verbosityOf, writeStdout } from './output.js';
import { fileName } from './parse-args.js';
import { inputFile, namedAs, readWarnings } from './stdin-file.js';
import { plural } from './view/format.js';

interface ConvertOptions {
  output?: string;
  force?: boolean;
  strict?: boolean;
  quiet?: boolean;
}

const EXAMPLES = `
Examples:
  $ hostseries convert run.partial.jsonl           # what a killed 'record -o run.json' left → run.json
  $ hostseries convert idle.jsonl.gz               # → idle.json.gz
  $ hostseries convert run.jsonl -o /results/run.json

A stream cut short by a kill converts too: a torn last line is skipped, and without the footer the
end time is the last sample's. The stream itself is left as it is.`;

/** run.partial.jsonl → run.json, x.jsonl.gz → x.json.gz, anything else → <name>.json */
export function convertedName(input: string): string {
  const m = /^(.*?)(\.partial)?\.jsonl(\.gz)?$/i.exec(input);
  return m ? `${m[1]}.json${m[3] ?? ''}` : `${input}.json`;
}

export function convertCommand(): Command {
  return new Command('convert')
    .description('turn a JSON Lines stream (a .jsonl recording, or the .partial.jsonl an unfinished one left) into the mlpstorage JSON')
    .argument('<file>', "a JSON Lines stream written by hostseries record (gzipped or not); '-' reads stdin (then give -o)")
    .addOption(new Option('-o, --output <file>', "where to write (default: <file> named .json; .gz compresses; '-' is stdout)").argParser(fileName))
    .addOption(new Option('-f, --force', 'replace the output file if it exists (a regular file only: never a link, device or FIFO)'))
    .addOption(new Option('--strict', 'refuse a stream with a corrupt line (default: skip it, say which)'))
    .addOption(new Option('-q, --quiet', 'only errors and warnings'))
    .addHelpText('after', EXAMPLES)
    .action(async (file: string, opts: ConvertOptions) => {
      const reporter = new Reporter(verbosityOf(opts));
      if (file === '-' && opts.output === undefined) throw new UsageError("reading stdin ('-'): give -o FILE (or -o - for stdout)");
      const out = opts.output ?? convertedName(file);
      const toStdout = out === '-';
      if (!toStdout && file !== '-' && resolve(out) === resolve(file)) throw new UsageError(`the output ${out} is the stream itself; give another -o`);
      // Before reading: a long stream is not read only to be refused.
      if (!toStdout) await checkNewFile(out, { force: opts.force, what: 'the JSON' });
      const input = await inputFile(file);
      try {
        const r = await namedAs(input, readTimeSeriesJsonl(input.path, { strict: opts.strict === true }));
        const d = r.data;
        for (const w of readWarnings(input.name, r)) reporter.warn(w.split(input.path).join(input.name));
        if (toStdout) {
          await writeStdout(timeSeriesJsonChunks(d), true);
        } else {
          // Checked again: what appeared there while reading is not replaced either.
          await checkNewFile(out, { force: opts.force, what: 'the JSON' });
          await writeTimeSeriesJson(out, d, { overwrite: opts.force === true });
        }
        const hosts = [...d.samplesByHost.keys()].length;
        reporter.info(`wrote ${toStdout ? 'the JSON to stdout' : out}: ${plural(d.countSamples(), 'sample')}, ${plural(hosts, 'host')}`);
        if (!r.complete) {
          const torn = r.skippedLines > 0 ? `; ${plural(r.skippedLines, 'line')} skipped` : '';
          reporter.info(`${input.name} has no footer (its writer was killed or failed, or is still running): the end time is the last sample's${torn}`);
        }
      } finally {
        await input.release();
      }
    });
}
