/**
 * Host lists as launchers write them: comma/whitespace lists, `host:N` slots (MPICH,
 * mlpstorage, Open MPI `--host`), Open MPI hostfile lines, Slurm/ClusterShell ranges,
 * `user@host`, IPv6 literals. Everything is validated here, so a host or user string that gets
 * past this module contains no shell metacharacter and cannot be read as an option.
 */
import { readFileSync } from 'node:fs';
import { FileError, InvalidHostError } from '../errors.js';
import type { HostEntry, ParseHostsOptions } from '../types/hosts.js';

const DEFAULT_MAX_HOSTS = 100_000;
const SHELL_META = new Set([...';&|`$()<>\\\'"*?!{}~#^\n\r\t ']);
const NAME_CHAR = /^[A-Za-z0-9._-]$/;
/** A remote user name as accepted everywhere (host specs, ssh.username): POSIX-ish, no shell metacharacter, no leading '-'. */
export const USER_NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9._-]*\$?$/;
const IPV6_RE = /^[0-9A-Fa-f:.]+(%[A-Za-z0-9_.-]+)?$/;
const INT_RE = /^[0-9]+$/;

/**
 * Parse a host spec (or several) into entries, duplicates (same user and host, case-insensitive)
 * removed and first-seen order kept. A string may hold several lines (a hostfile's text).
 */
export function parseHosts(spec: string | readonly string[], opts: ParseHostsOptions = {}): HostEntry[] {
  const maxHosts = opts.maxHosts ?? DEFAULT_MAX_HOSTS;
  const specs = typeof spec === 'string' ? [spec] : spec;
  const out: HostEntry[] = [];
  const seen = new Set<string>();
  let total = 0;
  for (const s of specs) {
    if (typeof s !== 'string') throw new InvalidHostError(String(s), 'expected a string');
    const lines = s.split(/\r?\n/);
    lines.forEach((line, i) => {
      const where = describe(opts.source, lines.length > 1 ? i + 1 : undefined);
      for (const entry of parseLine(line, where, maxHosts - total)) {
        total++;
        const key = `${entry.user ?? ''}@${entry.host.toLowerCase()}`;
        if (seen.has(key)) continue;
        seen.add(key);
        out.push(entry);
      }
    });
  }
  return out;
}

/** An Open MPI / MPICH hostfile (`[user@]host [slots=N] [max_slots=M]`, `#` comments). */
export function parseHostfile(path: string, opts: Omit<ParseHostsOptions, 'source'> = {}): HostEntry[] {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new FileError(path, `cannot read hostfile: ${(err as Error).message}`, { cause: err });
  }
  return parseHosts(hostfileText(path, bytes), { ...opts, source: path });
}

/** Control characters a text hostfile never holds (tab, CR, LF, FF, VT are text). */
const BINARY_BYTE = /[\x00-\x08\x0e-\x1f\x7f]/;

/**
 * A hostfile's text, or a FileError naming the line when it is not text (a binary file given by
 * mistake): its bytes are never echoed to the terminal.
 */
function hostfileText(path: string, bytes: Buffer): string {
  let text: string | undefined;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    text = undefined;
  }
  const lines = (text ?? bytes.toString('latin1')).split('\n');
  const bad = text === undefined
    ? lines.findIndex((l) => !isUtf8(Buffer.from(l, 'latin1')) || BINARY_BYTE.test(l))
    : lines.findIndex((l) => BINARY_BYTE.test(l));
  if (bad >= 0 || text === undefined) {
    throw new FileError(path, `not a hostfile: line ${bad + 1} holds binary bytes (a hostfile is text: [user@]host [slots=N] per line)`);
  }
  return text;
}

function isUtf8(b: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(b);
    return true;
  } catch {
    return false;
  }
}

/** The hosts of the current Slurm job (`SLURM_JOB_NODELIST`, else `SLURM_NODELIST`), or undefined outside one. */
export function hostsFromSlurm(env: NodeJS.ProcessEnv = process.env, opts: ParseHostsOptions = {}): HostEntry[] | undefined {
  const name = env.SLURM_JOB_NODELIST ? 'SLURM_JOB_NODELIST' : env.SLURM_NODELIST ? 'SLURM_NODELIST' : undefined;
  if (!name) return undefined;
  return parseHosts(env[name] as string, { source: name, ...opts });
}

/** `user@host`, with brackets around an IPv6 literal: how a host is shown and keyed. */
export function formatHost(entry: Pick<HostEntry, 'host' | 'user'>): string {
  const h = entry.host.includes(':') ? `[${entry.host}]` : entry.host;
  return entry.user ? `${entry.user}@${h}` : h;
}

