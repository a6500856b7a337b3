/** SSH options of the multi-host collector, their defaults and their checks. */
import { InvalidOptionError } from '../errors.js';
import { USER_NAME_RE } from '../hosts/parse.js';
import type { SshOptions, StrictHostKeyChecking } from '../types/hosts.js';

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
