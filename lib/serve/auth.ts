/**
 * Tokens: who may push (and for which hosts), who may read. Compared in constant time (SHA-256 of
 * each side, then `timingSafeEqual`, against every known token without stopping at a match), and
 * never logged.
 *
 * A tokens file (`--tokens FILE`) has one token a line, optionally followed by the hostnames it
 * may write, comma-separated (none, or `*`: any host); `#` starts a comment:
 *
 *     # token                          hosts
 *     3f9c1e6a0b7d4c2e8f51a6b9d0c3e7f2 node01,node02
 *     a6b9d0c3e7f23f9c1e6a0b7d4c2e8f51 *
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { InvalidOptionError } from '../errors.js';

/** What a write token may do: write any host, or only these. */
export interface Grant {
  hosts: ReadonlySet<string> | '*';
}

interface Entry {
  hash: Buffer;
  grant: Grant;
}

const hash = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

/** The shortest token taken: a guessable one is not one. */
export const MIN_TOKEN_LENGTH = 16;

function checkToken(token: string, where: string): void {
  if (token.length < MIN_TOKEN_LENGTH) throw new InvalidOptionError(`${where}: a token must have at least ${MIN_TOKEN_LENGTH} characters`);
  if (/\s/.test(token)) throw new InvalidOptionError(`${where}: a token must not contain white space`);
}

export class Tokens {
  private readonly entries: Entry[] = [];

  /** Add a write token (all hosts unless `hosts`). */
  add(token: string, where: string, hosts?: readonly string[]): this {
    checkToken(token, where);
    this.entries.push({ hash: hash(token), grant: { hosts: hosts ? new Set(hosts) : '*' } });
    return this;
  }

  get size(): number {
    return this.entries.length;
  }

  /** The grant of `token`, or undefined (every entry is compared, a match or not). */
  check(token: string | undefined): Grant | undefined {
    if (token === undefined) return undefined;
    const h = hash(token);
    let found: Grant | undefined;
    for (const e of this.entries) if (timingSafeEqual(h, e.hash) && !found) found = e.grant;
    return found;
  }

  /** Read a tokens file (see the header). */
  static parseFile(text: string, file: string, into = new Tokens()): Tokens {
    text.split('\n').forEach((raw, i) => {
      const line = raw.replace(/#.*/, '').trim();
      if (line === '') return;
      const [token, hosts, ...extra] = line.split(/\s+/);
      const where = `${file} line ${i + 1}`;
      if (extra.length > 0) throw new InvalidOptionError(`${where}: expected "TOKEN [HOST,HOST...]", got more fields`);
      const list = hosts === undefined || hosts === '*' ? undefined : hosts.split(',').filter(Boolean);
      if (list?.length === 0) throw new InvalidOptionError(`${where}: no hostname after the token`);
      into.add(token, where, list);
    });
    return into;
  }

  static readFile(file: string, into?: Tokens): Tokens {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new InvalidOptionError(`--tokens ${file}: ${(e as Error).message}`);
    }
    const t = Tokens.parseFile(text, file, into);
    if (t.size === 0) throw new InvalidOptionError(`--tokens ${file}: no token in the file`);
    return t;
  }
}

/** The token a request carries: `Authorization: Bearer T`, else `X-Hostseries-Token: T`. */
export function requestToken(headers: Record<string, string | string[] | undefined>): string | undefined {
  const auth = headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m) return m[1];
  }
  const t = headers['x-hostseries-token'];
  return typeof t === 'string' && t !== '' ? t.trim() : undefined;
}

/** Whether `grant` may write `host`. */
export function mayWrite(grant: Grant, host: string): boolean {
  return grant.hosts === '*' || grant.hosts.has(host);
}
