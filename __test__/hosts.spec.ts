import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileError, InvalidHostError } from '../lib/errors.js';
import { formatHost, hostsFromSlurm, parseHostfile, parseHosts, USER_NAME_RE } from '../lib/hosts/parse.js';
import { isLocalhost, isLocalhostSync } from '../lib/hosts/localhost.js';
import { resolveSshOptions } from '../lib/remote/options.js';
import type { HostEntry } from '../lib/types/hosts.js';

/** Compact form of an entry for the tables: user@host:slots/maxSlots. */
function show(e: HostEntry): string {
  let s = e.user ? `${e.user}@${e.host}` : e.host;
  if (e.slots !== undefined) s += `:${e.slots}`;
  if (e.maxSlots !== undefined) s += `/${e.maxSlots}`;
  return s;
}
const hosts = (spec: string | string[]) => parseHosts(spec).map(show);

describe('parseHosts: lists', () => {
  it.each<[string | string[], string[]]>([
    ['', []],
    ['   ', []],
    ['a', ['a']],
    ['a,b,c', ['a', 'b', 'c']],
    ['a b\tc', ['a', 'b', 'c']],
    ['a, b ,c,', ['a', 'b', 'c']],
    ['a,,b', ['a', 'b']],
    [['a,b', 'c d'], ['a', 'b', 'c', 'd']],
    ['a\nb\r\nc', ['a', 'b', 'c']],
    ['node-1.example.com,node_2', ['node-1.example.com', 'node_2']],
    ['10.0.0.1,10.0.0.2', ['10.0.0.1', '10.0.0.2']],
  ])('%j → %j', (spec, want) => {
    expect(hosts(spec)).toEqual(want);
  });
});

describe('parseHosts: slots (never a port)', () => {
  it.each<[string, string[]]>([
    ['a:4', ['a:4']],
    ['a:4,b:8', ['a:4', 'b:8']],
    ['a:22', ['a:22']],
    ['10.0.0.1:2', ['10.0.0.1:2']],
    ['u@a:3', ['u@a:3']],
    ['node[1-2]:4', ['node1:4', 'node2:4']],
  ])('%j → %j', (spec, want) => {
    expect(hosts(spec)).toEqual(want);
  });
});

