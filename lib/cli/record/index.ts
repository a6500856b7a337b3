/** `hostseries record`: record while a command runs, for a duration, or until Ctrl-C. */
import { Command, Option } from 'commander';
import { MAX_INTERVAL_SECONDS, MIN_INTERVAL_SECONDS } from '../../collector/options.js';
import type { Metric } from '../../types/sample.js';
import type { CmdlinePolicy } from '../../types/native.js';
import { addHostOptions, type HostSourceOptions } from '../host-options.js';
import { collect, fileName, metricList, positiveInt, seconds } from '../parse-args.js';
import { addSshOptions, type SshCliOptions } from './ssh-options.js';
import type { OutputFormat } from './paths.js';
import { runRecording } from './run.js';

export interface RecordOptions extends HostSourceOptions, SshCliOptions {
  interval: number;
  output?: string;
  force?: boolean;
  format?: OutputFormat;
  samples?: number;
  duration?: number;
  metrics?: Metric[];
  /** More processes to record (`--watch`). */
  watch?: string[];
  /** Record the command's processes and our own (default; `--no-watch-command` turns it off). */
  watchCommand: boolean;
  /** What of the recorded processes' command lines the samples carry (`--cmdline`). */
  cmdline?: CmdlinePolicy;
  quiet?: boolean;
  verbose?: boolean;
}

const EXAMPLES = `
Examples:
  $ hostseries record -- fio job.fio                  # this host, every second, while fio runs
  $ hostseries record -i 5 -o run.json -- ./bench.sh --size 10G
  $ hostseries record -H 'node[01-16]' -- mpirun -np 64 ./ior -w -r
  $ hostseries record --hostfile hosts.txt --duration 10m
  $ hostseries record -d 30s -o idle.jsonl.gz         # no command: 30 seconds (or until Ctrl-C)
  $ hostseries record -n 100 -i 0.5 -o quick.json     # 100 samples, then stop
  $ hostseries record -o - -- ./bench.sh | hostseries summary -
  $ hostseries record -w name:postgres -- pgbench -T 60  # the command, and postgres beside it

The exit status is the command's. Ctrl-C and SIGTERM go to the command and all it started; the
recording ends when it exits (with one last sample) and the file is always completed. A command
that does not exit is said so; a second Ctrl-C sends SIGTERM, a third SIGKILL. If hostseries is
killed, even by SIGKILL, the command gets SIGTERM. While recording, samples stream to
<file>.partial.jsonl (a crash or kill loses at most one interval; \`hostseries summary\` reads it,
\`hostseries convert\` finalises it); at the end it becomes <file>, the mlpstorage TimeSeriesData
JSON. An existing <file> is replaced only with --force, and only a regular file (never a link,
device or FIFO); a stream left by an unfinished recording is never overwritten. With -o - the
JSON goes to stdout and the command's output to stderr. If the disk fails or fills while recording, the
samples it did not take are kept in memory and written at the end, to a temporary directory if
<file> cannot be written (the exit status is then not 0). Hosts that are this machine are
sampled natively; others over SSH (keys from ssh-agent, ~/.ssh/config and ~/.ssh/id_*; new host
keys are added to known_hosts). An unreachable host is reported and retried; the others go on.`;

export function recordCommand(): Command {
  const cmd = new Command('record')
    .description('record host metrics while a command runs (or for --duration, or until Ctrl-C)')
    .usage('[options] [-- command [args...]]')
    .argument('[command...]', 'the command to run and record (after --)')
    .passThroughOptions()
    .optionsGroup('Recording:')
    .addOption(new Option('-i, --interval <seconds>', `time between samples (e.g. 1, 0.5, 10s; ${MIN_INTERVAL_SECONDS} s to one day)`)
      .argParser(seconds(MIN_INTERVAL_SECONDS, MAX_INTERVAL_SECONDS)).default(1))
    .addOption(new Option('-o, --output <file>', "where to write (default hostseries-<UTC time>.json; .gz compresses; '-' is stdout)").argParser(fileName))
    .addOption(new Option('-f, --force', 'replace the output file if it exists (a regular file only: never a link, device or FIFO)'))
    .addOption(new Option('--format <format>', 'json (mlpstorage TimeSeriesData) or jsonl (the stream itself); default from the file name').choices(['json', 'jsonl']))
    .addOption(new Option('-d, --duration <seconds>', 'stop recording after this long (e.g. 90, 10m, 2h)').argParser(seconds(0.001)))
    .addOption(new Option('-n, --samples <N>', 'stop after N samples per host (error samples do not count; a host that is down is not waited for)').argParser(positiveInt))
    .addOption(new Option('-m, --metrics <list>', 'sections to read: diskstats, vmstat, meminfo, loadavg, netdev, stat (default all)').argParser(metricList))
    .addOption(new Option('-w, --watch <process>', 'also record this process: self, a PID, name:NAME or cmd:/REGEX/ (repeatable; the command and all it starts are recorded by default, and hostseries itself beside them)').argParser(collect))
    .addOption(new Option('--no-watch-command', "do not record the command's processes (nor hostseries' own)"))
    .addOption(new Option('--cmdline <mode>', "recorded processes' command lines: redacted (values of --password=, --token, API_KEY=, user:…@ in URLs... become ***), full, or off").choices(['redacted', 'full', 'off']).default('redacted'))
    .addOption(new Option('-q, --quiet', 'only warnings and errors; no status line').conflicts('verbose'))
    .addOption(new Option('-v, --verbose', 'say more: hosts connecting, signals, files'));
  addHostOptions(cmd, true);
  addSshOptions(cmd);
  cmd.optionsGroup('Options:');
  return cmd.addHelpText('after', EXAMPLES).action(async (command: string[], opts: RecordOptions) => {
    process.exitCode = await runRecording(command, opts);
  });
}
