/** `hostseries sample`: one sample of this host, readable or as the full JSON dict. */
import { Command, Option } from 'commander';
import { stringifySample } from '../../json/sample.js';
import { sampleOnce } from '../../native/sampler.js';
import type { Metric } from '../../types/sample.js';
import { metricList } from '../parse-args.js';
import { sampleText } from './format-sample.js';

interface SampleOptions {
  json?: boolean;
  metrics?: Metric[];
}

const EXAMPLES = `
Examples:
  $ hostseries sample
  $ hostseries sample --metrics diskstats,meminfo
  $ hostseries sample --json | jq '.meminfo.MemAvailable'

Counters are totals since boot; \`hostseries record\` turns them into rates.
--json prints the sample dict exactly as a recording holds it (counters above 2^53 keep every digit).`;

export function sampleCommand(): Command {
  return new Command('sample')
    .description('take one sample of this host and print it')
    .addOption(new Option('--json', 'print the full sample dict as JSON'))
    .addOption(new Option('-m, --metrics <list>', 'sections to read: diskstats, vmstat, meminfo, loadavg, netdev, stat (default all)').argParser(metricList))
    .addHelpText('after', EXAMPLES)
    .action(async (opts: SampleOptions) => {
      const d = await sampleOnce({ metrics: opts.metrics });
      process.stdout.write((opts.json ? stringifySample(d, 2) : sampleText(d).join('\n')) + '\n');
    });
}
