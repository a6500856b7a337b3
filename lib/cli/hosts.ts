/**
 * `hostseries hosts`: the hosts a `hostseries serve` knows (`list`, `show HOST`, `compare HOST
 * HOST...`: online or not, tags, last seen, headline rates of the last minutes), and `parse SPEC`,
 * how a host spec is read. `hostseries hosts SPEC`, the older form of `parse`, still works (a
 * one-line note on stderr).
 */
import { Command, Option } from 'commander';
import { writeStderr } from './output.js';
import { UsageError } from './exit.js';
import { table } from './view/format.js';
import { ServerClient, type HostJson, type ServerOptions } from './hosts/client.js';
import { headlines, type Headline } from './hosts/headline.js';
import { parseCommand } from './hosts/parse.js';

interface ReadOptions extends ServerOptions {
  json?: boolean;
  last: string;
}

const SERVER_HELP = `
The server: --server URL or HOSTSERIES_SERVER. Its read token (when it has one): HOSTSERIES_TOKEN
or --token-file FILE. An https server whose certificate is not in the system's store: give its CA
with NODE_EXTRA_CA_CERTS=FILE. Rates are averages over --last (default 5m): CPU busy %, memory
used %, disk MB/s read + written (whole disks), network MB/s received + sent (all but lo).`;

function withServerOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--server <url>', 'the hostseries serve to ask (default: HOSTSERIES_SERVER)'))
    .addOption(new Option('--token-file <file>', 'its read token, from a file (default: HOSTSERIES_TOKEN)'))
    .addOption(new Option('--last <duration>', 'rates averaged over this much of the latest time (30s, 5m, 1h)').default('5m'))
    .addOption(new Option('--json', 'print JSON'));
}

function lastOf(v: string): string {
  if (!/^\d+(\.\d+)?(ms|s|m|h|d)$/.test(v)) throw new UsageError(`--last: expected a duration such as 30s, 5m or 1h, got ${JSON.stringify(v)}`);
  return `-${v}`;
}

const fixed = (v: number | null, digits = 1): string => (v === null ? '-' : v.toFixed(digits));

/** `12s ago`, `3m ago`, `2h ago`, `4d ago`. */
export function ago(iso: string, nowMs = Date.now()): string {
  const s = Math.max(0, Math.round((nowMs - Date.parse(iso)) / 1000));
  if (s < 120) return `${s}s ago`;
  if (s < 7200) return `${Math.round(s / 60)}m ago`;
  if (s < 172_800) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86_400)}d ago`;
}

const tagText = (tags: Record<string, string>): string => Object.entries(tags).map(([k, v]) => `${k}=${v}`).join(',') || '-';
const state = (h: HostJson): string => (h.online ? 'online' : 'offline');

function headlineJson(h: Headline | undefined): Record<string, number | null> {
  return { cpu_pct: h?.cpuPct ?? null, mem_used_pct: h?.memPct ?? null, disk_MB_s: h?.diskMBs ?? null, net_MB_s: h?.netMBs ?? null };
}

async function hostsOf(c: ServerClient, names: readonly string[]): Promise<HostJson[]> {
  return Promise.all(names.map((n) => c.get<HostJson>(`/api/v1/hosts/${encodeURIComponent(n)}`)));
}

function listCommand(): Command {
  const cmd = withServerOptions(new Command('list').description('the hosts a hostseries serve knows: online or not, tags, last seen, headline rates'));
  cmd.addHelpText('after', `\nExamples:\n  $ HOSTSERIES_SERVER=http://10.0.0.5:9000 hostseries hosts list\n  $ hostseries hosts list --server https://agg:9000 --token-file ~/.hostseries-token --json\n${SERVER_HELP}`);
  return cmd.action(async (opts: ReadOptions) => {
    const from = lastOf(opts.last);
    const c = ServerClient.from(opts);
    const { hosts } = await c.get<{ hosts: HostJson[] }>('/api/v1/hosts');
    const rates = await headlines(c, hosts, from);
    if (opts.json) {
      process.stdout.write(JSON.stringify(hosts.map((h) => ({ ...h, rates: headlineJson(rates.get(h.hostname)) })), null, 2) + '\n');
      return;
    }
    const now = Date.now();
    const rows = [['HOST', 'STATE', 'LAST SEEN', 'CPU %', 'MEM %', 'DISK MB/s', 'NET MB/s', 'TAGS'], ...hosts.map((h) => {
      const r = rates.get(h.hostname);
      return [h.hostname, state(h), ago(h.last_seen, now), fixed(r?.cpuPct ?? null), fixed(r?.memPct ?? null), fixed(r?.diskMBs ?? null, 2), fixed(r?.netMBs ?? null, 2), tagText(h.tags)];
    })];
    const online = hosts.filter((h) => h.online).length;
    const lines = hosts.length > 0 ? table(rows, ['left', 'left', 'left', 'right', 'right', 'right', 'right', 'left']) : [];
    lines.push(`${hosts.length} host${hosts.length === 1 ? '' : 's'}: ${online} online, ${hosts.length - online} offline (rates: the last ${opts.last})`);
    process.stdout.write(lines.join('\n') + '\n');
  });
}

