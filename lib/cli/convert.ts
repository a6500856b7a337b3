/**
 * `hostseries convert FILE.jsonl`: a JSON Lines stream (a finished .jsonl recording, or the
 * .partial.jsonl a killed recording left) as the mlpstorage TimeSeriesData JSON.
 */
import { Command, Option } from 'commander';
import { lstat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { FileError } from '../errors.js';
import { convertJsonlToJson } from '../files/jsonl-read.js';
import { UsageError } from './exit.js';
import { Reporter, verbosityOf } from './output.js';

interface ConvertOptions {
  output?: string;
  force?: boolean;
  quiet?: boolean;
}

const EXAMPLES = `
Examples:
  $ hostseries convert run.partial.jsonl           # what a killed 'record -o run.json' left → run.json
  $ hostseries convert idle.jsonl.gz               # → idle.json.gz
  $ hostseries convert run.jsonl -o /results/run.json

A stream cut short by a kill converts too: a torn last line is skipped, and without the footer the
end time is the last sample's. The stream itself is left as it is.`;

const plural = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;

/** run.partial.jsonl → run.json, x.jsonl.gz → x.json.gz, anything else → <name>.json */
export function convertedName(input: string): string {
  const m = /^(.*?)(\.partial)?\.jsonl(\.gz)?$/i.exec(input);
  return m ? `${m[1]}.json${m[3] ?? ''}` : `${input}.json`;
}

export function convertCommand(): Command {
  return new Command('convert')
    .description('turn a JSON Lines stream (a .jsonl recording, or the .partial.jsonl an unfinished one left) into the mlpstorage JSON')
    .argument('<file>', 'a JSON Lines stream written by hostseries record (gzipped or not)')
    .addOption(new Option('-o, --output <file>', 'where to write (default: <file> named .json; .gz compresses)'))
    .addOption(new Option('-f, --force', 'replace the output file if it exists'))
    .addOption(new Option('-q, --quiet', 'only errors'))
    .addHelpText('after', EXAMPLES)
    .action(async (file: string, opts: ConvertOptions) => {
      const reporter = new Reporter(verbosityOf(opts));
      const out = opts.output ?? convertedName(file);
      if (resolve(out) === resolve(file)) throw new UsageError(`the output ${out} is the stream itself; give another -o`);
      if (!opts.force && (await lstat(out).then(() => true, () => false))) {
        throw new FileError(out, 'exists; give --force to replace it, or -o to write elsewhere');
      }
      const r = await convertJsonlToJson(file, out);
      const d = r.data;
      const hosts = [...d.samplesByHost.keys()].length;
      reporter.info(`wrote ${out}: ${plural(d.countSamples(), 'sample')}, ${plural(hosts, 'host')}`);
      if (!r.complete) {
        const torn = r.skippedLines > 0 ? `; ${plural(r.skippedLines, 'torn line')} skipped` : '';
        reporter.info(`${file} has no footer (its writer was killed or failed, or is still running): the end time is the last sample's${torn}`);
      }
    });
}
