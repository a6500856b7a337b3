/**
 * Requested hosts → what to do with each: sample it natively (this machine) or connect to it
 * (address, port, user and keys from the options and ~/.ssh/config).
 */
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { isLocalhost } from '../hosts/localhost.js';
import type { ParsedKey } from 'ssh2';
import type { KeyStore } from './keys.js';
import type { ResolvedSshOptions } from './options.js';
import { hostKeyPolicy, resolveSshConfig } from './ssh-config.js';
import type { HostEntry, ResolvedSshConfig, StrictHostKeyChecking } from '../types/hosts.js';

/** How one host's key is checked: OpenSSH's files and policy as the options and ssh config say. */
export interface HostKeyCheck {
  /** Read in order; new keys are appended to the first. */
  userFiles: string[];
  /** Read only. */
  globalFiles: string[];
  policy: StrictHostKeyChecking;
  /** HostKeyAlias: the known_hosts name used instead of `host` / `[host]:port`. */
  alias?: string;
}

const DEFAULT_GLOBAL_KNOWN_HOSTS = ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'];

export interface LocalTarget {
  kind: 'local';
  key: string;
  entry: HostEntry;
}

export interface RemoteTarget {
  kind: 'ssh';
  key: string;
  entry: HostEntry;
  address: string;
  port: number;
  username: string;
  keys: ParsedKey[];
  agent?: string;
  hostKey: HostKeyCheck;
  /** Things the user should know (an ignored ProxyJump, an unusable key). */
  warnings: string[];
}

export type Target = LocalTarget | RemoteTarget;

/** The key of each entry in samples_by_host: the host as written, `user@host` only to tell two apart. */
export function hostKeys(entries: readonly HostEntry[]): string[] {
  const count = new Map<string, number>();
  for (const e of entries) count.set(e.host.toLowerCase(), (count.get(e.host.toLowerCase()) ?? 0) + 1);
  return entries.map((e) => ((count.get(e.host.toLowerCase()) ?? 0) > 1 && e.user ? `${e.user}@${e.host}` : e.host));
}

function localUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'root';
  }
}

/** Run `f` over `items` with at most `limit` at once, results in order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, f: (t: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await f(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export async function resolveTargets(
  entries: readonly HostEntry[],
  ssh: ResolvedSshOptions,
  forceSsh: boolean,
  keyStore: KeyStore,
): Promise<Target[]> {
  const keys = hostKeys(entries);
  return mapLimit(entries, 8, async (entry, i): Promise<Target> => {
    const key = keys[i];
    if (!forceSsh && (await isLocalhost(entry.host))) return { kind: 'local', key, entry };
    const warnings: string[] = [];
    let cfg: ResolvedSshConfig | undefined;
    if (ssh.configPath !== false) {
      cfg = await resolveSshConfig(entry.host, { configPath: ssh.configPath || undefined });
      warnings.push(...cfg.warnings);
      if (cfg.proxy) warnings.push(`${key}: ProxyJump/ProxyCommand (${cfg.proxy}) in the ssh config is not followed; connecting directly`);
    }
    const parsed: ParsedKey[] = [];
    const explicit = ssh.privateKeyPath ? keyStore.get(ssh.privateKeyPath, true) : undefined;
    if (explicit) parsed.push(explicit.key);
    const files = cfg?.identityFiles ?? ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((f) => join(homedir(), '.ssh', f));
    // With an explicit key and no IdentityFile of the user's own, ssh's default key files are noise.
    if (!explicit || cfg?.identityFilesExplicit) {
      for (const f of files) {
        const k = keyStore.get(f, cfg?.identityFilesExplicit ?? false);
        if (k && !parsed.includes(k.key)) parsed.push(k.key);
      }
    }
    return {
      kind: 'ssh',
      key,
      entry,
      address: cfg?.hostname ?? entry.host,
      port: ssh.port ?? cfg?.port ?? 22,
      username: entry.user ?? ssh.username ?? cfg?.user ?? localUser(),
      keys: parsed,
      // IdentitiesOnly: the agent's other keys must not be offered (ssh2 cannot filter them).
      agent: cfg?.identitiesOnly && parsed.length > 0 ? undefined : ssh.agent,
      hostKey: hostKeyCheck(ssh, cfg),
      warnings,
    };
  });
}

/**
 * As `ssh` would check this host: ssh.knownHostsPath and ssh.strictHostKeyChecking act like
 * `-o UserKnownHostsFile=` and `-o StrictHostKeyChecking=` (they win over the config); otherwise
 * the config's UserKnownHostsFile/GlobalKnownHostsFile and StrictHostKeyChecking, then OpenSSH's
 * default files and 'accept-new'. HostKeyAlias (config only) names the host in every case.
 */
export function hostKeyCheck(ssh: Pick<ResolvedSshOptions, 'knownHostsPath' | 'strictHostKeyChecking'>, cfg: ResolvedSshConfig | undefined): HostKeyCheck {
  const home = join(homedir(), '.ssh');
  const userFiles = ssh.knownHostsPath
    ? [ssh.knownHostsPath]
    : cfg?.userKnownHostsFiles?.length
      ? cfg.userKnownHostsFiles
      : [join(home, 'known_hosts'), join(home, 'known_hosts2')];
  const globalFiles = !ssh.knownHostsPath && cfg?.globalKnownHostsFiles?.length ? cfg.globalKnownHostsFiles : DEFAULT_GLOBAL_KNOWN_HOSTS;
  return {
    userFiles: userFiles.filter((f) => f.toLowerCase() !== 'none'),
    globalFiles: globalFiles.filter((f) => f.toLowerCase() !== 'none'),
    policy: ssh.strictHostKeyChecking ?? hostKeyPolicy(cfg?.strictHostKeyChecking) ?? 'accept-new',
    ...(cfg?.hostKeyAlias ? { alias: cfg.hostKeyAlias } : {}),
  };
}
