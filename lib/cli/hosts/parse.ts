/** `hostseries hosts parse SPEC`: how a host spec is read: the hosts, which are this machine, their slots. */
import { Command, Option } from 'commander';
import { formatHost } from '../../hosts/parse.js';
import { isLocalhost } from '../../hosts/localhost.js';
import { UsageError } from '../exit.js';
import { table } from '../view/format.js';
import { addHostOptions, hostEntries, type HostSourceOptions } from '../host-options.js';

interface ParseOptions extends HostSourceOptions {
  json?: boolean;
}

const EXAMPLES = `
Examples:
  $ hostseries hosts parse 'node[01-04]:8,login1'
  $ hostseries hosts parse 'alice@gpu[1-2,7]' '[fe80::1]' localhost
  $ hostseries hosts parse --hostfile hosts.txt --json

A spec is a comma or space separated list; host:N and slots=N are slot counts (never ports);
node[01-16,20] ranges expand as Slurm does; duplicates are dropped, first-seen order kept.
Hosts that are this machine are sampled natively, the others over SSH.
('hostseries hosts SPEC', the older form, still works.)`;

export function parseCommand(): Command {
  const cmd = new Command('parse')
    .description('show how a host spec is parsed: hosts, local or remote, slots')
    .argument('[spec...]', 'host specs (joined as one list)')
    .addOption(new Option('--json', 'print the list as JSON'))
    .addHelpText('after', EXAMPLES);
  addHostOptions(cmd, false);
  return cmd.action(async (specs: string[], opts: ParseOptions) => {
    if (specs.length === 0 && !opts.hostfile && !opts.slurm) throw new UsageError('give a host spec, --hostfile or --slurm');
    const entries = hostEntries(opts, specs);
    const local = await Promise.all(entries.map((e) => isLocalhost(e.host)));
    if (opts.json) {
      const list = entries.map((e, i) => ({
        host: e.host,
        user: e.user ?? null,
        slots: e.slots ?? null,
        max_slots: e.maxSlots ?? null,
        local: local[i],
        raw: e.raw,
      }));
      process.stdout.write(JSON.stringify(list, null, 2) + '\n');
      return;
    }
    const rows = [['HOST', 'SLOTS', 'WHERE'], ...entries.map((e, i) => [
      formatHost(e),
      slotText(e.slots, e.maxSlots),
      local[i] ? 'local (native)' : 'remote (ssh)',
    ])];
    const nLocal = local.filter(Boolean).length;
    const lines = entries.length > 0 ? table(rows) : [];
    lines.push(`${entries.length} host${entries.length === 1 ? '' : 's'}: ${nLocal} local, ${entries.length - nLocal} remote`);
    process.stdout.write(lines.join('\n') + '\n');
  });
}

function slotText(slots: number | undefined, maxSlots: number | undefined): string {
  const s = slots === undefined ? '-' : String(slots);
  return maxSlots === undefined ? s : `${s} (max ${maxSlots})`;
}