function describe(source: string | undefined, line: number | undefined): string {
  if (source && line) return `${source}:${line}: `;
  if (source) return `${source}: `;
  if (line) return `line ${line}: `;
  return '';
}

function parseLine(line: string, where: string, budget: number): HostEntry[] {
  const hash = line.indexOf('#');
  const body = hash >= 0 ? line.slice(0, hash) : line;
  const tokens = splitTokens(body, where);
  const out: HostEntry[] = [];
  let last: HostEntry[] | undefined;
  for (const tok of tokens) {
    const eq = tok.indexOf('=');
    if (eq >= 0 && !tok.includes('[')) {
      if (!last) throw new InvalidHostError(tok, `${where}attribute without a host before it`);
      applyAttribute(last, tok, tok.slice(0, eq), tok.slice(eq + 1), where);
      continue;
    }
    const entries = parseToken(tok, where, budget - out.length);
    out.push(...entries);
    last = entries;
  }
  return out;
}

/** Split on commas and whitespace, never inside brackets; checks that brackets balance. */
function splitTokens(text: string, where: string): string[] {
  const tokens: string[] = [];
  let depth = 0;
  let cur = '';
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '[') {
      if (depth > 0) throw new InvalidHostError(tokenAround(text, start), `${where}nested '[' at column ${i + 1}`);
      depth++;
    } else if (c === ']') {
      if (depth === 0) throw new InvalidHostError(tokenAround(text, start), `${where}unbalanced ']' at column ${i + 1}`);
      depth--;
    } else if (depth === 0 && (c === ',' || c === ' ' || c === '\t')) {
      if (cur) tokens.push(cur);
      cur = '';
      start = i + 1;
      continue;
    }
    cur += c;
  }
  if (depth > 0) throw new InvalidHostError(cur, `${where}unbalanced '[' (no closing ']')`);
  if (cur) tokens.push(cur);
  return tokens;
}

function tokenAround(text: string, start: number): string {
  const rest = text.slice(start);
  const m = /^[^,\s]*/.exec(rest);
  return m ? m[0] : rest;
}

function applyAttribute(entries: HostEntry[], tok: string, key: string, value: string, where: string): void {
  const k = key.toLowerCase();
  if (!['slots', 'count', 'cpu', 'max_slots', 'max-slots'].includes(k)) {
    throw new InvalidHostError(tok, `${where}unknown hostfile attribute ${JSON.stringify(key)} (expected slots= or max_slots=)`);
  }
  if (!INT_RE.test(value)) throw new InvalidHostError(tok, `${where}${key} needs a whole number, got ${JSON.stringify(value)}`);
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new InvalidHostError(tok, `${where}${key} is too large`);
  for (const e of entries) {
    if (k.startsWith('max')) e.maxSlots = n;
    else e.slots = n;
  }
}

function parseToken(tok: string, where: string, budget: number): HostEntry[] {
  const fail = (msg: string): never => {
    throw new InvalidHostError(tok, where + msg);
  };
  let rest = tok;
  let user: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    user = rest.slice(0, at);
    rest = rest.slice(at + 1);
    if (!user) fail("empty user before '@'");
    checkChars(user, 'user', fail);
    if (!USER_NAME_RE.test(user)) fail(`invalid user name ${JSON.stringify(user)}`);
  }
  if (!rest) fail('empty host');

  let slots: number | undefined;
  let names: string[];
  if (rest.startsWith('[') && rest.slice(1, rest.indexOf(']')).includes(':')) {
    // [IPv6] or [IPv6]:N
    const close = rest.indexOf(']');
    const addr = rest.slice(1, close);
    const after = rest.slice(close + 1);
    if (after) {
      if (!after.startsWith(':')) fail(`unexpected ${JSON.stringify(after)} after IPv6 literal`);
      slots = parseSlots(after.slice(1), fail);
    }
    names = [checkIpv6(addr, fail)];
  } else {
    const colons = countOutsideBrackets(rest, ':');
    if (colons >= 2) {
      // A bare IPv6 literal: every ':' belongs to the address (use [addr]:N for slots). Anything
      // else with two ':' is a host with one ':N' too many (node[01-02]:8:9, node1:8:22).
      if (!IPV6_RE.test(rest)) {
        fail(`more than one ':' after the host: host:N takes a single slot count (never a port)${rest.includes('[') ? '' : '; an IPv6 literal holds only hex digits, \':\' and \'.\''}`);
      }
      names = [checkIpv6(rest, fail)];
    } else {
      if (colons === 1) {
        const c = rest.lastIndexOf(':');
        slots = parseSlots(rest.slice(c + 1), fail);
        rest = rest.slice(0, c);
        if (!rest) fail("empty host before ':'");
      }
      names = expandRanges(rest, fail, budget);
      for (const n of names) checkHostname(n, fail);
    }
  }
  return names.map((host) => {
    const e: HostEntry = { host, raw: tok };
    if (user !== undefined) e.user = user;
    if (slots !== undefined) e.slots = slots;
    return e;
  });
}

