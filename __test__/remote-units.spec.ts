/**
 * The remote pieces that need no sshd: frames, the remote script, known_hosts, ssh config, the
 * wall clock, backoff and limiter, shared kernels. (The tick ledger and the tick schedule:
 * remote-ledger.spec.ts.)
 */
import { createHmac, randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { backoffDelay } from '../lib/remote/backoff.js';
import { WallClock } from '../lib/remote/clock.js';
import { FrameParser } from '../lib/remote/frames.js';
import { globToRegExp } from '../lib/remote/glob.js';
import { rebootMessage, SharedKernels } from '../lib/remote/kernels.js';
import { fingerprint, KnownHosts, knownHostsName } from '../lib/remote/known-hosts.js';
import { Limiter } from '../lib/remote/limiter.js';
import { bootstrapCommand, buildRemoteScript, markerFor, newNonce } from '../lib/remote/script.js';
import { hostKeyPolicy, resolveSshConfig, viaParser } from '../lib/remote/ssh-config.js';
import { makeSshTestEnv, type SshTestEnv } from './support/sshd.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('frames', () => {
  const nonce = 'aabbccddeeff0011';
  const M = markerFor(nonce);
  const frame = (t: number, body = `${M}:f loadavg\n0.1 0.2 0.3 1/2 3\n`) => `${M}:F ${t}\n${body}${M}:E ${t}\n`;

  it('skips rc-file noise, then cuts frames across chunk boundaries', () => {
    const p = new FrameParser(nonce);
    const text = `Welcome!\nsome @@HS- noise\n${M}:H 1 boot-1 node1 bash\n${frame(1)}${frame(2, `${M}:f vmstat\nnr_free_pages 5\n${M}:x netdev\n`)}`;
    const frames = [];
    for (let i = 0; i < text.length; i += 7) frames.push(...p.push(Buffer.from(text.slice(i, i + 7))));
    expect(frames.map((f) => f.kind)).toEqual(['hello', 'sample', 'sample']);
    expect(frames[0]).toMatchObject({ bootId: 'boot-1', hostname: 'node1', shell: 'bash', version: 1 });
    expect(frames[1]).toMatchObject({ tick: 1, missing: [] });
    expect(frames[1].kind === 'sample' && frames[1].sections.loadavg!.toString()).toBe('0.1 0.2 0.3 1/2 3\n');
    expect(frames[2].kind === 'sample' && frames[2].missing).toEqual(['netdev']);
    expect(p.noiseBytes).toBeGreaterThan(20);
  });

  it('reads the answer to a keep-alive line between frames', () => {
    const p = new FrameParser(nonce);
    const got = p.push(Buffer.from(`${M}:H 1 b h bash\n${M}:P\n${frame(1)}${M}:P\n${M}:P`));
    expect(got.map((f) => (f.kind === 'sample' ? f.tick : f.kind))).toEqual(['hello', 'pong', 1, 'pong']);
    expect(p.push(Buffer.from('\n')).map((f) => f.kind)).toEqual(['pong']);
  });

  it('ignores markers of another nonce and marks torn frames', () => {
    const p = new FrameParser(nonce);
    const other = markerFor('0000000000000000');
    const got = p.push(Buffer.from(`${other}:H 1 x y\n${M}:H 1 b h\n${M}:F 5\n${M}:E 6\n`));
    expect(got.map((f) => (f.kind === 'sample' ? f.tick : f.kind))).toEqual(['hello', -1]);
  });
});

