/**
 * What `~/.ssh/config` says about a host. `ssh -G` resolves it as OpenSSH itself does (Include,
 * Match, canonicalisation) and is used when the binary exists; otherwise a small parser of
 * `Host` blocks (patterns, `!` negation, first value wins, `Include`; `Match` blocks skipped).
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { globToRegExp } from './glob.js';
import type { ResolvedSshConfig, SshConfigOptions, StrictHostKeyChecking } from '../types/hosts.js';

const DEFAULT_IDENTITIES = ['~/.ssh/id_ed25519', '~/.ssh/id_ecdsa', '~/.ssh/id_rsa'];

let sshOnPath: boolean | undefined;
function haveSsh(bin: string): boolean {
  if (bin !== 'ssh') return existsSync(bin);
  sshOnPath ??= (process.env.PATH ?? '').split(':').some((d) => d && existsSync(join(d, 'ssh')));
  return sshOnPath;
}

/**
 * StrictHostKeyChecking of an ssh config as our policy. `ask` (OpenSSH's default, which `ssh -G`
 * prints whether or not the config says it) cannot prompt here: it counts as unset, like an
 * unknown value, and the caller's default applies.
 */
export function hostKeyPolicy(value: string | undefined): StrictHostKeyChecking | undefined {
  switch (value?.toLowerCase()) {
    case 'yes':
    case 'true':
      return 'yes';
    case 'no':
    case 'false':
    case 'off':
      return 'no';
    case 'accept-new':
      return 'accept-new';
    default:
      return undefined;
  }
}

/**
 * Resolve `host` (already validated by parseHosts: no metacharacter, no leading '-'). When `ssh -G`
 * fails, the fallback parser answers and `warnings` holds ssh's error (a config ssh rejects is
 * one the user should hear about: the parser may read it differently).
 */
export async function resolveSshConfig(host: string, opts: SshConfigOptions = {}): Promise<ResolvedSshConfig> {
  const bin = opts.sshBinary === undefined ? 'ssh' : opts.sshBinary;
  const configPath = opts.configPath ?? join(homedir(), '.ssh', 'config');
  if (bin && haveSsh(bin)) {
    try {
      return await viaSshG(bin, host, opts);
    } catch (e) {
      const r = viaParser(host, configPath);
      r.warnings.push(`${host}: \`${bin} -G\` failed (${e instanceof Error ? e.message : String(e)}); using hostseries' own reading of ${configPath} (Match blocks are not evaluated)`);
      return r;
    }
  }
  return viaParser(host, configPath);
}

/** ssh's own message (its stderr, without the tty notice), else the process error. */
function sshErrorText(err: Error & { killed?: boolean }, stderr: string): string {
  const lines = stderr.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !/^Pseudo-terminal will not be allocated/.test(l));
  if (lines.length) return lines.join('; ');
  if (err.killed) return 'timed out';
  return err.message.split('\n')[0] ?? 'failed';
}

function viaSshG(bin: string, host: string, opts: SshConfigOptions): Promise<ResolvedSshConfig> {
  const args = ['-G'];
  if (opts.configPath) args.push('-F', opts.configPath);
  args.push('--', host);
  return new Promise((resolve, reject) => {
    execFile(bin, args, { timeout: opts.timeoutMs ?? 5000, maxBuffer: 1 << 20, env: process.env }, (err, stdout, stderr) => {
      if (err) return reject(new Error(sshErrorText(err, stderr)));
      const kv = new Map<string, string[]>();
      for (const line of stdout.split('\n')) {
        const sp = line.indexOf(' ');
        if (sp <= 0) continue;
        const k = line.slice(0, sp).toLowerCase();
        const list = kv.get(k) ?? [];
        list.push(line.slice(sp + 1).trim());
        kv.set(k, list);
      }
      const one = (k: string) => kv.get(k)?.[0];
      const ids = (kv.get('identityfile') ?? []).map((p) => expandPath(p, host));
      const explicit = !sameList(kv.get('identityfile') ?? [], ['~/.ssh/id_rsa', '~/.ssh/id_ecdsa', '~/.ssh/id_ecdsa_sk', '~/.ssh/id_ed25519', '~/.ssh/id_ed25519_sk', '~/.ssh/id_xmss', '~/.ssh/id_dsa']);
      const proxyJump = one('proxyjump');
      const proxyCommand = one('proxycommand');
      const port = Number(one('port'));
      resolve({
        hostname: one('hostname') ?? host,
        user: one('user'),
        port: Number.isInteger(port) && port > 0 ? port : undefined,
        identityFiles: ids,
        identityFilesExplicit: explicit,
        userKnownHostsFiles: splitFiles(kv.get('userknownhostsfile'), host),
        globalKnownHostsFiles: splitFiles(kv.get('globalknownhostsfile'), host),
        strictHostKeyChecking: one('stricthostkeychecking'),
        hostKeyAlias: keyAlias(one('hostkeyalias')),
        identitiesOnly: one('identitiesonly') === 'yes',
        proxy: proxyJump && proxyJump !== 'none' ? proxyJump : proxyCommand && proxyCommand !== 'none' ? proxyCommand : undefined,
        source: 'ssh -G',
        warnings: [],
      });
    });
  });
}