function showCommand(): Command {
  const cmd = withServerOptions(new Command('show').description('one host in detail').argument('<host>', 'its hostname'));
  cmd.addHelpText('after', `\nExamples:\n  $ hostseries hosts show node01 --server http://10.0.0.5:9000\n${SERVER_HELP}`);
  return cmd.action(async (name: string, opts: ReadOptions) => {
    const from = lastOf(opts.last);
    const c = ServerClient.from(opts);
    const [h] = await hostsOf(c, [name]);
    const r = (await headlines(c, [h], from)).get(h.hostname);
    if (opts.json) {
      process.stdout.write(JSON.stringify({ ...h, rates: headlineJson(r) }, null, 2) + '\n');
      return;
    }
    const rows = [
      ['host', h.hostname],
      ['state', `${state(h)} (offline after ${h.offline_after_seconds} s without a push)`],
      ['last seen', `${h.last_seen} (${ago(h.last_seen)})`],
      ['first seen', h.first_seen],
      ['tags', tagText(h.tags)],
      ['agent', h.agent_version ?? '-'],
      ['push interval', h.push_interval_seconds === null ? '-' : `${h.push_interval_seconds} s`],
      ['samples', `${h.samples}${h.first_sample ? ` (${h.first_sample} to ${h.last_sample})` : ''}`],
      ['disks', h.disks.join(' ') || '-'],
      ['interfaces', h.interfaces.join(' ') || '-'],
      [`CPU busy % (last ${opts.last})`, fixed(r?.cpuPct ?? null)],
      [`memory used % (last ${opts.last})`, fixed(r?.memPct ?? null)],
      [`disk MB/s (last ${opts.last})`, fixed(r?.diskMBs ?? null, 2)],
      [`network MB/s (last ${opts.last})`, fixed(r?.netMBs ?? null, 2)],
    ];
    process.stdout.write(table(rows).join('\n') + '\n');
  });
}

function compareCommand(): Command {
  const cmd = withServerOptions(new Command('compare').description('hosts side by side').argument('<hosts...>', 'two or more hostnames'));
  cmd.addHelpText('after', `\nExamples:\n  $ hostseries hosts compare node01 node02 node03 --last 15m\n${SERVER_HELP}`);
  return cmd.action(async (names: string[], opts: ReadOptions) => {
    if (names.length < 2) throw new UsageError('compare needs two hosts or more');
    const from = lastOf(opts.last);
    const c = ServerClient.from(opts);
    const hosts = await hostsOf(c, names);
    const rates = await headlines(c, hosts, from);
    if (opts.json) {
      process.stdout.write(JSON.stringify(hosts.map((h) => ({ ...h, rates: headlineJson(rates.get(h.hostname)) })), null, 2) + '\n');
      return;
    }
    const now = Date.now();
    const col = (f: (h: HostJson, r: Headline | undefined) => string): string[] => hosts.map((h) => f(h, rates.get(h.hostname)));
    const rows = [
      ['', ...hosts.map((h) => h.hostname)],
      ['state', ...col((h) => state(h))],
      ['last seen', ...col((h) => ago(h.last_seen, now))],
      ['tags', ...col((h) => tagText(h.tags))],
      ['samples', ...col((h) => String(h.samples))],
      ['CPU busy %', ...col((_h, r) => fixed(r?.cpuPct ?? null))],
      ['memory used %', ...col((_h, r) => fixed(r?.memPct ?? null))],
      ['disk MB/s', ...col((_h, r) => fixed(r?.diskMBs ?? null, 2))],
      ['network MB/s', ...col((_h, r) => fixed(r?.netMBs ?? null, 2))],
    ];
    const lines = table(rows, ['left', ...hosts.map(() => 'right' as const)]);
    lines.push(`(rates: averages over the last ${opts.last})`);
    process.stdout.write(lines.join('\n') + '\n');
  });
}

const EXAMPLES = `
Examples:
  $ hostseries hosts list --server http://10.0.0.5:9000
  $ hostseries hosts show node01
  $ hostseries hosts compare node01 node02
  $ hostseries hosts parse 'node[01-04]:8,login1'`;

export function hostsCommand(): Command {
  const parse = parseCommand();
  const cmd = new Command('hosts')
    .description('the hosts a hostseries serve knows (list, show, compare), or how a host spec is parsed (parse)')
    .addCommand(listCommand())
    .addCommand(showCommand())
    .addCommand(compareCommand())
    // `hostseries hosts SPEC` (the older form) goes to parse.
    .addCommand(parse, { isDefault: true })
    .addHelpText('after', EXAMPLES);
  cmd.hook('preSubcommand', (self, sub) => {
    if (sub === parse && self.args.length > 0 && self.args[0] !== 'parse') {
      writeStderr("hostseries: note: 'hostseries hosts SPEC' is now 'hostseries hosts parse SPEC'\n");
    }
  });
  return cmd;
}
