/** Host lists, SSH options, ssh_config results and host-key verdicts. */
import type { SshError } from '../errors.js';

export interface HostEntry {
  /** Host name or address, without brackets (`::1`, not `[::1]`). */
  host: string;
  user?: string;
  /** `host:N`, `slots=N`: a process slot count, never a port. */
  slots?: number;
  maxSlots?: number;
  /** The token as written (a range token for every host it expands to). */
  raw: string;
}

export interface ParseHostsOptions {
  /** Refuse a spec that expands to more hosts than this (default 100000). */
  maxHosts?: number;
  /** Named in error messages (e.g. a hostfile path). */
  source?: string;
}

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

export type StrictHostKeyChecking = 'yes' | 'accept-new' | 'no';

export type HostKeyVerdict =
  | { ok: true; status: 'known' | 'added' | 'unchecked' }
  | { ok: false; error: SshError };

export interface ResolvedSshConfig {
  hostname: string;
  user?: string;
  port?: number;
  /** IdentityFile values, `~` and `%` tokens expanded, in order. */
  identityFiles: string[];
  /** True when the config named them (not ssh's built-in defaults). */
  identityFilesExplicit: boolean;
  userKnownHostsFiles?: string[];
  globalKnownHostsFiles?: string[];
  /** StrictHostKeyChecking as written (`ssh -G` says true/false/ask/accept-new); see hostKeyPolicy(). */
  strictHostKeyChecking?: string;
  /** HostKeyAlias: the name the host key is looked up (and stored) under, instead of `[host]:port`. */
  hostKeyAlias?: string;
  identitiesOnly?: boolean;
  /** ProxyJump/ProxyCommand are not followed by ssh2; recorded so the caller can say so. */
  proxy?: string;
  source: 'ssh -G' | 'parser' | 'none';
  /** Why `ssh -G` could not be used (its own error text), when the fallback parser answered instead. */
  warnings: string[];
}

export interface SshConfigOptions {
  /** Config file (`ssh -F`); default ~/.ssh/config. */
  configPath?: string;
  /** The ssh binary; false never runs it. Default 'ssh' from PATH when present. */
  sshBinary?: string | false;
  /** Kill `ssh -G` after this long (ms). */
  timeoutMs?: number;
}