describe('script', () => {
  it('is one line, and the exec command carries no host, user or nonce', () => {
    const nonce = newNonce();
    const s = buildRemoteScript({ nonce, metrics: ['loadavg', 'netdev'], deadmanSeconds: 10 });
    expect(s).not.toContain('\n');
    expect(s).toContain('/proc/net/dev');
    expect(s).not.toContain('/proc/vmstat');
    expect(bootstrapCommand()).not.toContain(nonce);
    expect(() => buildRemoteScript({ nonce: 'x; rm', metrics: ['loadavg'], deadmanSeconds: 1 })).toThrow();
  });

  it("run by bash, sends a watched process's command line, and none with cmdlines false (cmdline: 'off')", async () => {
    // A process of a unique name with a secret in its arguments (a copy of sh that waits).
    const dir = mkdtempSync(join(tmpdir(), 'hs-script-'));
    const name = `hsu-${randomBytes(3).toString('hex')}`;
    copyFileSync('/bin/sh', join(dir, name));
    // Its own process group, so that its sleep goes with it.
    const proc = spawn(join(dir, name), ['-c', 'sleep 60; :', 'hunter2-secret'], { stdio: 'ignore', detached: true });
    try {
      // Until it has exec'd (its name and arguments are the new ones).
      const comm = (): string => { try { return readFileSync(`/proc/${proc.pid}/cmdline`, 'utf8'); } catch { return ''; } };
      for (let i = 0; i < 100 && !comm().includes('hunter2-secret'); i++) await sleep(20);
      const frameOf = async (cmdlines: boolean): Promise<string> => {
        const nonce = newNonce();
        const loop = spawn('bash', ['-c', buildRemoteScript({ nonce, metrics: ['loadavg'], deadmanSeconds: 10, watch: { names: [name], pids: [], cmd: false, cmdlines } })]);
        let out = '';
        loop.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
        // The first tick looks at every process.
        loop.stdin.write('1\n');
        const end = `${markerFor(nonce)}:E 1`;
        for (let i = 0; i < 100 && !out.includes(end); i++) await sleep(50);
        loop.stdin.end();
        loop.kill();
        expect(out).toContain(end);
        expect(out).toContain(`${markerFor(nonce)}:p ${proc.pid} stat`);
        return out;
      };
      expect(await frameOf(true)).toContain(`:p ${proc.pid} cmdline\n${join(dir, name)} -c sleep 60; : hunter2-secret`);
      const off = await frameOf(false);
      expect(off).not.toContain('hunter2-secret');
      expect(off).not.toContain(`:p ${proc.pid} cmdline`);
    } finally {
      process.kill(-proc.pid!, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('known_hosts', () => {
  const keyA = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519'), Buffer.from([0, 0, 0, 32]), randomBytes(32)]);
  const keyB = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519'), Buffer.from([0, 0, 0, 32]), randomBytes(32)]);
  let env: SshTestEnv;
  beforeAll(() => {
    env = makeSshTestEnv();
  });
  afterAll(() => env.cleanup());

  const hashed = (name: string) => {
    const salt = randomBytes(20);
    return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
  };

  it('matches plain, hashed, [host]:port and wildcard names', () => {
    const f = join(env.dir, 'kh1');
    writeFileSync(f, [
      `# comment`,
      `plain.example ssh-ed25519 ${keyA.toString('base64')}`,
      `${hashed('hashed.example')} ssh-ed25519 ${keyA.toString('base64')}`,
      `${hashed('[ported.example]:2222')} ssh-ed25519 ${keyA.toString('base64')}`,
      `*.wild.example,!bad.wild.example ssh-ed25519 ${keyA.toString('base64')}`,
      `garbage line`,
      '',
    ].join('\n'));
    const kh = new KnownHosts({ userFiles: [f], policy: 'yes' });
    expect(kh.verify('plain.example', 22, keyA)).toEqual({ ok: true, status: 'known' });
    expect(kh.verify('hashed.example', 22, keyA)).toEqual({ ok: true, status: 'known' });
    expect(kh.verify('ported.example', 2222, keyA)).toEqual({ ok: true, status: 'known' });
    expect(kh.verify('ported.example', 22, keyA).ok).toBe(false);
    expect(kh.verify('a.wild.example', 22, keyA).ok).toBe(true);
    expect(kh.verify('bad.wild.example', 22, keyA).ok).toBe(false);
    expect(kh.warnings.join()).toMatch(/malformed/);
    expect(knownHostsName('h', 22)).toBe('h');
    expect(knownHostsName('h', 2200)).toBe('[h]:2200');
  });

  it('refuses a changed key under every policy, naming both sides', () => {
    const f = join(env.dir, 'kh2');
    writeFileSync(f, `${hashed('[10.1.1.1]:2200')} ssh-ed25519 ${keyA.toString('base64')}\n`);
    for (const policy of ['yes', 'accept-new'] as const) {
      const v = new KnownHosts({ userFiles: [f], policy }).verify('10.1.1.1', 2200, keyB, 'node7');
      expect(v.ok).toBe(false);
      if (!v.ok) {
        expect(v.error.phase).toBe('host-key');
        expect(v.error.message).toMatch(/^node7: host-key: HOST KEY CHANGED for \[10\.1\.1\.1\]:2200/);
        expect(v.error.message).toContain(fingerprint(keyB));
      }
    }
  });

  it("accept-new appends (plain or hashed) and 'yes' refuses the unknown", () => {
    const f = join(env.dir, 'kh3');
    const kh = new KnownHosts({ userFiles: [f], policy: 'accept-new' });
    expect(kh.verify('new.example', 2200, keyA)).toEqual({ ok: true, status: 'added' });
    expect(kh.verify('new.example', 2200, keyA)).toEqual({ ok: true, status: 'known' });
    expect(readFileSync(f, 'utf8')).toBe(`[new.example]:2200 ssh-ed25519 ${keyA.toString('base64')}\n`);
    const g = join(env.dir, 'kh4');
    new KnownHosts({ userFiles: [g], policy: 'accept-new', hashNew: true }).verify('h.example', 22, keyA);
    expect(readFileSync(g, 'utf8')).toMatch(/^\|1\|/);
    expect(new KnownHosts({ userFiles: [g], policy: 'yes' }).verify('h.example', 22, keyA).ok).toBe(true);
    const v = new KnownHosts({ userFiles: [f], policy: 'yes' }).verify('other.example', 22, keyA);
    expect(v.ok === false && v.error.message).toMatch(/no known host key .* 'yes'/);
    expect(new KnownHosts({ userFiles: [f], policy: 'no' }).verify('other.example', 22, keyB)).toEqual({ ok: true, status: 'unchecked' });
  });

  it('refuses a @revoked key even with policy no', () => {
    const f = join(env.dir, 'kh5');
    writeFileSync(f, `@revoked * ssh-ed25519 ${keyA.toString('base64')}\n`);
    const v = new KnownHosts({ userFiles: [f], policy: 'no' }).verify('x', 22, keyA);
    expect(v.ok === false && v.error.message).toMatch(/@revoked/);
  });
});

describe('ssh config', () => {
  let env: SshTestEnv;
  beforeAll(() => {
    env = makeSshTestEnv();
  });
  afterAll(() => env.cleanup());

  it('parses Host blocks with patterns, negation, first value wins, Include', () => {
    const inc = join(env.dir, 'extra.conf');
    writeFileSync(inc, 'Host db*\n  User dbadmin\n');
    const cfg = join(env.dir, 'config');
    writeFileSync(cfg, [
      `Include ${inc}`,
      'Host alpha',
      '  HostName 10.0.0.5',
      '  Port 2200',
      '  IdentityFile ~/.ssh/alpha_key',
      'Host *.lab !secret.lab',
      '  User labuser',
      'Match exec "false"',
      '  User never',
      'Host *',
      '  User fallback',
      '  Port 22',
      '  IdentityFile %d/.ssh/id_test',
      '',
    ].join('\n'));
    const a = viaParser('alpha', cfg);
    expect(a).toMatchObject({ hostname: '10.0.0.5', port: 2200, user: 'fallback', identityFilesExplicit: true });
    expect(a.identityFiles[0]).toMatch(/\.ssh\/alpha_key$/);
    expect(a.identityFiles).toHaveLength(2);
    expect(viaParser('x.lab', cfg).user).toBe('labuser');
    expect(viaParser('secret.lab', cfg).user).toBe('fallback');
    expect(viaParser('db1', cfg).user).toBe('dbadmin');
  });

  it('uses ssh -G when ssh is installed (same answers)', async () => {
    const cfg = join(env.dir, 'config2');
    writeFileSync(cfg, 'Host beta\n  HostName 127.0.0.9\n  Port 2201\n  User bob\n  IdentityFile /tmp/k1\n');
    const r = await resolveSshConfig('beta', { configPath: cfg });
    expect(r).toMatchObject({ hostname: '127.0.0.9', port: 2201, user: 'bob', identityFiles: ['/tmp/k1'], identityFilesExplicit: true });
    const p = await resolveSshConfig('beta', { configPath: cfg, sshBinary: false });
    expect(p).toMatchObject({ hostname: '127.0.0.9', port: 2201, user: 'bob', identityFiles: ['/tmp/k1'], source: 'parser' });
  });

  it('falls back to the parser when ssh -G fails, and says why with ssh\'s own error', async () => {
    const cfg = join(env.dir, 'config-bad');
    writeFileSync(cfg, 'Host gamma\n  HostName 127.0.0.9\n  Port 2202\n  NoSuchOption yes\n');
    const r = await resolveSshConfig('gamma', { configPath: cfg });
    expect(r).toMatchObject({ hostname: '127.0.0.9', port: 2202, source: 'parser' });
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatch(/^gamma: `ssh -G` failed \(.*Bad configuration option: nosuchoption/);
    expect(r.warnings[0]).not.toMatch(/Pseudo-terminal/);
    // A config ssh accepts: no warning.
    expect((await resolveSshConfig('beta', { configPath: join(env.dir, 'config2') })).warnings).toEqual([]);
  });

  it('reads the host key settings (ssh -G and the parser agree)', async () => {
    const cfg = join(env.dir, 'config-kh');
    writeFileSync(cfg, [
      'Host delta',
      '  HostName 127.0.0.9',
      '  UserKnownHostsFile /tmp/kh_a /tmp/kh_b',
      '  GlobalKnownHostsFile /tmp/kh_g',
      '  StrictHostKeyChecking yes',
      '  HostKeyAlias delta-key',
      '',
    ].join('\n'));
    for (const sshBinary of [undefined, false] as const) {
      const r = await resolveSshConfig('delta', { configPath: cfg, sshBinary });
      expect(r).toMatchObject({ userKnownHostsFiles: ['/tmp/kh_a', '/tmp/kh_b'], globalKnownHostsFiles: ['/tmp/kh_g'], hostKeyAlias: 'delta-key' });
      expect(hostKeyPolicy(r.strictHostKeyChecking)).toBe('yes');
    }
    expect([hostKeyPolicy('true'), hostKeyPolicy('false'), hostKeyPolicy('accept-new'), hostKeyPolicy('ask'), hostKeyPolicy(undefined)])
      .toEqual(['yes', 'no', 'accept-new', undefined, undefined]);
  });
});

describe('glob', () => {
  it('one helper for Host patterns, known_hosts names and Include files', () => {
    expect(globToRegExp('*.lab').test('X.LAB')).toBe(true);
    expect(globToRegExp('*.lab', false).test('X.LAB')).toBe(false);
    expect(globToRegExp('node?').test('node7')).toBe(true);
    expect(globToRegExp('node?').test('node17')).toBe(false);
    // Everything but * and ? is literal.
    expect(globToRegExp('a+b(c)[1].d$').test('a+b(c)[1].d$')).toBe(true);
    expect(globToRegExp('a.b').test('axb')).toBe(false);
  });
});

describe('wall clock', () => {
  it('follows the real-time clock (steps included) with sub-millisecond detail between readings', () => {
    let real = 1_700_000_000_000;
    let mono = 5_000;
    const c = new WallClock(() => real, () => mono);
    expect(c.nowNs()).toBe(1_700_000_000_000_000_000n);
    mono += 10.25;
    real += 10; // Date.now() is whole ms
    expect(c.nowNs()).toBe(1_700_000_000_010_250_000n);
    // NTP steps the clock back 5 s: the next reading follows it.
    mono += 1;
    real += 1 - 5_000;
    expect(c.nowNs()).toBe(1_699_999_995_011_000_000n);
    // A step forward too.
    mono += 0.5;
    real += 3_600_000;
    expect(c.nowNs() / 1_000_000n).toBe(1_700_003_595_011n);
  });
});

describe('backoff and limiter', () => {
  it('doubles up to the cap, with jitter between half and all of it', () => {
    const o = { initialMs: 100, maxMs: 1000 };
    expect(backoffDelay(0, o, () => 0)).toBe(50);
    expect(backoffDelay(0, o, () => 1)).toBe(100);
    expect(backoffDelay(3, o, () => 1)).toBe(800);
    expect(backoffDelay(10, o, () => 1)).toBe(1000);
    expect(backoffDelay(50, o, () => 0)).toBe(500);
  });
  it('caps work in flight', async () => {
    const l = new Limiter(2);
    const a = await l.acquire();
    await l.acquire();
    let third = false;
    void l.acquire().then(() => (third = true));
    await sleep(5);
    expect([l.inFlight, l.queued, third]).toEqual([2, 1, false]);
    a();
    a();
    await sleep(5);
    expect([l.inFlight, l.queued, third]).toEqual([2, 0, true]);
  });
});

describe('shared kernels', () => {
  it('warns once per boot_id that several hosts share, in requested order, and follows a reboot', () => {
    const warnings: string[] = [];
    const k = new SharedKernels(['a', 'b', 'c', 'd'], (m) => warnings.push(m));
    k.note('c', 'boot-1');
    k.note('a', 'boot-1');
    k.note('b', 'boot-2');
    k.warnShared();
    k.warnShared();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^hostseries: a and c run on one kernel \(boot_id boot-1\): /);
    // c rebooted onto b's kernel: that pair is new news; boot-1 is not warned again.
    k.note('c', 'boot-2');
    k.note('d', 'boot-1');
    k.warnShared();
    expect(warnings).toHaveLength(2);
    expect(warnings[1]).toMatch(/^hostseries: b and c run on one kernel \(boot_id boot-2\)/);
  });

  it('names a handful of a large fan-out on one kernel', () => {
    const hosts = Array.from({ length: 40 }, (_, i) => `n${i}`);
    const warnings: string[] = [];
    const k = new SharedKernels(hosts, (m) => warnings.push(m));
    for (const h of [...hosts].reverse()) k.note(h, 'same');
    k.warnShared();
    expect(warnings[0]).toMatch(/^hostseries: n0, n1, n2, n3, n4 and 35 more hosts run on one kernel/);
    expect(rebootMessage({ previousBootId: 'x', bootId: 'y' })).toBe('boot_id changed from x to y');
  });
});
