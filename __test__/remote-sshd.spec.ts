/**
 * Remote collection against real sshd instances on loopback addresses (127.0.0.x), started and
 * stopped here. Without sshd these tests fail in CI and are skipped (loudly) elsewhere. The
 * pieces that need no sshd are in remote-units.spec.ts and remote-ledger.spec.ts.
 */
import { hostname as osHostname } from 'node:os';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { Client, type PublicKeyAuthMethod } from 'ssh2';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import { TimeSeriesCollector } from '../lib/collector/time-series-collector.js';
import { LifecycleError } from '../lib/errors.js';
import { computeRates } from '../lib/rates/compute.js';
import type { HostReboot } from '../lib/types/host-status.js';
import { FrameParser } from '../lib/remote/frames.js';
import { KeyStore } from '../lib/remote/keys.js';
import { MultiHostTimeSeriesCollector } from '../lib/remote/multi-collector.js';
import { bootstrapCommand, buildRemoteScript, newNonce } from '../lib/remote/script.js';
import type { TimeSeriesSample } from '../lib/models/sample.js';
import { JsonlSink } from '../lib/files/jsonl-sink.js';
import { readTimeSeriesJsonl } from '../lib/files/jsonl-read.js';
import { DelayProxy } from './support/delay-proxy.js';
import {
  descendants, freePort, makeSshTestEnv, publicKeyBlob, sshdMissing, TestSshd, waitFor, type SshTestEnv,
} from './support/sshd.js';
import type { MultiHostTimeSeriesCollectorOptions } from '../lib/types/collector.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const VITE_NODE = join(__dirname, '..', 'node_modules', 'vite-node', 'vite-node.mjs');
const CHILD = join(__dirname, 'support', 'remote-child.ts');

interface ChildRun { code: number | null; out: string; err: string; killed: boolean }

