/**
 * Watched processes on remote hosts, through a real sshd on loopback (`forceSsh`: this machine
 * reached over SSH): processes the test starts under unique names are in every remote sample
 * with the right PID and key, a CPU burner reads most of a CPU, a restart under the same name is
 * a restart, `cmd:` finds a command line (bash), bad items are refused naming them, and the
 * remote loop still starts no process per tick.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { readTimeSeriesJson } from '../lib/files/json-file.js';
import { MultiHostTimeSeriesCollector, type ProcessEntry, type TimeSeriesSample } from '../lib/index.js';
import type { MultiHostTimeSeriesCollectorOptions } from '../lib/types/collector.js';
import { cliWorkdir, start as startCli } from './support/cli.js';
import { makeSshTestEnv, sshdMissing, TestSshd, waitFor, type SshTestEnv } from './support/sshd.js';

const missing = sshdMissing();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const HOST = '127.0.0.21';

describe.skipIf(missing !== undefined)('watching processes on remote hosts (real sshd)', () => {
  let env: SshTestEnv;
  let sshd: TestSshd;
  let sshConfig: string;
  const tag = Math.random().toString(16).slice(2, 8);
  /** Unique names (≤ 15 bytes): copies of sleep and sh. */
  const sleeper = `hsr-s${tag}`;
  const burner = `hsr-b${tag}`;
  const children: ChildProcess[] = [];
  const running = new Set<MultiHostTimeSeriesCollector>();
  let cliDir = '';
  cliWorkdir('hs-remote-procs-', (d) => (cliDir = d));

  beforeAll(async () => {
    env = makeSshTestEnv();
    copyFileSync('/bin/sleep', join(env.dir, sleeper));
    copyFileSync('/bin/sh', join(env.dir, burner));
    sshd = new TestSshd(env, { addresses: [HOST] });
    await sshd.start();
    sshConfig = join(env.dir, 'ssh_config');
    // `remote` is this sshd by a name that is not this machine's (its samples come over SSH).
    writeFileSync(sshConfig, ['Host remote', `  HostName ${HOST}`, `Host ${HOST} remote`, `  Port ${sshd.port}`, '  User root', `  IdentityFile ${env.clientKey}`, '  IdentitiesOnly yes', ''].join('\n'));
  }, 30_000);

  afterEach(async () => {
    await Promise.all([...running].map((c) => c.stop().catch(() => undefined)));
    running.clear();
    for (const c of children.splice(0)) kill(c);
    await waitFor(() => sshd.sessionPids().length === 0, 5000, 'remote sessions to end');
  });

  afterAll(async () => {
    await sshd?.stop();
    env?.cleanup();
  });

  function kill(c: ChildProcess): void {
    try {
      if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    } catch {
      // gone already
    }
  }

  function run(name: string, args: string[]): ChildProcess {
    const c = spawn(join(env.dir, name), args, { stdio: 'ignore' });
    children.push(c);
    return c;
  }

  function collector(watch: MultiHostTimeSeriesCollectorOptions['watch'], extra: Partial<MultiHostTimeSeriesCollectorOptions> = {}): MultiHostTimeSeriesCollector {
    const c = new MultiHostTimeSeriesCollector({
      hosts: [HOST],
      intervalSeconds: 0.25,
      forceSsh: true,
      metrics: ['loadavg'],
      maxSamples: 1000,
      logger: { warn: () => {} },
      watch,
      ...extra,
      ssh: { configPath: sshConfig, knownHostsPath: env.knownHosts, agent: false, connectTimeoutSeconds: 5, ...extra.ssh },
    });
    running.add(c);
    return c;
  }

  const data = (c: MultiHostTimeSeriesCollector): TimeSeriesSample[] => (c.samplesByHost[HOST] ?? []).filter((s) => s.loadavg !== undefined);
  const entry = (s: TimeSeriesSample, key: string): ProcessEntry | undefined => s.processes?.find((e) => e.key === key);

  /** Until a sample has what `ok` wants (polls the samples kept, at most `ms`). */
  async function until(c: MultiHostTimeSeriesCollector, ok: (s: TimeSeriesSample) => boolean, ms = 10_000): Promise<TimeSeriesSample> {
    const end = Date.now() + ms;
    for (;;) {
      const s = data(c).at(-1);
      if (s && ok(s)) return s;
      if (Date.now() > end) throw new Error(`not within ${ms} ms; last: ${JSON.stringify(s?.processes?.map((e) => [e.key, e.pid, e.name]))} ${JSON.stringify(s?.errors)}`);
      await sleep(100);
    }
  }

  for (const shell of ['auto', 'sh'] as const) {
    it(`every sample has the named processes, their CPU and restarts (${shell === 'auto' ? 'bash' : 'sh'})`, async () => {
      const s1 = run(sleeper, ['4242']);
      const b1 = run(burner, ['-c', 'while :; do :; done']);
      const c = collector([`name:${sleeper}`, `name:${burner}`], { ssh: { remoteShell: shell } });
      await c.start();
      await sleep(1500);
      const first = data(c);
      expect(first.length).toBeGreaterThanOrEqual(4);
      for (const s of first) {
        const e = entry(s, sleeper);
        expect(e?.pid).toBe(s1.pid);
        expect(e?.name).toBe(sleeper);
        expect(e?.restarts).toBe(0);
        expect(entry(s, burner)?.pid).toBe(b1.pid);
      }
      const last = first.at(-1)!;
      const e = entry(last, sleeper)!;
      // What a local read gives: start time from the remote's btime, state, memory, I/O.
      expect(e.cmdline).toBe(shell === 'auto' ? `${join(env.dir, sleeper)} 4242` : '');
      expect(e.state).toMatch(/^[SR]$/);
      expect(Number(e.rss_kb)).toBeGreaterThan(0);
      expect(e.read_chars).toBeDefined();
      expect(Math.abs(e.start_time_ns / 1e6 - Date.now())).toBeLessThan(10_000);
      expect(e.uptime_s).toBeGreaterThan(0.5);
      // The burner: most of one CPU of two, on a shared machine, after its first sample.
      const cpu = first.slice(2).map((s) => Number(entry(s, burner)?.cpu_pct ?? 0));
      const avg = cpu.reduce((a, b) => a + b, 0) / cpu.length;
      expect(avg).toBeGreaterThan(50);
      expect(Math.max(...cpu)).toBeLessThan(130);

      // Killed and started again under the same name: the same key, a restart.
      kill(b1);
      const b2 = run(burner, ['-c', 'while :; do :; done']);
      const after = await until(c, (s) => entry(s, burner)?.pid === b2.pid);
      expect(entry(after, burner)?.restarts).toBe(1);
      expect(after.processes?.map((p) => p.key).sort()).toEqual([burner, sleeper].sort());
      await c.stop();
      kill(b2);
    }, 30_000);
  }

  it('cmd:/REGEX/ finds a command line on bash, pid: a PID; a second process of a name is name#2', async () => {
    const s1 = run(sleeper, ['4343']);
    const s2 = run(sleeper, ['4444']);
    const b1 = run(burner, ["-c", "while :; do sleep 1; done"]);
    const c = collector([`cmd:/${sleeper} 43\\d3/`, b1.pid!]);
    await c.start();
    const s = await until(c, (x) => (x.processes?.length ?? 0) === 2);
    expect(s.processes?.map((e) => [e.key, e.pid])).toEqual(expect.arrayContaining([[sleeper, s1.pid], [burner, b1.pid]]));
    expect(s.processes?.find((e) => e.pid === s2.pid)).toBeUndefined();
    await c.stop();

    const both = collector([`name:${sleeper}`]);
    await both.start();
    const t = await until(both, (x) => (x.processes?.length ?? 0) === 2);
    expect(t.processes?.map((e) => [e.key, e.pid])).toEqual([[sleeper, s1.pid], [`${sleeper}#2`, s2.pid]]);
  }, 30_000);

  it('cmd: on a remote without bash says so once, and matches nothing there', async () => {
    run(sleeper, ['4646']);
    const c = collector([`cmd:/${sleeper} 4646/`], { ssh: { remoteShell: 'sh' } });
    await c.start();
    await sleep(1200);
    const ss = data(c);
    const said = ss.filter((s) => s.errors?.processes !== undefined);
    expect(said).toHaveLength(1);
    expect(said[0].errors?.processes).toContain('need bash');
    expect(ss.every((s) => (s.processes ?? []).length === 0)).toBe(true);
  }, 30_000);

  it('refuses items it cannot watch remotely, naming them', async () => {
    for (const [item, says] of [
      ['name:a*b', 'may hold only'],
      ['name:x y', 'may hold only'],
      ['self', 'this machine'],
      ['tree:1', 'this machine'],
      ['cmd:/(/', 'not a regular expression'],
    ]) {
      const c = collector([item]);
      await expect(c.start(), item).rejects.toThrow(JSON.stringify(item));
      await expect(collector([item]).start()).rejects.toThrow(says);
    }
    running.clear();
  }, 30_000);

  it('a local host in the same collector is watched natively, with the same entries', async () => {
    const s1 = run(sleeper, ['4949']);
    const c = collector([`name:${sleeper}`], { hosts: ['localhost', 'remote'], forceSsh: false });
    await c.start();
    await sleep(1200);
    await c.stop();
    expect(c.hostStatus().remote?.method).toBe('ssh');
    const local = c.samplesByHost.localhost ?? [];
    const remote = c.samplesByHost.remote ?? [];
    expect(local.length).toBeGreaterThanOrEqual(3);
    expect(remote.length).toBeGreaterThanOrEqual(3);
    const [l, r] = [local.at(-1)!, remote.at(-1)!].map((s) => entry(s, sleeper)!);
    expect([l.pid, r.pid]).toEqual([s1.pid, s1.pid]);
    // Same process, read two ways: the same identity, to the second (btime is whole seconds).
    expect(r.cmdline).toBe(l.cmdline);
    expect(r.name).toBe(l.name);
    expect(Math.abs(r.start_time_ns - l.start_time_ns)).toBeLessThan(1.5e9);
    expect(Object.keys(r).sort()).toEqual(Object.keys(l).sort());
    // self names this machine's process: refused once a host is remote.
    await expect(collector(['self'], { hosts: ['localhost', 'remote'], forceSsh: false }).start()).rejects.toThrow(/"self".*remote hosts \(remote\)/);
  }, 30_000);

  it('record -H ... -w name:NAME records the remote processes in the file', async () => {
    const s1 = run(sleeper, ['4848']);
    const out = join(cliDir, 'remote-procs.json');
    const r = await startCli([
      'record', '-i', '0.25', '-o', out, '--force-ssh', '-H', HOST, '--user', 'root', '--port', String(sshd.port),
      '--identity', env.clientKey, '--known-hosts', env.knownHosts, '--no-ssh-config', '-w', `name:${sleeper}`,
      '--', 'sleep', '1.5',
    ], { cwd: cliDir }).done;
    expect(r.status, r.stderr).toBe(0);
    const samples = (await readTimeSeriesJson(out)).samplesByHost.get(HOST)!;
    expect(samples.length).toBeGreaterThanOrEqual(4);
    for (const s of samples) expect(s.processes?.map((e) => [e.key, e.pid])).toEqual([[sleeper, s1.pid]]);
  }, 30_000);

  it('the remote loop starts no process per tick while it watches', async () => {
    run(sleeper, ['4747']);
    const c = collector([`name:${sleeper}`, `cmd:/${sleeper} 47/`]);
    await c.start();
    await sleep(1000);
    const loop = sshd.sessionPids().find((p) => readFileSync(`/proc/${p}/comm`, 'latin1').trim() === 'bash');
    expect(loop).toBeDefined();
    // Children's page faults and CPU ticks (stat fields 10-11, 16-17) grow with every fork the
    // loop waits for; a loop of builtins leaves them as they were after its start.
    const children = () => {
      const st = readFileSync(`/proc/${loop}/stat`, 'latin1');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      return [f[8], f[10], f[13], f[14]].join(' ');
    };
    const before = children();
    const ticks = data(c).length;
    await sleep(3000);
    expect(data(c).length - ticks).toBeGreaterThanOrEqual(10);
    expect(children()).toBe(before);
    expect(sshd.sessionPids().filter((p) => p !== loop).every((p) => readFileSync(`/proc/${p}/comm`, 'latin1').startsWith('sshd'))).toBe(true);
  }, 30_000);
});