/** A HostKeyAlias usable as a known_hosts name (one token, no list separator). */
function keyAlias(v: string | undefined): string | undefined {
  return v && v.toLowerCase() !== 'none' && /^[^\s,#]+$/.test(v) ? v : undefined;
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function splitFiles(values: string[] | undefined, host: string): string[] | undefined {
  if (!values?.length) return undefined;
  return values.flatMap((v) => v.split(/\s+/)).filter(Boolean).map((p) => expandPath(p, host));
}

/** `~`, `%d` (home), `%u` (local user), `%h` (host), `%r` (remote user, best effort), `%%`. */
export function expandPath(p: string, host: string, remoteUser?: string): string {
  const home = homedir();
  let local = '';
  try {
    local = userInfo().username;
  } catch {
    /* no passwd entry */
  }
  let out = p.replace(/%([%dhunr])/g, (_, t: string) =>
    t === '%' ? '%' : t === 'd' ? home : t === 'u' ? local : t === 'h' || t === 'n' ? host : remoteUser ?? local,
  );
  if (out === '~') out = home;
  else if (out.startsWith('~/')) out = join(home, out.slice(2));
  return out;
}

// ---- the fallback parser -------------------------------------------------------------------

interface Block {
  patterns: string[] | null; // null: a Match block (not evaluated) — never applies
  options: [string, string][];
}

function hostMatches(patterns: string[], host: string): boolean {
  let hit = false;
  for (const p of patterns) {
    const neg = p.startsWith('!');
    if (globToRegExp(neg ? p.slice(1) : p).test(host)) {
      if (neg) return false;
      hit = true;
    }
  }
  return hit;
}

/** Split a config line into keyword and arguments (`Key value`, `Key=value`, quoted args). */
function splitLine(line: string): [string, string[]] | undefined {
  const m = /^\s*([A-Za-z]+)\s*(?:=\s*|\s+)(.*)$/.exec(line);
  if (!m) return undefined;
  const args: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  let a: RegExpExecArray | null;
  while ((a = re.exec(m[2]))) args.push((a[1] ?? a[2]));
  return [(m[1]).toLowerCase(), args];
}

function readBlocks(file: string, depth: number, into: Block[], current: Block): Block {
  if (depth > 8) return current;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return current;
  }
  for (const raw of text.split('\n')) {
    const line = raw.replace(/^\s+/, '');
    if (!line || line.startsWith('#')) continue;
    const parsed = splitLine(line);
    if (!parsed) continue;
    const [key, args] = parsed;
    if (key === 'host') {
      current = { patterns: args, options: [] };
      into.push(current);
    } else if (key === 'match') {
      current = { patterns: args.length === 1 && args[0]?.toLowerCase() === 'all' ? ['*'] : null, options: [] };
      into.push(current);
    } else if (key === 'include') {
      for (const pat of args) {
        const full = expandPath(pat, '');
        const abs = isAbsolute(full) ? full : join(homedir(), '.ssh', full);
        for (const f of globFiles(abs)) current = readBlocks(f, depth + 1, into, current);
      }
    } else {
      current.options.push([key, args.join(' ')]);
    }
  }
  return current;
}

/** Include's glob, on the last path component only (enough for `config.d/*`). */
function globFiles(p: string): string[] {
  const base = basename(p);
  if (!/[*?]/.test(base)) return [p];
  const re = globToRegExp(base, false);
  try {
    return readdirSync(dirname(p)).filter((f) => re.test(f)).sort().map((f) => join(dirname(p), f));
  } catch {
    return [];
  }
}

export function viaParser(host: string, configPath: string): ResolvedSshConfig {
  const blocks: Block[] = [];
  const top: Block = { patterns: ['*'], options: [] };
  blocks.push(top);
  readBlocks(configPath, 0, blocks, top);
  const first = new Map<string, string>();
  const identity: string[] = [];
  for (const b of blocks) {
    if (!b.patterns || !hostMatches(b.patterns, host)) continue;
    for (const [k, v] of b.options) {
      if (k === 'identityfile') identity.push(v);
      else if (!first.has(k)) first.set(k, v);
    }
  }
  const hostname = (first.get('hostname') ?? host).replace(/%h/g, host);
  const port = Number(first.get('port'));
  return {
    hostname,
    user: first.get('user'),
    port: Number.isInteger(port) && port > 0 ? port : undefined,
    identityFiles: (identity.length ? identity : DEFAULT_IDENTITIES).map((p) => expandPath(p, hostname)),
    identityFilesExplicit: identity.length > 0,
    userKnownHostsFiles: first.get('userknownhostsfile')?.split(/\s+/).map((p) => expandPath(p, hostname)),
    globalKnownHostsFiles: first.get('globalknownhostsfile')?.split(/\s+/).map((p) => expandPath(p, hostname)),
    strictHostKeyChecking: first.get('stricthostkeychecking'),
    hostKeyAlias: keyAlias(first.get('hostkeyalias')),
    identitiesOnly: first.get('identitiesonly') === 'yes',
    proxy: first.get('proxyjump') ?? first.get('proxycommand'),
    source: blocks.length > 1 || top.options.length ? 'parser' : 'none',
    warnings: [],
  };
}
