/**
 * The commander program: the commands, and argument errors shown as one line plus the
 * command's usage, exit status 2.
 */
import { Command, CommanderError } from 'commander';
import { agentCommand } from './agent/index.js';
import { convertCommand } from './convert.js';
import { hostsCommand } from './hosts.js';
import { writeInfoToStdout } from './output.js';
import { recordCommand } from './record/index.js';
import { reportCommand } from './report/index.js';
import { sampleCommand } from './sample/index.js';
import { serveCommand } from './serve/index.js';
import { showCommand } from './show/index.js';
import { exportCommand } from './export/index.js';
import { compareCommand } from './compare/index.js';
import { watchCommand } from './watch/index.js';
import { summaryCommand } from './summary/index.js';
import { packageVersion } from './version.js';

/** An argument error commander found, with the command it belongs to. */
export class CliUsageError extends Error {
  constructor(readonly command: Command, readonly commanderError: CommanderError) {
    super(commanderError.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' '));
  }
}

const EXAMPLES = `
Examples:
  $ hostseries record -- fio job.fio
  $ hostseries record -H 'node[01-16]' -o run.json -- mpirun ./bench
  $ hostseries summary run.json
  $ hostseries show run.json --disk               # per-interval rows, as sar -f / iostat -x
  $ hostseries watch --disk                        # live, as iostat -x 1
  $ hostseries export run.json -f csv --rates --wide -o rates.csv
  $ hostseries compare before.json after.json
  $ hostseries report run.json -o run.html        # charts in one self-contained page
  $ hostseries convert run.partial.jsonl          # finalise a recording that was killed
  $ hostseries sample
  $ hostseries hosts parse 'node[01-04]:8'
  $ hostseries hosts list --server http://10.0.0.5:9000
  $ HOSTSERIES_TOKEN=... hostseries serve --listen 0.0.0.0:9000
  $ hostseries agent --server http://aggregator:9000 --token-file /etc/hostseries/token

Run 'hostseries <command> --help' for a command's options and examples.`;

export function fullName(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

export function usageLine(cmd: Command): string {
  return `Usage: ${fullName(cmd)} ${cmd.usage()}`;
}

export interface Program {
  program: Command;
  /** The command whose action is running (for the usage line of an error it throws). */
  active: () => Command;
}

export function buildProgram(): Program {
  const program = new Command('hostseries')
    .description('Record time series of Linux host metrics while a benchmark runs, on one node or a cluster over SSH.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .enablePositionalOptions()
    .addHelpText('after', EXAMPLES);
  for (const c of [recordCommand(), sampleCommand(), summaryCommand(), showCommand(), exportCommand(), compareCommand(), watchCommand(), reportCommand(), convertCommand(), hostsCommand(), serveCommand(), agentCommand()]) program.addCommand(c);
  // Commander's own error output is replaced by ours (one line, then the usage).
  for (const c of [program, ...program.commands]) {
    c.configureOutput({ outputError: () => undefined, writeOut: writeInfoToStdout });
    c.exitOverride((err) => {
      if (err.exitCode === 0) throw err; // --help, --version
      throw new CliUsageError(c, err);
    });
  }
  let active: Command = program;
  program.hook('preAction', (_program, action) => {
    active = action;
  });
  return { program, active: () => active };
}