/** remote-child.ts in a process of its own; killed (`killed: true`) if it has not exited after `timeoutMs`. */
function runChild(args: string[], timeoutMs: number): Promise<ChildRun> {
  const child = spawn(process.execPath, [VITE_NODE, CHILD, ...args], { cwd: join(__dirname, '..'), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  return new Promise((resolve) => child.on('close', (code) => {
    clearTimeout(timer);
    resolve({ code, out, err, killed });
  }));
}

const missing = sshdMissing();
if (missing) {
  if (process.env.CI) {
    it('needs a real sshd', () => {
      throw new Error(`remote tests cannot run: ${missing}`);
    });
  } else {
    console.warn(`\n!!!!!!!!!!\n!!! SKIPPING the real-sshd remote tests: ${missing}\n!!! (they FAIL in CI)\n!!!!!!!!!!\n`);
  }
}

describe.skipIf(missing !== undefined)('remote collection through a real sshd', () => {
  let env: SshTestEnv;
  let healthy: TestSshd; // 127.0.0.2-4
  let flaky: TestSshd; // 127.0.0.5: killed and restarted
  let stally: TestSshd; // 127.0.0.6: its sessions are SIGSTOPped
  let impostor: TestSshd; // 127.0.0.7: known_hosts holds another key for it
  let deadPort: number; // 127.0.0.9: nothing listens
  let silent: Server; // 127.0.0.8: accepts TCP, never speaks SSH
  let proxyPort: number; // 127.0.0.10: a DelayProxy in front of `healthy`, started by its test
  let rebooty: TestSshd; // 127.0.0.11: its sessions see the boot_id in `bootFile`
  let bootFile: string;
  let sshConfig: string;
  const all = () => [healthy, flaky, stally, impostor, rebooty];
  /** This machine's block devices: the simulated hosts are this machine. */
  const localDisks = new Set(readFileSync('/proc/diskstats', 'latin1').trim().split('\n').map((l) => l.trim().split(/\s+/)[2]));

  beforeAll(async () => {
    env = makeSshTestEnv();
    healthy = new TestSshd(env, { addresses: ['127.0.0.2', '127.0.0.3', '127.0.0.4'] });
    flaky = new TestSshd(env, { addresses: ['127.0.0.5'] });
    stally = new TestSshd(env, { addresses: ['127.0.0.6'] });
    impostor = new TestSshd(env, { addresses: ['127.0.0.7'] });
    // A "rebootable" host: every session runs in its own mount namespace where the kernel's
    // boot_id file is replaced by bootFile, so the test can change the boot_id between sessions.
    bootFile = join(env.dir, 'boot_id');
    writeFileSync(bootFile, 'aaaaaaaa-0000-4000-8000-000000000001\n');
    const wrapper = join(env.dir, 'fake-boot.sh');
    writeFileSync(wrapper, [
      '#!/bin/sh',
      `exec unshare -m /bin/sh -c 'mount --bind "$1" /proc/sys/kernel/random/boot_id && exec /bin/sh -c "$SSH_ORIGINAL_COMMAND"' fake-boot ${bootFile}`,
      '',
    ].join('\n'));
    chmodSync(wrapper, 0o755);
    rebooty = new TestSshd(env, { addresses: ['127.0.0.11'], extra: [`ForceCommand ${wrapper}`] });
    await Promise.all(all().map((s) => s.start()));
    deadPort = await freePort(['127.0.0.9']);
    proxyPort = await freePort(['127.0.0.10']);
    silent = createServer((sock) => sock.on('error', () => undefined).resume()); // reads, so it sees our EOF and closes
    await new Promise<void>((r) => silent.listen(0, '127.0.0.8', () => r()));
    // known_hosts: the impostor's address holds the healthy server's key.
    writeFileSync(env.knownHosts, healthy.knownHostsLine('127.0.0.7').replace(`:${healthy.port}`, `:${impostor.port}`));
    sshConfig = join(env.dir, 'ssh_config');
    writeFileSync(sshConfig, [
      'Host alpha',
      '  HostName 127.0.0.4',
      `Host 127.0.0.2 127.0.0.3 alpha`,
      `  Port ${healthy.port}`,
      `Host 127.0.0.5`,
      `  Port ${flaky.port}`,
      `Host 127.0.0.6`,
      `  Port ${stally.port}`,
      `Host 127.0.0.7`,
      `  Port ${impostor.port}`,
      `Host 127.0.0.9`,
      `  Port ${deadPort}`,
      `Host 127.0.0.8`,
      `  Port ${(silent.address() as AddressInfo).port}`,
      `Host 127.0.0.10`,
      `  Port ${proxyPort}`,
      `Host 127.0.0.11`,
      `  Port ${rebooty.port}`,
      'Host *',
      '  User root',
      `  IdentityFile ${env.clientKey}`,
      '  IdentitiesOnly yes',
      '',
    ].join('\n'));
  }, 60_000);

  afterAll(async () => {
    silent?.close();
    await Promise.all((all().filter(Boolean)).map((s) => s.stop()));
    env?.cleanup();
  });

  const running = new Set<MultiHostTimeSeriesCollector>();

  afterEach(async () => {
    // A test that failed half-way still stops its collector, so later tests start clean.
    await Promise.all([...running].map((c) => c.stop().catch(() => undefined)));
    running.clear();
    // stop() leaves no process behind on either side, and no socket on ours.
    await waitFor(() => all().every((s) => s.sessionPids().length === 0), 5000, 'remote sessions to end').catch(() => {
      throw new Error(`remote processes left: ${all().flatMap((s) => s.sessionPids()).join(' ')}`);
    });
    // Our only children are the test sshds (and their sessions, checked above).
    const ours = () => {
      const sshds = new Set(all().flatMap((s) => (s.pid ? [s.pid, ...s.sessionPids()] : [])));
      return descendants(process.pid).filter((p) => !sshds.has(p));
    };
    await waitFor(() => ours().length === 0, 3000, 'local child processes to end');
    await waitFor(() => !process.getActiveResourcesInfo().includes('TCPSocketWrap'), 3000, 'sockets to close');
  });

  function collector(hosts: string[], extra: Partial<MultiHostTimeSeriesCollectorOptions> = {}): MultiHostTimeSeriesCollector {
    const c = new MultiHostTimeSeriesCollector({
      hosts,
      intervalSeconds: 0.25,
      forceSsh: true,
      logger: { warn: () => {} },
      ...extra,
      ssh: {
        configPath: sshConfig,
        knownHostsPath: env.knownHosts,
        agent: false,
        connectTimeoutSeconds: 3,
        backoffInitialSeconds: 0.2,
        backoffMaxSeconds: 0.5,
        stallTicks: 3,
        stallTimeoutSeconds: 1,
        keepaliveIntervalSeconds: 1,
        ...extra.ssh,
      },
    });
    running.add(c);
    return c;
  }

  /**
   * A sample with data (a reboot marker is not an error of the data): values from every file,
   * the diskstats of this machine (the simulated hosts are this machine).
   */
  const isData = (s: TimeSeriesSample) =>
    Object.keys(s.errors ?? {}).every((k) => k === 'reboot') &&
    s.loadavg !== undefined &&
    s.vmstat !== undefined &&
    s.meminfo !== undefined &&
    (s.diskstats?.length ?? 0) > 0 &&
    (s.diskstats ?? []).every((d) => localDisks.has(d.device_name) && Number.isInteger(d.reads_completed) && Number.isInteger(d.sectors_written));
  const ns = (s: TimeSeriesSample) => BigInt(s.timestampNs ?? 0);

  it('streams every host, with samples aligned across hosts (ssh config honoured)', async () => {
    const c = collector(['127.0.0.2', '127.0.0.3', 'alpha']);
    const t0 = performance.now();
    await c.start();
    expect(performance.now() - t0).toBeLessThan(5000);
    const status = c.hostStatus();
    expect(Object.values(status).map((s) => s.state)).toEqual(['streaming', 'streaming', 'streaming']);
    expect(status.alpha).toMatchObject({ address: '127.0.0.4', port: healthy.port, user: 'root', method: 'ssh' });
    await sleep(2000);
    const byHost = await c.stop();
    expect(Object.keys(byHost)).toEqual(['127.0.0.2', '127.0.0.3', 'alpha']);
    const lens = Object.values(byHost).map((s) => s.length);
    expect(Math.min(...lens)).toBeGreaterThanOrEqual(7);
    expect(new Set(lens).size).toBe(1);
    for (const [host, samples] of Object.entries(byHost)) {
      for (const s of samples) {
        expect(s.hostname).toBe(host);
        expect(isData(s), JSON.stringify(s.errors)).toBe(true);
        expect(s.stat?.cpu).toBeDefined();
        expect(s.netdev?.some((n) => n.interface_name === 'lo')).toBe(true);
      }
    }
    // One timer for all hosts: the i-th samples share a timestamp.
    const [a, b, d] = Object.values<TimeSeriesSample[]>(byHost);
    a.forEach((s, i) => {
      expect(ns(s)).toBe(ns(b[i]));
      expect(ns(s)).toBe(ns(d[i]));
    });
    const data = c.toTimeSeriesData();
    expect(data.collectionMethod).toBe('ssh');
    expect(data.hostsRequested).toEqual(['127.0.0.2', '127.0.0.3', 'alpha']);
    expect(data.hostsCollected).toEqual(['127.0.0.2', '127.0.0.3', 'alpha']);
    expect(data.numSamples).toBe(lens[0] * 3);
    expect(c.hostsWithData()).toEqual(['127.0.0.2', '127.0.0.3', 'alpha']);
    // A clean stop is not an error of the host.
    expect(Object.values(c.hostStatus()).map((s) => [s.state, s.lastError, s.errorSamples, s.reconnects])).toEqual(
      Array(3).fill(['stopped', undefined, 0, 0]),
    );
    expect(readFileSync(env.knownHosts, 'utf8')).toContain(`[127.0.0.2]:${healthy.port} ssh-ed25519`);
  });

  it('samples this machine natively and the others over SSH', async () => {
    // 'alpha' is an ssh-config alias of 127.0.0.4: not a local name, so it goes through SSH.
    const c = collector(['localhost', 'alpha'], { forceSsh: false });
    await c.start();
    await sleep(1000);
    const got = await c.stop();
    const st = c.hostStatus();
    expect(st.localhost?.method).toBe('local');
    expect(st.alpha?.method).toBe('ssh');
    expect(got.localhost.length).toBeGreaterThanOrEqual(3);
    // mlpstorage's rule: a local host's samples carry the machine's own name (the key stays as asked).
    expect(got.localhost.every((s) => s.hostname === osHostname() && s.vmstat !== undefined)).toBe(true);
    expect(got.alpha.every(isData)).toBe(true);
    expect(Math.abs(got.localhost.length - got.alpha.length)).toBeLessThanOrEqual(1);
    const data = c.toTimeSeriesData();
    expect(data.collectionMethod).toBe('ssh');
    expect(data.hostsCollected).toEqual(['localhost', 'alpha']);
  });

  it('runs the loop under plain sh (dash: no read -t, a watchdog instead)', async () => {
    const c = collector(['127.0.0.2'], { ssh: { remoteShell: 'sh' } });
    await c.start();
    expect(c.hostStatus()['127.0.0.2']?.remoteShell).toBe('sh');
    await sleep(800);
    const got = await c.stop();
    expect(got['127.0.0.2'].length).toBeGreaterThanOrEqual(3);
    expect(got['127.0.0.2'].every(isData)).toBe(true);
  });

  it('gives a dead address error samples and retries it, without delaying the others', async () => {
    const c = collector(['127.0.0.2', '127.0.0.9']);
    await c.start();
    await sleep(1500);
    const got = await c.stop();
    const good = got['127.0.0.2'];
    const dead = got['127.0.0.9'];
    expect(good.length).toBeGreaterThanOrEqual(5);
    expect(good.every(isData)).toBe(true);
    expect(dead.length).toBe(good.length);
    for (const s of dead) {
      expect(Object.keys(s.toDict())).toEqual(['timestamp', 'timestamp_ns', 'hostname', 'errors']);
      expect(s.errors?.ssh).toMatch(/ECONNREFUSED/);
    }
    const st = c.hostStatus()['127.0.0.9'];
    expect(st.lastError?.phase).toBe('connect');
    expect(st.reconnects).toBeGreaterThanOrEqual(2);
    expect(st.gaps).toHaveLength(1);
    expect(c.hostsWithData()).toEqual(['127.0.0.2']);
    // mlpstorage's hosts_collected counts error samples too (its get_hosts_with_data()).
    expect(c.toTimeSeriesData().hostsCollected).toEqual(['127.0.0.2', '127.0.0.9']);
  });

  it('refuses a host whose key changed, with a clear error, and keeps going for the others', async () => {
    const c = collector(['127.0.0.2', '127.0.0.7']);
    await c.start();
    await sleep(700);
    const got = await c.stop();
    const st = c.hostStatus()['127.0.0.7'];
    expect(st.state).toBe('stopped');
    expect(st.lastError?.phase).toBe('host-key');
    expect(st.lastError?.message).toMatch(/HOST KEY CHANGED/);
    expect(st.connects).toBe(0);
    expect(got['127.0.0.7'].every((s) => /HOST KEY CHANGED/.test(s.errors?.ssh ?? ''))).toBe(true);
    expect(got['127.0.0.2'].every(isData)).toBe(true);
  });

  it("with strictHostKeyChecking 'yes' refuses an unknown host", async () => {
    const c = collector(['127.0.0.6'], { ssh: { strictHostKeyChecking: 'yes', knownHostsPath: join(env.dir, 'empty_known_hosts') } });
    await c.start();
    await sleep(300);
    await c.stop();
    expect(c.hostStatus()['127.0.0.6']?.lastError?.message).toMatch(/no known host key/);
  });

  it('resumes a host whose sshd was killed and restarted, recording the gap', async () => {
    const c = collector(['127.0.0.2', '127.0.0.5']);
    await c.start();
    await sleep(800);
    await flaky.kill();
    await sleep(1200);
    await flaky.start();
    await waitFor(() => c.hostStatus()['127.0.0.5']?.state === 'streaming', 20_000, 'the host to stream again');
    await sleep(800);
    const got = await c.stop();
    const good = got['127.0.0.2'];
    const back = got['127.0.0.5'];
    expect(good.every(isData)).toBe(true);
    expect(back.length).toBe(good.length);
    const pattern = back.map((s) => (isData(s) ? 'D' : 'E')).join('');
    expect(pattern).toMatch(/^D+E+D+$/);
    const st = c.hostStatus()['127.0.0.5'];
    expect(st.connects).toBe(2);
    expect(st.reconnects).toBeGreaterThanOrEqual(1);
    expect(st.gaps).toHaveLength(1);
    expect(st.gaps[0].slots).toBe(pattern.split('E').length - 1);
    expect(st.reboots).toEqual([]); // same boot_id: a restart, not a reboot
  }, 90_000);

  it('keeps exact cadence on healthy hosts while one host stalls, then resumes it', async () => {
    const c = collector(['127.0.0.2', '127.0.0.3', '127.0.0.6'], { intervalSeconds: 0.2 });
    await c.start();
    await sleep(600);
    const frozen = stally.stallSessions();
    expect(frozen.length).toBeGreaterThan(0);
    try {
      await sleep(1500);
      // stallTicks (3) unanswered ticks: the collector drops the connection and makes a new one.
      await waitFor(() => (c.hostStatus()['127.0.0.6']?.connects ?? 0) >= 2, 20_000, 'the stalled host to be reconnected');
      await sleep(600);
    } finally {
      stally.resume(frozen);
    }
    const got = await c.stop();
    const [a, b, s] = [got['127.0.0.2'], got['127.0.0.3'], got['127.0.0.6']];
    expect(a.every(isData) && b.every(isData)).toBe(true);
    expect(s.length).toBe(a.length);
    // Cadence: every healthy slot present, ticks 0.2 s apart on average (absolute deadlines), and
    // no tick held back by the stalled host (timer jitter only, generous for loaded CI machines).
    // The last sample is stop()'s own, off the cadence.
    const ticked = a.slice(0, -1);
    const gaps = ticked.slice(1).map((x, i) => Number(ns(x) - ns(ticked[i])) / 1e6);
    const span = Number(ns(ticked[ticked.length - 1]) - ns(ticked[0])) / 1e6;
    expect(span / gaps.length).toBeGreaterThan(190);
    expect(span / gaps.length).toBeLessThan(210);
    expect(Math.max(...gaps)).toBeLessThan(350);
    const pattern = s.map((x) => (isData(x) ? 'D' : 'E')).join('');
    expect(pattern).toMatch(/^D+E+D+$/);
    expect(s.some((x) => /stalled/.test(x.errors?.ssh ?? ''))).toBe(true);
    const st = c.hostStatus()['127.0.0.6'];
    expect(st.gaps.length).toBeGreaterThanOrEqual(1);
    // One stall per unanswered tick: the slots that hit the deadline count 1, 2, 3 (stallTicks),
    // then the connection is re-made (the ticks still in flight share its message).
    const counts = s.flatMap((x) => /host stalled; (\d+) in a row/.exec(x.errors?.ssh ?? '')?.[1] ?? []).map(Number);
    expect(counts).toEqual([1, 2, 3]);
    expect(st.stalledTicks).toBe(3);
    expect(s.some((x) => /no frame for 3 ticks in a row \(host stalled\); reconnecting/.test(x.errors?.ssh ?? ''))).toBe(true);
  }, 90_000);

  it('drops and re-makes a connection whose remote loop stops answering keep-alives between ticks', async () => {
    // Ticks 5 s apart, a 20 s stall deadline: only the keep-alive can notice in time.
    const c = collector(['127.0.0.6'], { intervalSeconds: 5, ssh: { keepaliveIntervalSeconds: 0.3, stallTimeoutSeconds: 20 } });
    await c.start();
    await waitFor(() => (c.hostStatus()['127.0.0.6']?.samples ?? 0) >= 1, 10_000, 'the first frame');
    // sshd itself still answers (an SSH-level keep-alive would see nothing wrong); the loop does not.
    const frozen = stally.stallLoops();
    expect(frozen.length).toBeGreaterThan(0);
    try {
      await waitFor(() => (c.hostStatus()['127.0.0.6']?.connects ?? 0) >= 2, 20_000, 'the host to be reconnected');
    } finally {
      stally.resume(frozen);
    }
    const st = c.hostStatus()['127.0.0.6'];
    expect(st.lastError).toMatchObject({ phase: 'timeout', message: '127.0.0.6: timeout: no answer to 3 keep-alives 300 ms apart' });
    const got = (await c.stop())['127.0.0.6'];
    expect(got.length).toBeGreaterThanOrEqual(2);
    expect(isData(got[got.length - 1])).toBe(true);
  }, 60_000);

  it('fills every slot of a healthy host whose round trip is longer than the interval', async () => {
    // 150 ms each way: a 300+ ms round trip at a 200 ms interval.
    const proxy = new DelayProxy({ listen: '127.0.0.10', port: proxyPort, target: { host: '127.0.0.2', port: healthy.port }, delayMs: 150 });
    await proxy.start();
    try {
      const c = collector(['127.0.0.10', '127.0.0.3'], { intervalSeconds: 0.2, ssh: { connectTimeoutSeconds: 20, stallTimeoutSeconds: 2 } });
      await c.start();
      expect(c.hostStatus()['127.0.0.10']?.state).toBe('streaming');
      await sleep(2500);
      const got = await c.stop();
      const [far, near] = [got['127.0.0.10'], got['127.0.0.3']];
      expect(far.length).toBeGreaterThanOrEqual(10);
      // None lost: every slot the near host has, the far one has too, with data (the last
      // tick's frame included: stop() waits for the ticks in flight).
      expect(far.length).toBe(near.length);
      expect(far.map((x) => (isData(x) ? 'D' : `E(${x.errors?.ssh})`))).toEqual(far.map(() => 'D'));
      far.forEach((x, i) => expect(ns(x)).toBe(ns(near[i])));
      const st = c.hostStatus()['127.0.0.10'];
      expect(st).toMatchObject({ errorSamples: 0, lateFrames: 0, stalledTicks: 0, reconnects: 0, gaps: [] });
      expect(st.rttMs).toBeGreaterThan(300);
      expect(proxy.connections).toBe(1);
    } finally {
      await proxy.close();
    }
  }, 90_000);

  it('times out a host that never speaks SSH, and stop() during start() returns at once', async () => {
    const c = collector(['127.0.0.2', '127.0.0.8'], { ssh: { connectTimeoutSeconds: 1 } });
    await c.start();
    expect(c.hostStatus()['127.0.0.8']?.lastError?.phase).toBe('timeout');
    await c.stop();
    const d = collector(['127.0.0.8'], { ssh: { connectTimeoutSeconds: 20 } });
    const starting = d.start();
    await sleep(200);
    const t0 = performance.now();
    const got = await d.stop();
    await starting;
    expect(performance.now() - t0).toBeLessThan(4000);
    expect(got['127.0.0.8']).toEqual([]);
  });

  it('toTimeSeriesData lists every requested host, [] for one without samples (as mlpstorage)', async () => {
    const d = collector(['127.0.0.2', '127.0.0.8'], { ssh: { connectTimeoutSeconds: 20 } });
    const starting = d.start();
    await sleep(300);
    const got = await d.stop();
    await starting;
    expect(got).toEqual({ '127.0.0.2': [], '127.0.0.8': [] });
    const data = d.toTimeSeriesData();
    expect([...data.samplesByHost.keys()]).toEqual(['127.0.0.2', '127.0.0.8']);
    expect(data.toDict().samples_by_host).toEqual({ '127.0.0.2': [], '127.0.0.8': [] });
    expect(data.hostsRequested).toEqual(['127.0.0.2', '127.0.0.8']);
    expect(data.hostsCollected).toEqual([]);
    expect(data.numSamples).toBe(0);
  });

  it('a start() that fails after connecting stops every connection, remote loop and timer', async () => {
    let sessionsAtFailure = 0;
    const spy = vi.spyOn(TimeSeriesCollector.prototype, 'start').mockImplementationOnce(async () => {
      sessionsAtFailure = healthy.sessionPids().length;
      throw new Error('local sampler failed');
    });
    const path = join(env.dir, `failed-start-${process.hrtime.bigint()}.jsonl`);
    const sink = new JsonlSink(path);
    try {
      // 'localhost' is sampled natively, after the SSH host ('alpha') streams: its failure comes last.
      const c = collector(['localhost', 'alpha'], { forceSsh: false, sink });
      await expect(c.start()).rejects.toThrow('local sampler failed');
      expect(spy).toHaveBeenCalledTimes(1);
      expect(sessionsAtFailure).toBeGreaterThan(0); // alpha's remote loop was running
      expect(c.isRunning).toBe(false);
      await waitFor(() => healthy.sessionPids().length === 0, 5000, 'the remote loop to end');
      await waitFor(() => !process.getActiveResourcesInfo().includes('TCPSocketWrap'), 3000, 'the connection to close');
      // The sink it opened is closed again (a complete, empty recording), and it can start anew.
      const back = await readTimeSeriesJsonl(path);
      expect(back.complete).toBe(true);
      expect(back.data.numSamples).toBe(0);
      expect(c.hostStatus()).toEqual({});
    } finally {
      spy.mockRestore();
    }
  });

  it('stop() during start() never lets start() go on to run', async () => {
    const original = TimeSeriesCollector.prototype.start;
    const spy = vi.spyOn(TimeSeriesCollector.prototype, 'start').mockImplementationOnce(async function (this: TimeSeriesCollector) {
      await sleep(400);
      return original.call(this);
    });
    try {
      const c = collector(['localhost', 'alpha'], { forceSsh: false });
      let samples = 0;
      c.on('sample', () => samples++);
      const starting = c.start();
      await waitFor(() => spy.mock.calls.length > 0, 10_000, 'the local sampler to be starting');
      const stopped = c.stop();
      await starting;
      await stopped;
      expect(c.isRunning).toBe(false);
      const after = samples;
      await sleep(600);
      expect(samples).toBe(after); // no timer ticking behind a stopped collector
      expect(c.hostStatus().alpha?.state).toBe('stopped');
    } finally {
      spy.mockRestore();
    }
  });

  it("honours the ssh config's UserKnownHostsFile, StrictHostKeyChecking and HostKeyAlias", async () => {
    const home = mkdtempSync(join(env.dir, 'home-'));
    const khChanged = join(env.dir, 'kh_changed'); // another key for the host
    const khEmpty = join(env.dir, 'kh_empty');
    const khAlias = join(env.dir, 'kh_alias'); // the right key, under the alias only
    writeFileSync(khChanged, impostor.knownHostsLine('127.0.0.2').replace(`:${impostor.port}`, `:${healthy.port}`));
    writeFileSync(khEmpty, '');
    writeFileSync(khAlias, healthy.knownHostsLine('the-alias').replace(`[the-alias]:${healthy.port}`, 'the-alias'));
    const cfg = join(env.dir, 'ssh_config_kh');
    writeFileSync(cfg, [
      'Host kh-changed',
      '  HostName 127.0.0.2',
      `  UserKnownHostsFile ${khChanged}`,
      'Host kh-unknown',
      '  HostName 127.0.0.3',
      `  UserKnownHostsFile ${khEmpty}`,
      'Host kh-alias',
      '  HostName 127.0.0.4',
      `  UserKnownHostsFile ${khAlias}`,
      '  HostKeyAlias the-alias',
      'Host *',
      `  Port ${healthy.port}`,
      '  StrictHostKeyChecking yes',
      '  GlobalKnownHostsFile /dev/null',
      '  User root',
      `  IdentityFile ${env.clientKey}`,
      '  IdentitiesOnly yes',
      '',
    ].join('\n'));
    const savedHome = process.env.HOME;
    process.env.HOME = home;
    try {
      // No ssh.knownHostsPath, no ssh.strictHostKeyChecking: the config decides.
      const c = collector(['kh-changed', 'kh-unknown', 'kh-alias'], { ssh: { configPath: cfg, knownHostsPath: undefined } });
      await c.start();
      await sleep(700);
      const got = await c.stop();
      const st = c.hostStatus();
      expect(st['kh-changed']?.lastError?.phase).toBe('host-key');
      expect(st['kh-changed']?.lastError?.message).toMatch(/HOST KEY CHANGED for \[127\.0\.0\.2\]:\d+/);
      expect(st['kh-changed']?.lastError?.message).toContain(khChanged);
      expect(got['kh-changed'].every((x) => /HOST KEY CHANGED/.test(x.errors?.ssh ?? ''))).toBe(true);
      expect(st['kh-unknown']?.lastError?.message).toMatch(/no known host key .* strictHostKeyChecking is 'yes'/);
      expect(st['kh-alias']?.connects).toBe(1);
      expect(got['kh-alias'].length).toBeGreaterThan(0);
      expect(got['kh-alias'].every(isData)).toBe(true);
      // Nothing was appended anywhere: not to $HOME, not to the config's files.
      expect(existsSync(join(home, '.ssh', 'known_hosts'))).toBe(false);
      expect(readFileSync(khEmpty, 'utf8')).toBe('');

      // An explicit option wins over the config; new keys go to the config's first file.
      const d = collector(['kh-unknown'], { ssh: { configPath: cfg, knownHostsPath: undefined, strictHostKeyChecking: 'accept-new' } });
      await d.start();
      expect(d.hostStatus()['kh-unknown']?.state).toBe('streaming');
      await d.stop();
      expect(readFileSync(khEmpty, 'utf8')).toBe(healthy.knownHostsLine('127.0.0.3'));
      expect(existsSync(join(home, '.ssh', 'known_hosts'))).toBe(false);
    } finally {
      process.env.HOME = savedHome;
    }
  });

  it('warns once per host, with ssh\'s error, when ssh -G rejects the config (and still connects)', async () => {
    const cfg = join(env.dir, 'ssh_config_bad');
    writeFileSync(cfg, `${readFileSync(sshConfig, 'utf8')}\nHost *\n  NoSuchOption yes\n`);
    const warnings: string[] = [];
    const c = collector(['127.0.0.2', '127.0.0.3'], { ssh: { configPath: cfg }, logger: { warn: (m) => warnings.push(m) } });
    await c.start();
    await sleep(500);
    const got = await c.stop();
    const gWarnings = warnings.filter((w) => /ssh -G/.test(w));
    expect(gWarnings).toHaveLength(2);
    expect(gWarnings[0]).toMatch(/^hostseries: 127\.0\.0\.2: `ssh -G` failed \(.*Bad configuration option: nosuchoption/);
    expect(gWarnings[1]).toMatch(/^hostseries: 127\.0\.0\.3: /);
    expect(got['127.0.0.2'].every(isData) && got['127.0.0.3'].every(isData)).toBe(true);
  });

  it('stamps samples with the real-time clock at each tick (a clock step shows)', async () => {
    const c = collector(['127.0.0.2']);
    await c.start();
    await sleep(600);
    const realNow = Date.now.bind(Date);
    const HOUR = 3_600_000;
    const spy = vi.spyOn(Date, 'now').mockImplementation(() => realNow() + HOUR); // the clock is stepped an hour on
    try {
      await sleep(600);
    } finally {
      spy.mockRestore();
    }
    await sleep(600);
    const got = (await c.stop())['127.0.0.2'];
    const end = realNow();
    const offsets = got.map((x) => Number(ns(x) / 1_000_000n) - end);
    // Before, during and after the step: near now, an hour on, near now again.
    expect(offsets.some((o) => o > HOUR - 10_000 && o < HOUR + 10_000)).toBe(true);
    expect(offsets[0]).toBeLessThan(0);
    expect(offsets[0]).toBeGreaterThan(-10_000);
    expect(Math.abs(offsets[offsets.length - 1])).toBeLessThan(10_000);
    expect(got.every(isData)).toBe(true);
  });

  it('marks the first sample after a reboot (boot_id change), and keeps every sample', async () => {
    const [bootA, bootB] = ['aaaaaaaa-0000-4000-8000-000000000001', 'bbbbbbbb-0000-4000-8000-000000000002'];
    writeFileSync(bootFile, `${bootA}\n`);
    const reboots: HostReboot[] = [];
    const c = collector(['127.0.0.11', '127.0.0.2']);
    c.on('reboot', (_host, r) => reboots.push(r));
    await c.start();
    expect(c.hostStatus()['127.0.0.11']?.bootId).toBe(bootA);
    await sleep(600);
    writeFileSync(bootFile, `${bootB}\n`); // "reboot": the next session sees another kernel
    expect(rebooty.killSessions().length).toBeGreaterThan(0);
    await waitFor(() => (c.hostStatus()['127.0.0.11']?.connects ?? 0) >= 2, 20_000, 'the host to come back');
    await sleep(600);
    const got = await c.stop();
    const h = got['127.0.0.11'];
    expect(h.length).toBe(got['127.0.0.2'].length);
    const marked = h.filter((x) => x.errors?.reboot !== undefined);
    expect(marked).toHaveLength(1);
    expect(marked[0].errors).toEqual({ reboot: `boot_id changed from ${bootA} to ${bootB}` });
    expect(marked[0].toDict().errors).toEqual({ reboot: `boot_id changed from ${bootA} to ${bootB}` });
    // Data, gap, then the marked sample is the first with data again.
    const pattern = h.map((x) => (x.errors?.reboot ? 'R' : isData(x) ? 'D' : 'E')).join('');
    expect(pattern).toMatch(/^D+E*RD+$/);
    const st = c.hostStatus()['127.0.0.11'];
    expect(st.reboots).toMatchObject([{ previousBootId: bootA, bootId: bootB }]);
    expect(reboots).toMatchObject([{ previousBootId: bootA, bootId: bootB }]);
    expect(st.bootId).toBe(bootB);
    expect(c.hostsWithData()).toEqual(['127.0.0.11', '127.0.0.2']);
  }, 90_000);

  it('warns once when hosts share one kernel (boot_id), and keeps every sample of each', async () => {
    const warnings: string[] = [];
    // localhost and 127.0.0.1 are this machine, sampled natively; 'alpha' is it too, over SSH.
    const c = collector(['localhost', '127.0.0.1', 'alpha'], { forceSsh: false, logger: { warn: (m) => warnings.push(m) } });
    await c.start();
    await sleep(800);
    const got = await c.stop();
    const shared = warnings.filter((w) => /one kernel/.test(w));
    expect(shared).toHaveLength(1);
    const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'latin1').trim();
    expect(shared[0]).toContain(`boot_id ${bootId}`);
    for (const h of ['localhost', '127.0.0.1', 'alpha']) {
      expect(shared[0]).toContain(h);
      expect(got[h].length).toBeGreaterThanOrEqual(3);
    }
    expect(c.hostStatus().alpha?.bootId).toBe(bootId);
    // Several hosts over SSH on this one kernel: still one warning.
    const more: string[] = [];
    const d = collector(['127.0.0.2', '127.0.0.3', 'alpha'], { logger: { warn: (m) => more.push(m) } });
    await d.start();
    await sleep(300);
    await d.stop();
    expect(more.filter((w) => /one kernel/.test(w))).toHaveLength(1);
    expect(more.find((w) => /one kernel/.test(w))).toMatch(/127\.0\.0\.2, 127\.0\.0\.3 and alpha run on one kernel/);
  });

  it('applies the lifecycle errors of the local collector', async () => {
    const c = collector(['127.0.0.2']);
    await expect(c.stop()).rejects.toMatchObject({ code: 'ERR_NOT_STARTED' });
    await c.start();
    await expect(c.start()).rejects.toBeInstanceOf(LifecycleError);
    await expect(c.start()).rejects.toMatchObject({ code: 'ERR_ALREADY_STARTED' });
    const a = c.stop();
    expect(c.stop()).toBe(a);
    await a;
    await expect(c.start()).rejects.toMatchObject({ code: 'ERR_ALREADY_STOPPED' });
  });

  it('emits samples, iterates them, and stops on abort', async () => {
    const ac = new AbortController();
    const c = collector(['127.0.0.2', '127.0.0.3'], { signal: ac.signal });
    const seen: string[] = [];
    c.on('sample', (_s, host) => seen.push(host));
    await c.start();
    const iterated: TimeSeriesSample[] = [];
    const loop = (async () => {
      for await (const s of c) iterated.push(s);
    })();
    await sleep(700);
    ac.abort();
    await loop; // ends when the collector stops
    expect(c.isRunning).toBe(false);
    expect(iterated.length).toBeGreaterThanOrEqual(4);
    expect(new Set(seen)).toEqual(new Set(['127.0.0.2', '127.0.0.3']));
  });

  it('feeds a sink every sample, error samples included, with the run metadata', async () => {
    const path = join(env.dir, `run-${process.hrtime.bigint()}.jsonl`);
    const sink = new JsonlSink(path);
    const c = collector(['127.0.0.2', '127.0.0.9'], { sink });
    await c.start();
    await sleep(700);
    const got = await c.stop();
    const n = got['127.0.0.2'].length + got['127.0.0.9'].length;
    expect(sink.unwritten).toEqual([]);
    const { data, complete, skippedLines } = await readTimeSeriesJsonl(path);
    expect([complete, skippedLines]).toEqual([true, 0]);
    expect(data.collectionMethod).toBe('ssh');
    expect(data.collectionIntervalSeconds).toBe(0.25);
    expect(data.hostsRequested).toEqual(['127.0.0.2', '127.0.0.9']);
    expect(data.hostsCollected).toEqual(['127.0.0.2', '127.0.0.9']);
    expect(data.numSamples).toBe(n);
    expect([...data.samplesByHost.keys()]).toEqual(['127.0.0.2', '127.0.0.9']);
    // Every sample, as kept in memory, error samples included.
    for (const h of ['127.0.0.2', '127.0.0.9']) {
      expect(data.samplesByHost.get(h)!.map((x) => x.toDict())).toEqual(got[h].map((x) => x.toDict()));
    }
    expect(data.samplesByHost.get('127.0.0.2')!.every(isData)).toBe(true);
    expect(data.samplesByHost.get('127.0.0.9')!.every((x) => /ECONNREFUSED/.test(x.errors?.ssh ?? ''))).toBe(true);
  });

  it('the remote loop ends by itself on stdin EOF and after missed ticks (bash and sh)', async () => {
    const key = new KeyStore().get(env.clientKey, true)!.key;
    const conn = new Client();
    await new Promise<void>((resolve, reject) => {
      conn.on('ready', () => resolve()).on('error', reject);
      const authHandler: PublicKeyAuthMethod[] = [{ type: 'publickey', username: 'root', key }];
      conn.connect({ host: '127.0.0.3', port: healthy.port, username: 'root', authHandler, hostVerifier: () => true });
    });
    try {
      const run = (shell: 'auto' | 'sh', sendEof: boolean, deadmanSeconds: number, keepAliveMs = 0) =>
        new Promise<{ ms: number; frames: number; pongs: number }>((resolve, reject) => {
          conn.exec(bootstrapCommand(shell), (err, ch) => {
            if (err) return reject(err);
            const nonce = newNonce();
            const p = new FrameParser(nonce);
            let frames = 0;
            let pongs = 0;
            const t = performance.now();
            ch.on('data', (d: Buffer) => {
              for (const f of p.push(d)) {
                if (f.kind === 'pong') pongs++;
                else frames++;
              }
            });
            ch.on('close', () => resolve({ ms: performance.now() - t, frames, pongs }));
            ch.write(`${buildRemoteScript({ nonce, metrics: ['loadavg'], deadmanSeconds })}\n1\n`);
            if (keepAliveMs) {
              // 'p' lines for keepAliveMs, then one more tick, then EOF.
              const ka = setInterval(() => ch.write('p\n'), 250);
              setTimeout(() => {
                clearInterval(ka);
                ch.write('2\n');
                setTimeout(() => ch.end(), 300);
              }, keepAliveMs);
            } else if (sendEof) setTimeout(() => ch.end(), 300);
          });
        });
      for (const shell of ['auto', 'sh'] as const) {
        // EOF with a 60 s dead-man timer: only the EOF can end it this soon.
        const eof = await run(shell, true, 60);
        expect(eof.frames).toBe(2); // hello + tick 1
        expect(eof.ms).toBeLessThan(20_000);
        // No EOF, no ticks: the dead-man timer (1 s; the dash watchdog looks every second) ends it.
        const dead = await run(shell, false, 1);
        expect(dead.ms).toBeGreaterThan(900);
        expect(dead.ms).toBeLessThan(20_000);
        // Keep-alive lines hold it open past the dead-man period; the tick after them is answered.
        const kept = await run(shell, false, 1, 3000);
        expect(kept.frames).toBe(3); // hello + ticks 1 and 2
        expect(kept.pongs).toBeGreaterThanOrEqual(10); // each `p` answered
        expect(kept.ms).toBeGreaterThan(3000);
      }
    } finally {
      conn.end();
      await new Promise<void>((r) => conn.once('close', () => r()));
    }
  }, 90_000);

  describe('the event loop: a live consumer holds it, nothing else does', () => {
    const options = () => ({
      hosts: ['127.0.0.2', '127.0.0.3'],
      intervalSeconds: 0.25,
      forceSsh: true,
      ssh: { configPath: sshConfig, knownHostsPath: env.knownHosts, agent: false, connectTimeoutSeconds: 3, keepaliveIntervalSeconds: 1 },
    });

    it('a started collector that is never stopped lets the process exit', async () => {
      const r = await runChild(['forget', JSON.stringify(options())], 20_000);
      expect(r.out).toBe('started\n');
      expect([r.killed, r.code, r.err]).toEqual([false, 0, '']);
    });

    it('`for await` gets its samples, and once it breaks the process exits', async () => {
      const r = await runChild(['iterate', JSON.stringify(options()), '3'], 20_000);
      expect(r.out).toBe('started\ngot 3\n');
      expect([r.killed, r.code, r.err]).toEqual([false, 0, '']);
    });

    it("an on('sample') listener keeps the process alive until stop()", async () => {
      const r = await runChild(['listen', JSON.stringify(options()), '1500'], 20_000);
      expect([r.killed, r.code, r.err]).toEqual([false, 0, '']);
      const [started, stopped] = r.out.trim().split('\n');
      expect(started).toBe('started');
      // Two hosts, 0.25 s apart for 1.5 s.
      expect(Number(/^stopped (\d+)$/.exec(stopped ?? '')?.[1])).toBeGreaterThanOrEqual(8);
    });
  });

  it('stop() takes a last sample of every host, so a run shorter than the interval has two (and rates)', async () => {
    // 127.0.0.9 is down: its last slot is an error sample, and it does not hold stop() up.
    const c = collector(['127.0.0.2', '127.0.0.3', '127.0.0.9'], { intervalSeconds: 5 });
    await c.start();
    await sleep(1000);
    const t0 = performance.now();
    const got = await c.stop();
    expect(performance.now() - t0).toBeLessThan(3000);
    for (const h of ['127.0.0.2', '127.0.0.3']) {
      expect(got[h].map(isData)).toEqual([true, true]);
      const gap = Number(ns(got[h][1]) - ns(got[h][0])) / 1e6;
      expect(gap).toBeGreaterThan(900);
      expect(gap).toBeLessThan(4000);
      const rates = computeRates(got[h][0], got[h][1]);
      expect(rates.intervalSeconds).toBeCloseTo(gap / 1000, 3);
      expect(rates.net.lo?.rx_bytes_s).toBeGreaterThanOrEqual(0);
      expect(rates.cpu.all).toBeDefined();
    }
    expect(got['127.0.0.9']).toHaveLength(2);
    expect(got['127.0.0.9'].every((x) => /ECONNREFUSED/.test(x.errors?.ssh ?? ''))).toBe(true);
    // One last tick for all: the end samples share a timestamp.
    expect(ns(got['127.0.0.2'][1])).toBe(ns(got['127.0.0.9'][1]));

    // This machine, sampled natively beside an SSH host ('alpha'), ends with its own last sample too.
    const d = collector(['localhost', 'alpha'], { forceSsh: false, intervalSeconds: 5 });
    await d.start();
    await sleep(1000);
    const both = await d.stop();
    expect(both.localhost.map((x) => x.vmstat !== undefined)).toEqual([true, true]);
    expect(both.alpha.map(isData)).toEqual([true, true]);
  });

  it('uses a public key blob the test sshd accepts (sanity of the fixture)', () => {
    expect(publicKeyBlob(`${healthy.hostKey}.pub`).subarray(4, 15).toString()).toBe('ssh-ed25519');
  });
});
