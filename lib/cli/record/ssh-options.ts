/** The SSH options of `record`, mapped onto the multi-host collector's `ssh` options. */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { accessSync, constants, statSync } from 'node:fs';
import { positiveInt, seconds } from '../parse-args.js';
import type { SshOptions } from '../../types/hosts.js';

export interface SshCliOptions {
  user?: string;
  port?: number;
  identity?: string;
  knownHosts?: string;
  strictHostKeyChecking?: 'yes' | 'accept-new' | 'no';
  sshConfig?: string | false;
  connectTimeout?: number;
  maxHandshakes?: number;
  forceSsh?: boolean;
}

function port(value: string): number {
  const n = positiveInt(value);
  if (n > 65535) throw new InvalidArgumentError('Expected a port number from 1 to 65535.');
  return n;
}

/** --identity names a key the user means: a file that is not there is an error now, not a warning mid-run. */
function readableFile(value: string): string {
  if (value === '') throw new InvalidArgumentError('Expected a private key file, not an empty string.');
  try {
    accessSync(value, constants.R_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InvalidArgumentError(code === 'ENOENT' ? `No such file: ${value}.` : `Cannot read ${value}: ${(e as Error).message}.`);
  }
  if (!statSync(value).isFile()) throw new InvalidArgumentError(`${value} is not a file.`);
  return value;
}

export function addSshOptions(cmd: Command): Command {
  cmd.optionsGroup('SSH (remote hosts):');
  cmd.addOption(new Option('--user <name>', 'remote user when the host has no user@ (else ~/.ssh/config, else yours)'));
  cmd.addOption(new Option('--port <n>', 'SSH port for every host (else ~/.ssh/config, else 22)').argParser(port));
  cmd.addOption(new Option('--identity <path>', 'private key to try first (as ssh -i)').argParser(readableFile));
  cmd.addOption(new Option('--known-hosts <path>', 'known_hosts file (default: the ssh config\'s, else ~/.ssh/known_hosts)'));
  cmd.addOption(new Option('--strict-host-key-checking <policy>',
    'unknown host keys: accept-new adds them, yes refuses them, no skips checks (default: the ssh config\'s, else accept-new)')
    .choices(['yes', 'accept-new', 'no']));
  cmd.addOption(new Option('--ssh-config <path>', 'ssh config file (default ~/.ssh/config)'));
  cmd.addOption(new Option('--no-ssh-config', 'ignore ssh config files'));
  cmd.addOption(new Option('--connect-timeout <seconds>', 'bound on connecting to a host').argParser(seconds(0.1, 86_400)).default(10));
  cmd.addOption(new Option('--max-handshakes <n>', 'SSH handshakes in flight at once').argParser(positiveInt).default(8));
  cmd.addOption(new Option('--force-ssh', 'reach this machine over SSH too (never natively)'));
  return cmd;
}

export function sshOptions(o: SshCliOptions): SshOptions {
  return {
    username: o.user,
    port: o.port,
    privateKeyPath: o.identity,
    knownHostsPath: o.knownHosts,
    strictHostKeyChecking: o.strictHostKeyChecking,
    // commander: undefined (no flag), a path, or false (--no-ssh-config).
    configPath: o.sshConfig,
    connectTimeoutSeconds: o.connectTimeout,
    maxConcurrentHandshakes: o.maxHandshakes,
  };
}
