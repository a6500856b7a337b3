/** SSH options of the multi-host collector, their defaults and their checks. */
import { InvalidOptionError } from '../errors.js';
import { USER_NAME_RE } from '../hosts/parse.js';
import type { StrictHostKeyChecking } from './known-hosts.js';

export interface SshOptions {
  /** Remote user when the host spec has none (`user@host` wins); else ~/.ssh/config, else the local user. */
  username?: string;
  /** Port for every host (else ~/.ssh/config's Port, else 22). */
  port?: number;
  /** Private key tried first; the config's IdentityFile keys follow. */
  privateKeyPath?: string;
  passphrase?: string;
  /** ssh-agent socket; default $SSH_AUTH_SOCK; false: never use an agent. */
  agent?: string | false;
  /**
   * known_hosts to check and append to (/etc/ssh/ssh_known_hosts is read too). Default: per host,
   * the ssh config's UserKnownHostsFile and GlobalKnownHostsFile (OpenSSH's defaults unless set).
   * The config's HostKeyAlias names the host in either case.
   */
  knownHostsPath?: string;
  /**
   * Unknown keys: 'yes' refuses them, 'accept-new' adds them, 'no' does not check; a changed key
   * is always refused. Default: the ssh config's StrictHostKeyChecking, else 'accept-new' (the
   * config's `ask`, OpenSSH's default, cannot prompt here and counts as unset).
   */
  strictHostKeyChecking?: StrictHostKeyChecking;
  /** Append new keys hashed (`|1|...`). Default false. */
  hashKnownHosts?: boolean;
  /** ssh config file (default ~/.ssh/config); false: ignore ssh config entirely. */
  configPath?: string | false;
  /** Handshake + authentication bound, and the bound on the remote loop's start (default 10). */
  connectTimeoutSeconds?: number;
  /** Connection set-ups in flight at once, handshake to first frame (default 8; sshd's MaxStartups drops excess handshakes at random). */
  maxConcurrentHandshakes?: number;
  /**
   * Keep-alive period: after each period in which nothing came from the host, a line that its
   * remote loop answers (so a hung loop counts, not only a dead sshd); 3 unanswered in a row drop
   * the connection. Default 0 (off): every tick already expects an answer, and `stallTicks`
   * unanswered ones drop the connection.
   */
  keepaliveIntervalSeconds?: number;
  /**
   * How long a tick may wait for its frame before its slot becomes an error sample (the host
   * stalled), counted from the tick; at least one interval. Several ticks may be in flight at
   * once, so a round trip longer than the interval costs nothing. Default 3.
   */
  stallTimeoutSeconds?: number;
  /** Ticks in a row that hit stallTimeoutSeconds before the connection is re-made (default: 10 s worth, at least 3). */
  stallTicks?: number;
  /** The remote loop exits after this many ticks without one (default: 30 s worth, at least 10 s). */
  deadmanTicks?: number;
  /** Reconnect backoff, doubling from initial to max, with jitter (default 1 and 30 s). */
  backoffInitialSeconds?: number;
  backoffMaxSeconds?: number;
  /** 'auto' runs the loop under bash when the remote has it (cheaper reads), else /bin/sh. */
  remoteShell?: 'auto' | 'sh';
}

export interface ResolvedSshOptions
  extends Required<Omit<SshOptions, 'username' | 'port' | 'privateKeyPath' | 'passphrase' | 'agent' | 'knownHostsPath' | 'strictHostKeyChecking'>> {
  username?: string;
  port?: number;
  privateKeyPath?: string;
  passphrase?: string;
  agent?: string;
  knownHostsPath?: string;
  /** Only when the caller set it: otherwise each host's ssh config decides (then 'accept-new'). */
  strictHostKeyChecking?: StrictHostKeyChecking;
}

function num(name: string, v: unknown, min: number, integer = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || (integer && !Number.isInteger(v))) {
    throw new InvalidOptionError(`ssh.${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}, got ${String(v)}`);
  }
  return v;
}

function str(name: string, v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !v) throw new InvalidOptionError(`ssh.${name} must be a non-empty string, got ${typeof v === 'bigint' ? `${v}n` : (JSON.stringify(v) ?? typeof v)}`);
  return v;
}

export function resolveSshOptions(o: SshOptions = {}, intervalSeconds: number): ResolvedSshOptions {
  if (typeof o !== 'object' || o === null) throw new InvalidOptionError('ssh must be an object');
  const policy = o.strictHostKeyChecking;
  if (policy !== undefined && policy !== 'yes' && policy !== 'accept-new' && policy !== 'no') {
    throw new InvalidOptionError(`ssh.strictHostKeyChecking must be 'yes', 'accept-new' or 'no', got ${JSON.stringify(policy)}`);
  }
  const shell = o.remoteShell ?? 'auto';
  if (shell !== 'auto' && shell !== 'sh') throw new InvalidOptionError(`ssh.remoteShell must be 'auto' or 'sh', got ${JSON.stringify(shell)}`);
  const username = str('username', o.username);
  if (username !== undefined && !USER_NAME_RE.test(username)) {
    throw new InvalidOptionError(`ssh.username ${JSON.stringify(username)} is not a valid user name`);
  }
  if (o.configPath !== undefined && o.configPath !== false) str('configPath', o.configPath);
  const agent = o.agent === false ? undefined : (str('agent', o.agent) ?? (process.env.SSH_AUTH_SOCK || undefined));
  const backoffInitialSeconds = num('backoffInitialSeconds', o.backoffInitialSeconds ?? 1, 0.01);
  const backoffMaxSeconds = num('backoffMaxSeconds', o.backoffMaxSeconds ?? 30, backoffInitialSeconds);
  return {
    username,
    port: o.port === undefined ? undefined : num('port', o.port, 1, true),
    privateKeyPath: str('privateKeyPath', o.privateKeyPath),
    passphrase: o.passphrase,
    agent,
    knownHostsPath: str('knownHostsPath', o.knownHostsPath),
    strictHostKeyChecking: policy,
    hashKnownHosts: o.hashKnownHosts ?? false,
    configPath: o.configPath ?? '',
    connectTimeoutSeconds: num('connectTimeoutSeconds', o.connectTimeoutSeconds ?? 10, 0.1),
    maxConcurrentHandshakes: num('maxConcurrentHandshakes', o.maxConcurrentHandshakes ?? 8, 1, true),
    keepaliveIntervalSeconds: num('keepaliveIntervalSeconds', o.keepaliveIntervalSeconds ?? 0, 0),
    stallTimeoutSeconds: num('stallTimeoutSeconds', o.stallTimeoutSeconds ?? 3, 0.01),
    stallTicks: num('stallTicks', o.stallTicks ?? Math.max(3, Math.ceil(10 / intervalSeconds)), 1, true),
    deadmanTicks: num('deadmanTicks', o.deadmanTicks ?? Math.max(3, Math.ceil(30 / intervalSeconds)), 1, true),
    backoffInitialSeconds,
    backoffMaxSeconds,
    remoteShell: shell,
  };
}