function countOutsideBrackets(s: string, ch: string): number {
  let depth = 0;
  let n = 0;
  for (const c of s) {
    if (c === '[') depth++;
    else if (c === ']') depth--;
    else if (c === ch && depth === 0) n++;
  }
  return n;
}

function parseSlots(s: string, fail: (m: string) => never): number {
  if (!INT_RE.test(s)) fail(`after ':' expected a slot count (a port is never given this way), got ${JSON.stringify(s)}`);
  const n = Number(s);
  if (!Number.isSafeInteger(n) || n < 1) fail(`slot count must be at least 1, got ${JSON.stringify(s)}`);
  return n;
}

function checkChars(s: string, what: string, fail: (m: string) => never): void {
  for (const c of s) {
    if (SHELL_META.has(c)) fail(`shell metacharacter ${JSON.stringify(c)} in ${what}`);
  }
}

function checkIpv6(addr: string, fail: (m: string) => never): string {
  if (!addr) fail('empty IPv6 literal');
  checkChars(addr, 'IPv6 literal', fail);
  if (!IPV6_RE.test(addr) || !addr.includes(':') || /:::/.test(addr) || (addr.match(/::/g)?.length ?? 0) > 1) {
    fail(`invalid IPv6 literal ${JSON.stringify(addr)}`);
  }
  return addr;
}

function checkHostname(name: string, fail: (m: string) => never): void {
  if (!name) fail('empty host');
  checkChars(name, 'host', fail);
  for (const c of name) {
    if (!NAME_CHAR.test(c)) fail(`invalid character ${JSON.stringify(c)} in host ${JSON.stringify(name)}`);
  }
  // A leading '-' would be read as an option by ssh and friends.
  if (name.startsWith('-') || name.startsWith('.')) fail(`host ${JSON.stringify(name)} must start with a letter or digit`);
  if (name.length > 253) fail(`host name longer than 253 characters`);
  if (name.split('.').some((label) => label.length > 63)) fail(`a label of ${JSON.stringify(name)} is longer than 63 characters`);
}

/** `node[01-03,7]-ib[0-1]` → every combination, the first group varying slowest (Slurm order). */
function expandRanges(name: string, fail: (m: string) => never, budget: number): string[] {
  const parts: string[][] = [];
  let i = 0;
  let total = 1;
  while (i < name.length) {
    const open = name.indexOf('[', i);
    if (open < 0) {
      parts.push([name.slice(i)]);
      break;
    }
    if (open > i) parts.push([name.slice(i, open)]);
    const close = name.indexOf(']', open);
    const body = name.slice(open + 1, close);
    if (body.includes(':')) fail(`':' inside a range '[${body}]' (an IPv6 literal must be the whole host, like [fe80::1])`);
    const values = expandRangeBody(body, fail, budget);
    total *= values.length;
    if (total > budget) fail(`expands to more than ${budget} hosts`);
    parts.push(values);
    i = close + 1;
  }
  let names = [''];
  for (const p of parts) {
    const next: string[] = [];
    for (const prefix of names) for (const v of p) next.push(prefix + v);
    names = next;
  }
  return names;
}

function expandRangeBody(body: string, fail: (m: string) => never, budget: number): string[] {
  if (!body.trim()) fail('empty range []');
  const out: string[] = [];
  for (const item of body.split(',')) {
    if (!item) fail(`empty item in range [${body}]`);
    const m = /^([0-9]+)(?:-([0-9]+)(?:\/([0-9]+))?)?$/.exec(item);
    if (!m) {
      checkChars(item, 'range', fail);
      fail(`invalid range item ${JSON.stringify(item)} in [${body}] (expected N or N-M)`);
    }
    const [, loS, hiS, stepS] = m;
    const lo = Number(loS);
    const hi = hiS === undefined ? lo : Number(hiS);
    const step = stepS === undefined ? 1 : Number(stepS);
    if (hi < lo) fail(`reversed range ${JSON.stringify(item)} in [${body}]`);
    if (step < 1) fail(`range step must be at least 1 in ${JSON.stringify(item)}`);
    const count = Math.floor((hi - lo) / step) + 1;
    if (out.length + count > budget) fail(`range [${body}] expands to more than ${budget} hosts`);
    // Zero padding: a lower bound written with a leading zero fixes the width (Slurm, ClusterShell).
    const width = (loS).length > 1 && (loS).startsWith('0') ? (loS).length : 0;
    for (let v = lo; v <= hi; v += step) out.push(width ? String(v).padStart(width, '0') : String(v));
  }
  return out;
}
