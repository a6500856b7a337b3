/**
 * Host key verification against OpenSSH known_hosts files (ssh2 checks nothing by itself).
 * Understands plain and hashed (`|1|salt|hmac`) names, `[host]:port` for ports other than 22,
 * `*`/`?` patterns and `!` negations, `@revoked`; `@cert-authority` lines are skipped (ssh2
 * has no host certificates).
 */
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { createHmac, createHash, randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import type { ServerHostKeyAlgorithm } from 'ssh2';
import { SshError } from '../errors.js';
import { globToRegExp, isGlob } from './glob.js';
import type { HostKeyVerdict, StrictHostKeyChecking } from '../types/hosts.js';

interface KnownEntry {
  patterns: string[];
  keyType: string;
  key: Buffer;
  revoked: boolean;
  file: string;
  line: number;
}

/** The name known_hosts stores: `host`, or `[host]:port` when the port is not 22. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** SHA256 fingerprint as OpenSSH prints it. */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** The algorithm name inside an SSH wire-format public key blob. */
export function keyTypeOf(key: Buffer): string {
  if (key.length < 4) return '';
  const n = key.readUInt32BE(0);
  return key.subarray(4, 4 + n).toString('latin1');
}

const HOST_KEY_ALGORITHMS: readonly ServerHostKeyAlgorithm[] = [
  'ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa', 'ssh-dss',
];

function isHostKeyAlgorithm(name: string): name is ServerHostKeyAlgorithm {
  return (HOST_KEY_ALGORITHMS as readonly string[]).includes(name);
}

/** Host key algorithms ssh2 may negotiate for a known key type (none for a type ssh2 lacks). */
export function hostKeyAlgorithmsFor(keyType: string): ServerHostKeyAlgorithm[] {
  if (keyType === 'ssh-rsa') return ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
  return isHostKeyAlgorithm(keyType) ? [keyType] : [];
}

function matchesPattern(pattern: string, name: string): boolean {
  if (pattern.startsWith('|1|')) {
    const [, , salt, hash] = pattern.split('|');
    if (!salt || !hash) return false;
    const mac = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
    return mac === hash;
  }
  if (isGlob(pattern)) return globToRegExp(pattern).test(name);
  return pattern.toLowerCase() === name.toLowerCase();
}

/** OpenSSH semantics: any negated match rejects the line; otherwise any positive match accepts. */
function lineMatches(patterns: string[], name: string): boolean {
  let hit = false;
  for (const p of patterns) {
    if (p.startsWith('!')) {
      if (matchesPattern(p.slice(1), name)) return false;
    } else if (matchesPattern(p, name)) hit = true;
  }
  return hit;
}

export interface KnownHostsOptions {
  /** Files read, in order; the first is the one new keys are appended to. */
  userFiles: string[];
  /** Read-only files (e.g. /etc/ssh/ssh_known_hosts). */
  globalFiles?: string[];
  policy: StrictHostKeyChecking;
  /** Append new keys hashed (`|1|...`) as Debian's HashKnownHosts does. Default false. */
  hashNew?: boolean;
}

/**
 * Loaded once per collector and shared by all its connections, so a key accepted for one
 * connection is known to the next (and appended once).
 */
export class KnownHosts {
  private entries: KnownEntry[] = [];
  private readonly opts: KnownHostsOptions;
  /** Problems found while loading (unreadable or malformed lines), for the logger. */
  readonly warnings: string[] = [];

  constructor(opts: KnownHostsOptions) {
    this.opts = opts;
    for (const f of [...opts.userFiles, ...(opts.globalFiles ?? [])]) this.load(f);
  }

  private load(file: string): void {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.warnings.push(`${file}: ${(e as Error).message}`);
      return;
    }
    text.split('\n').forEach((raw, i) => {
      const line = raw.trim();
      if (!line || line.startsWith('#')) return;
      const fields = line.split(/\s+/);
      let revoked = false;
      if (fields[0]?.startsWith('@')) {
        const marker = fields.shift();
        if (marker === '@cert-authority') return;
        if (marker !== '@revoked') {
          this.warnings.push(`${file}:${i + 1}: unknown marker ${marker}`);
          return;
        }
        revoked = true;
      }
      const [names, keyType, b64] = fields;
      if (!names || !keyType || !b64) {
        this.warnings.push(`${file}:${i + 1}: malformed line`);
        return;
      }
      const key = Buffer.from(b64, 'base64');
      if (keyTypeOf(key) !== keyType) {
        this.warnings.push(`${file}:${i + 1}: key does not match its type ${keyType}`);
        return;
      }
      this.entries.push({ patterns: names.split(','), keyType, key, revoked, file, line: i + 1 });
    });
  }

  /** Key types known for this host (to offer only those algorithms, so no downgrade to an unknown type). */
  knownKeyTypes(host: string, port: number): string[] {
    const name = knownHostsName(host, port);
    const types = new Set<string>();
    for (const e of this.entries) if (!e.revoked && lineMatches(e.patterns, name)) types.add(e.keyType);
    return [...types];
  }

  /** Decide on `key` (wire format) offered by `host`:`port`; appends it under 'accept-new'. */
  verify(host: string, port: number, key: Buffer, label = host): HostKeyVerdict {
    const name = knownHostsName(host, port);
    const type = keyTypeOf(key);
    const fp = fingerprint(key);
    const matching = this.entries.filter((e) => lineMatches(e.patterns, name));
    const revoked = this.entries.find((e) => e.revoked && e.key.equals(key));
    if (revoked) {
      return { ok: false, error: new SshError(label, 'host-key', `host key ${fp} is marked @revoked in ${revoked.file}:${revoked.line}`) };
    }
    if (this.opts.policy === 'no') return { ok: true, status: 'unchecked' };
    if (matching.some((e) => !e.revoked && e.key.equals(key))) return { ok: true, status: 'known' };
    const sameType = matching.find((e) => !e.revoked && e.keyType === type);
    const other = sameType ?? matching.find((e) => !e.revoked);
    if (other) {
      return {
        ok: false,
        error: new SshError(
          label,
          'host-key',
          `HOST KEY CHANGED for ${name}: offered ${type} ${fp}, but ${other.file}:${other.line} holds a different ` +
            `${other.keyType} key. This may be an attack (man in the middle) or a reinstalled host; if you trust ` +
            `the change, remove the old key (ssh-keygen -R '${name}'${other.file ? ` -f ${other.file}` : ''}).`,
        ),
      };
    }
    if (this.opts.policy === 'yes') {
      return {
        ok: false,
        error: new SshError(label, 'host-key', `no known host key for ${name} (offered ${type} ${fp}) and strictHostKeyChecking is 'yes'`),
      };
    }
    this.add(name, type, key);
    return { ok: true, status: 'added' };
  }

  private add(name: string, type: string, key: Buffer): void {
    const file = this.opts.userFiles[0];
    if (!file) return;
    let stored = name;
    if (this.opts.hashNew) {
      const salt = randomBytes(20);
      stored = `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
    }
    const line = `${stored} ${type} ${key.toString('base64')}\n`;
    try {
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      appendFileSync(file, line, { mode: 0o600 });
    } catch (e) {
      this.warnings.push(`${file}: cannot append the key of ${name}: ${(e as Error).message}`);
    }
    this.entries.push({ patterns: [stored], keyType: type, key, revoked: false, file, line: 0 });
  }
}