describe('parseHosts: Open MPI hostfile lines', () => {
  it.each<[string, string[]]>([
    ['a slots=4', ['a:4']],
    ['a slots=4 max_slots=8', ['a:4/8']],
    ['a max-slots=8', ['a/8']],
    ['a count=2', ['a:2']],
    ['u@a slots=2', ['u@a:2']],
    ['# comment only', []],
    ['a # trailing comment', ['a']],
    ['a slots=2 # c\n\n  b slots=1\n# x\nc', ['a:2', 'b:1', 'c']],
    ['node[01-02] slots=2', ['node01:2', 'node02:2']],
    ['a SLOTS=3', ['a:3']],
  ])('%j → %j', (spec, want) => {
    expect(hosts(spec)).toEqual(want);
  });

  it('reads a hostfile and names it in errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hs-hosts-'));
    try {
      const p = join(dir, 'hostfile');
      writeFileSync(p, '# cluster\nnode01 slots=4 max_slots=8\nalice@node02 slots=2\n\nnode01 slots=9\n');
      expect(parseHostfile(p).map(show)).toEqual(['node01:4/8', 'alice@node02:2']);
      writeFileSync(p, 'node01\nnode;02\n');
      expect(() => parseHostfile(p)).toThrow(new RegExp(`${p}:2: shell metacharacter`));
      expect(() => parseHostfile(join(dir, 'missing'))).toThrow(FileError);
      // A binary file given by mistake: named by its line, its bytes never echoed (a terminal would run them).
      for (const bytes of [Buffer.from('node01\n\x00\x01garbage\x1b[31m\n'), Buffer.from([0x6e, 0x31, 0x0a, 0x6e, 0xff, 0xfe, 0x0a])]) {
        writeFileSync(p, bytes);
        let err: unknown;
        try {
          parseHostfile(p);
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(FileError);
        expect((err as Error).message).toBe(`${p}: not a hostfile: line 2 holds binary bytes (a hostfile is text: [user@]host [slots=N] per line)`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('parseHosts: Slurm / ClusterShell ranges', () => {
  it.each<[string, string[]]>([
    ['node[1-3]', ['node1', 'node2', 'node3']],
    ['node[01-03]', ['node01', 'node02', 'node03']],
    ['node[08-11]', ['node08', 'node09', 'node10', 'node11']],
    ['node[8-11]', ['node8', 'node9', 'node10', 'node11']],
    ['node[001-002,010]', ['node001', 'node002', 'node010']],
    ['node[01-02,20]', ['node01', 'node02', 'node20']],
    ['tux[0-1,12],tux[20-21]', ['tux0', 'tux1', 'tux12', 'tux20', 'tux21']],
    ['rack[1-2]-n[1-2]', ['rack1-n1', 'rack1-n2', 'rack2-n1', 'rack2-n2']],
    ['n[1-2].ib', ['n1.ib', 'n2.ib']],
    ['n[7]', ['n7']],
    ['n[0-6/3]', ['n0', 'n3', 'n6']],
    ['[1-2]x', ['1x', '2x']],
    ['node[1-2] node[2-3]', ['node1', 'node2', 'node3']],
    ['u@node[1-2]', ['u@node1', 'u@node2']],
  ])('%j → %j', (spec, want) => {
    expect(hosts(spec)).toEqual(want);
  });

  it('reads SLURM_JOB_NODELIST (then SLURM_NODELIST)', () => {
    expect(hostsFromSlurm({ SLURM_JOB_NODELIST: 'c[1-2],gpu[07-08]' })?.map(show)).toEqual(['c1', 'c2', 'gpu07', 'gpu08']);
    expect(hostsFromSlurm({ SLURM_NODELIST: 'x1' })?.map(show)).toEqual(['x1']);
    expect(hostsFromSlurm({})).toBeUndefined();
    expect(() => hostsFromSlurm({ SLURM_JOB_NODELIST: 'c[2-1]' })).toThrow(/SLURM_JOB_NODELIST: reversed range/);
  });
});

describe('parseHosts: users and IPv6', () => {
  it.each<[string, string[]]>([
    ['alice@a', ['alice@a']],
    ['alice@a,bob@a,alice@a', ['alice@a', 'bob@a']],
    ['svc_1.x-y@h', ['svc_1.x-y@h']],
    ['::1', ['::1']],
    ['fe80::1', ['fe80::1']],
    ['fe80::1%eth0', ['fe80::1%eth0']],
    ['[fe80::1]', ['fe80::1']],
    ['[::1]:4', ['::1:4']],
    ['u@[::1]', ['u@::1']],
    ['[::1],::1', ['::1']],
    ['::ffff:10.0.0.1', ['::ffff:10.0.0.1']],
    ['[::1] slots=2', ['::1:2']],
  ])('%j → %j', (spec, want) => {
    expect(hosts(spec)).toEqual(want);
  });
});

describe('parseHosts: deduplication and raw', () => {
  it('keeps the first of each user+host, case-insensitively, in order', () => {
    expect(hosts('b,a,B,c:2,a:8,c')).toEqual(['b', 'a', 'c:2']);
  });
  it('keeps the token as written in raw', () => {
    const es = parseHosts('u@n[1-2]:3 x');
    expect(es.map((e) => e.raw)).toEqual(['u@n[1-2]:3', 'u@n[1-2]:3', 'x']);
  });
  it('formats hosts for display', () => {
    expect(parseHosts('u@[::1],n1').map(formatHost)).toEqual(['u@[::1]', 'n1']);
  });
});

describe('parseHosts: errors name the bad piece', () => {
  it.each<[string, RegExp]>([
    ['node[1-3', /"node\[1-3": unbalanced '\['/],
    ['node1-3]', /unbalanced '\]'/],
    ['n[1-[2]]', /nested '\['/],
    ['node[]', /"node\[\]": empty range/],
    ['node[ ]', /empty range/],
    ['node[1,,2]', /empty item/],
    ['node[5-1]', /"node\[5-1\]": reversed range "5-1"/],
    ['node[a-c]', /invalid range item "a-c"/],
    ['node[1-2:3]', /':' inside a range/],
    ['node[0-999999]', /expands to more than 100000 hosts/],
    ['n[0-999]x[0-999]', /expands to more than 100000 hosts/],
    ['a;rm', /"a;rm": shell metacharacter ";"/],
    ['a$(id)', /shell metacharacter "\$"/],
    ['a`id`', /shell metacharacter "`"/],
    ['a|b', /shell metacharacter "\|"/],
    ['a&', /shell metacharacter "&"/],
    ["a'b", /shell metacharacter "'"/],
    ['a>b', /shell metacharacter ">"/],
    ['x;y@a', /shell metacharacter ";" in user/],
    ['-oProxyCommand=x', /must start with a letter or digit|unknown hostfile attribute|attribute without a host/],
    ['-oProxyCommand', /must start with a letter or digit/],
    ['@a', /empty user/],
    ['u@', /empty host/],
    [':4', /empty host before ':'/],
    ['a:x', /expected a slot count/],
    ['a:0', /at least 1/],
    ['a slots=x', /slots needs a whole number/],
    ['a colour=red', /unknown hostfile attribute "colour"/],
    ['slots=2', /attribute without a host/],
    ['[fe80::1]x', /after IPv6 literal/],
    ['[fe80::zz]', /invalid IPv6 literal/],
    ['1:::2', /invalid IPv6 literal/],
    // Two ':N' after a host is one too many slot counts, not an IPv6 literal.
    ['node[01-02]:8:9', /^invalid host spec "node\[01-02\]:8:9": more than one ':' after the host: host:N takes a single slot count \(never a port\)$/],
    ['node1:8:22', /more than one ':' after the host: host:N takes a single slot count \(never a port\); an IPv6 literal holds only/],
    ['a/b', /invalid character "\/"/],
    ['a@b@c', /invalid character "@"/],
    [`${'x'.repeat(64)}.com`, /longer than 63/],
  ])('%j → %s', (spec, re) => {
    let err: unknown;
    try {
      parseHosts(spec);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidHostError);
    expect((err as InvalidHostError).code).toBe('ERR_INVALID_HOST');
    expect((err as Error).message).toMatch(re);
  });

  it('names the line of a multi-line spec', () => {
    expect(() => parseHosts('a\nb\nc[')).toThrow(/line 3: unbalanced/);
  });
  it('honours maxHosts', () => {
    expect(() => parseHosts('n[1-20]', { maxHosts: 10 })).toThrow(/more than 10 hosts/);
    expect(parseHosts('n[1-10]', { maxHosts: 10 })).toHaveLength(10);
  });
  it('refuses a non-string element', () => {
    expect(() => parseHosts([1 as unknown as string])).toThrow(InvalidHostError);
  });
});

describe('user names: one rule for host specs and ssh.username', () => {
  it.each(['root', 'a.b-c_d', '_svc', 'u1'])('accepts %j', (u) => {
    expect(USER_NAME_RE.test(u)).toBe(true);
    expect(parseHosts(`${u}@node1`)[0]?.user).toBe(u);
    expect(resolveSshOptions({ username: u }, 1).username).toBe(u);
  });
  it('a trailing $ (machine accounts) passes the rule, but a host spec refuses every $ as a shell metacharacter first', () => {
    expect(USER_NAME_RE.test('machine$')).toBe(true);
    expect(resolveSshOptions({ username: 'machine$' }, 1).username).toBe('machine$');
    expect(() => parseHosts('machine$@node1')).toThrow(/shell metacharacter "\$"/);
  });
  it.each(['-oProxyCommand', '.hidden', 'a$b', 'a/b', '$x', 'ü'])('refuses %j', (u) => {
    expect(USER_NAME_RE.test(u)).toBe(false);
    expect(() => parseHosts(`${u}@node1`)).toThrow(InvalidHostError);
    expect(() => resolveSshOptions({ username: u }, 1)).toThrow(/not a valid user name/);
  });
});

describe('isLocalhost', () => {
  const h = hostname();
  const addrs = Object.values(networkInterfaces()).flatMap((l) => (l ?? []).map((a) => a.address));
  it.each<[string, boolean]>([
    ['localhost', true],
    ['LOCALHOST', true],
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['::1', true],
    ['[::1]', true],
    ['0:0:0:0:0:0:0:1', true],
    ['::ffff:127.0.0.1', true],
    [h, true],
    [h.toUpperCase(), true],
    [h.split('.')[0], true],
    ['128.0.0.1', false],
    ['192.0.2.1', false],
    ['2001:db8::1', false],
    ['some-other-host.invalid', false],
  ])('%s → %s', async (host, want) => {
    expect(await isLocalhost(host)).toBe(want);
    if (want && !host.includes('.invalid')) expect(isLocalhostSync(host)).toBe(true);
  });
  it('knows every local interface address', async () => {
    for (const a of addrs) expect(await isLocalhost(a)).toBe(true);
  });
});
