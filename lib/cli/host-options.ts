/** The host options shared by `record` and `hosts`: -H specs, --hostfile, --slurm. */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { hostsFromSlurm, parseHostfile, parseHosts } from '../hosts/parse.js';
import { UsageError } from './exit.js';
import { collect, fileName } from './parse-args.js';
import type { HostEntry } from '../types/hosts.js';

export interface HostSourceOptions {
  hosts?: string[];
  hostfile?: string[];
  slurm?: boolean;
}

/** -H '' names no host: an error, as the library's empty host is (not "this host" by default). */
function hostSpec(value: string, previous: string[] | undefined): string[] {
  if (value.trim() === '') throw new InvalidArgumentError('Expected a host spec, not an empty string.');
  return collect(value, previous);
}

export function addHostOptions(cmd: Command, withSpecOption: boolean): Command {
  cmd.optionsGroup('Hosts:');
  if (withSpecOption) {
    cmd.addOption(new Option('-H, --hosts <spec>', "hosts: 'a,b', 'node[01-16]', 'user@host', 'host:slots' (repeatable)").argParser(hostSpec));
  }
  cmd.addOption(new Option('--hostfile <path>', 'Open MPI / MPICH hostfile (repeatable)').argParser((v: string, prev: string[] | undefined) => collect(fileName(v), prev)));
  cmd.addOption(new Option('--slurm', 'the nodes of the current Slurm job ($SLURM_JOB_NODELIST)'));
  return cmd;
}

/** Every host named by the options and `specs`, deduplicated, first-seen order kept. */
export function hostEntries(opts: HostSourceOptions, specs: readonly string[] = []): HostEntry[] {
  const lists: HostEntry[][] = [];
  const all = [...specs, ...(opts.hosts ?? [])];
  if (all.length > 0) lists.push(parseHosts(all));
  for (const f of opts.hostfile ?? []) lists.push(parseHostfile(f));
  if (opts.slurm) {
    const slurm = hostsFromSlurm();
    if (!slurm) throw new UsageError('--slurm: not inside a Slurm job (SLURM_JOB_NODELIST is not set)');
    lists.push(slurm);
  }
  const seen = new Set<string>();
  const out: HostEntry[] = [];
  for (const e of lists.flat()) {
    const key = `${e.user ?? ''}@${e.host.toLowerCase()}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(e);
  }
  return out;
}
