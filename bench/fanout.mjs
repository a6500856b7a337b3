// SSH fan-out at scale: 1, 16, 64 and 256 simulated hosts (127.2.x.y loopback addresses served by
// throwaway sshd instances, 16 ListenAddress lines each) sampled at 1 Hz by the
// MultiHostTimeSeriesCollector (one persistent connection + channel per host), beside the
// one-ssh-process-per-sample method (what mlpstorage does) at small N.
//
//   npm run build:ts && node bench/fanout.mjs [--quick]      (as root, with openssh-server)
//
// Writes bench/results/fanout.md. Client and sshd share this machine: the remote-side CPU is
// reported separately, and the figures are ratios for a real cluster rather than absolutes.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { freePort } from '../scripts/free-port.mjs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';

import { RESULTS, ROOT, fmt, machine, machineMarkdown, processCpuNs, procSelfStat } from './lib/common.mjs';

const require = createRequire(import.meta.url);
const SSHD = '/usr/sbin/sshd';
const KEYGEN = '/usr/bin/ssh-keygen';
const PER_SSHD = 16;
const METRICS_FILES = ['/proc/diskstats', '/proc/vmstat', '/proc/meminfo', '/proc/loadavg', '/proc/net/dev', '/proc/stat'];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function loadDist() {
  const file = join(ROOT, 'dist', 'remote', 'multi-collector.js');
  if (!existsSync(file)) throw new Error('dist/ is missing: run `npm run build:ts` first');
  return {
    ...require(file),
    ...require(join(ROOT, 'dist', 'native', 'sampler.js')),
  };
}

// ---- a farm of sshd instances ------------------------------------------------------------------

function keygen(path) {
  const r = spawnSync(KEYGEN, ['-q', '-t', 'ed25519', '-N', '', '-f', path], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ssh-keygen: ${r.stderr}`);
}

const address = (i) => `127.2.${Math.floor(i / 250)}.${(i % 250) + 2}`;

async function startFarm(n, dir) {
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const hostKey = join(dir, 'host_key');
  const clientKey = join(dir, 'client_key');
  keygen(hostKey);
  keygen(clientKey);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${clientKey}.pub`));
  const hosts = Array.from({ length: n }, (_, i) => address(i));
  // One port for every instance (each listens on its own addresses), so one `ssh.port` serves all.
  const port = await freePort(hosts);
  const servers = [];
  for (let s = 0; s * PER_SSHD < n; s++) {
    const mine = hosts.slice(s * PER_SSHD, (s + 1) * PER_SSHD);
    const config = join(dir, `sshd_config.${s}`);
    writeFileSync(config, [
      `Port ${port}`, ...mine.map((a) => `ListenAddress ${a}`), `HostKey ${hostKey}`, `PidFile ${join(dir, `sshd.${s}.pid`)}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`, 'PasswordAuthentication no', 'KbdInteractiveAuthentication no',
      'UsePAM no', 'StrictModes no', 'PrintMotd no', 'UseDNS no', 'LogLevel ERROR',
      // A real cluster has one sshd per host; 16 simulated hosts share one here, so its
      // unauthenticated-connection limit is raised to what 16 sshds would allow.
      'MaxStartups 160:30:1600', '',
    ].join('\n'));
    const child = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr.on('data', (d) => (log = (log + d).slice(-4000)));
    servers.push({ child, get log() { return log; } });
  }
  // Ready when every address accepts a connection.
  const deadline = Date.now() + 15000;
  for (const a of hosts) {
    for (;;) {
      const ok = await new Promise((resolve) => {
        const s = require('node:net').connect(port, a, () => { s.destroy(); resolve(true); });
        s.once('error', () => resolve(false));
      });
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`sshd not listening on ${a}:${port}: ${servers.map((s) => s.log).join('\n')}`);
      await sleep(50);
    }
  }
  return {
    hosts, port, clientKey, servers,
    async stop() {
      for (const s of servers) {
        for (const p of [s.child.pid, ...descendants(s.child.pid)]) try { process.kill(p, 'SIGKILL'); } catch {}
      }
      await sleep(200);
    },
  };
}

function processTable() {
  const out = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // own CPU, and that of reaped children (a session's `sleep`, a finished session's sshd)
      out.set(Number(name), { ppid: Number(f[1]), cpuTicks: Number(f[11]) + Number(f[12]), childTicks: Number(f[13]) + Number(f[14]) });
    } catch {}
  }
  return out;
}

function descendants(pid, table = processTable()) {
  const out = [];
  const walk = (p) => {
    for (const [c, v] of table) if (v.ppid === p) { out.push(c); walk(c); }
  };
  walk(pid);
  return out;
}

/**
 * CPU (ns) used so far serving the farm's connections: live sessions (sshd, shells) with their
 * reaped children, plus the sessions already over (in the listeners' child times).
 */
function remoteCpuNs(farm) {
  const t = processTable();
  let ticks = 0;
  for (const s of farm.servers) {
    ticks += t.get(s.child.pid)?.childTicks ?? 0;
    for (const p of descendants(s.child.pid, t)) ticks += (t.get(p)?.cpuTicks ?? 0) + (t.get(p)?.childTicks ?? 0);
  }
  return (ticks * 1e9) / 100;
}

// ---- the persistent-channel collector ---------------------------------------------------------

async function runCollector(lib, farm, n, windowS, dir) {
  const hosts = farm.hosts.slice(0, n);
  const knownHosts = join(dir, `known_hosts.${n}`);
  global.gc?.();
  const mem0 = process.memoryUsage();
  const c = new lib.MultiHostTimeSeriesCollector({
    hosts,
    intervalSeconds: 1,
    forceSsh: true,
    maxSamples: 3600,
    logger: { warn: (m) => console.error(m) },
    ssh: { port: farm.port, username: 'root', privateKeyPath: farm.clientKey, knownHostsPath: knownHosts, configPath: false, agent: false },
  });
  const t0 = performance.now();
  await c.start();
  const startMs = performance.now() - t0;
  const st0 = c.hostStatus();
  const firstStream = Math.max(...Object.values(st0).map((s) => s.firstStreamMs ?? Infinity));
  // Steady state: count from here.
  await sleep(1500);
  const count = () => {
    let data = 0;
    let errors = 0;
    let reconnects = 0;
    for (const s of Object.values(c.hostStatus())) {
      data += s.samples;
      errors += s.errorSamples;
      reconnects += s.reconnects;
    }
    return { data, errors, reconnects };
  };
  const a = count();
  const cpuA = processCpuNs();
  const remoteA = remoteCpuNs(farm);
  const wallA = performance.now();
  await sleep(windowS * 1000);
  const b = count();
  const cpuB = processCpuNs();
  const remoteB = remoteCpuNs(farm);
  const wallB = performance.now();
  global.gc?.();
  const mem1 = process.memoryUsage();
  const byHost = await c.stop();
  const dataSamples = b.data - a.data;
  const slots = dataSamples + (b.errors - a.errors);
  const seconds = (wallB - wallA) / 1000;
  const expected = Math.round(seconds) * n;
  const held = Object.values(byHost).reduce((s, x) => s + x.length, 0);
  return {
    method: 'persistent channel',
    n,
    startMs,
    firstStream,
    cpuPct: ((cpuB - cpuA) / 1e9 / seconds) * 100,
    cpuPerSampleUs: (cpuB - cpuA) / 1e3 / Math.max(1, dataSamples),
    remotePerSampleUs: (remoteB - remoteA) / 1e3 / Math.max(1, dataSamples),
    delivery: dataSamples / Math.max(1, Math.max(slots, expected)),
    dataSamples,
    slots: Math.max(slots, expected),
    reconnects: b.reconnects - a.reconnects,
    heapPerHostKb: (mem1.heapUsed - mem0.heapUsed) / 1024 / n,
    rssPerHostKb: (mem1.rss - mem0.rss) / 1024 / n,
    held,
  };
}

// ---- one ssh process per host per sample (the reference method) ------------------------------

async function runPerSample(lib, farm, n, windowS) {
  const hosts = farm.hosts.slice(0, n);
  const args = (host) => [
    '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR',
    '-i', farm.clientKey, '-p', String(farm.port), `root@${host}`, METRICS_FILES.map((f) => `cat ${f}`).join('; echo @@; '),
  ];
  const parsers = [lib.parseDiskstats, lib.parseVmstat, lib.parseMeminfo, lib.parseLoadavg, lib.parseNetDev, lib.parseStat];
  let ok = 0;
  let late = 0;
  let failed = 0;
  const inflight = new Set();
  const cpuA = processCpuNs();
  const selfA = procSelfStat();
  const remoteA = remoteCpuNs(farm);
  const wallA = performance.now();
  const ticks = windowS;
  for (let t = 0; t < ticks; t++) {
    const due = wallA + (t + 1) * 1000;
    for (const h of hosts) {
      const started = performance.now();
      const p = new Promise((resolve) => {
        const child = spawn('ssh', args(h), { stdio: ['ignore', 'pipe', 'ignore'] });
        const chunks = [];
        child.stdout.on('data', (d) => chunks.push(d));
        child.on('close', (code) => {
          if (code !== 0) failed++;
          else {
            // Parse as the collector would (same native parsers), so the comparison is like for like.
            Buffer.concat(chunks).toString('latin1').split('@@\n').forEach((t, i) => parsers[i]?.(t));
            if (performance.now() - started <= 1000) ok++;
            else late++;
          }
          resolve();
        });
      });
      inflight.add(p);
      p.then(() => inflight.delete(p));
    }
    await sleep(Math.max(0, due - performance.now()));
  }
  await Promise.all(inflight);
  const wallB = performance.now();
  const cpuB = processCpuNs();
  const selfB = procSelfStat();
  const remoteB = remoteCpuNs(farm);
  const childNs = selfB.cutime + selfB.cstime - selfA.cutime - selfA.cstime;
  const seconds = (wallB - wallA) / 1000;
  const total = (cpuB - cpuA) + childNs;
  return {
    method: 'ssh process per sample',
    n,
    cpuPct: (total / 1e9 / seconds) * 100,
    cpuPerSampleUs: total / 1e3 / Math.max(1, ok + late),
    remotePerSampleUs: (remoteB - remoteA) / 1e3 / Math.max(1, ok + late),
    delivery: ok / (ticks * n),
    dataSamples: ok,
    slots: ticks * n,
    late,
    failed,
  };
}

// ---- report -----------------------------------------------------------------------------------

export async function run({ quick = false } = {}) {
  if (!existsSync(SSHD)) throw new Error(`${SSHD} missing: apt-get install openssh-server openssh-client`);
  if (process.getuid?.() !== 0) throw new Error('the fan-out bench starts sshd instances and must run as root');
  const lib = loadDist();
  const sizes = quick ? [1, 16] : [1, 16, 64, 256];
  const baseline = quick ? [1, 4] : [1, 4, 16];
  const windowS = quick ? 5 : 20;
  const dir = mkdtempSync(join(tmpdir(), 'hs-fanout-'));
  const m = machine();
  const farm = await startFarm(Math.max(...sizes), dir);
  const rows = [];
  const base = [];
  try {
    for (const n of sizes) {
      console.error(`fanout: ${n} hosts, persistent channels, ${windowS} s`);
      rows.push(await runCollector(lib, farm, n, windowS, dir));
      await sleep(1000);
    }
    for (const n of baseline) {
      console.error(`fanout: ${n} hosts, one ssh process per sample, ${windowS} s`);
      base.push(await runPerSample(lib, farm, n, windowS));
      await sleep(1000);
    }
  } finally {
    await farm.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  const L = ['# SSH fan-out', ''];
  L.push(`\`node bench/fanout.mjs${quick ? ' --quick' : ''}\` (after \`npm run build:ts\`), ${m.date}.` + (quick ? ' **Quick run: short windows, rough numbers.**' : ''), '');
  L.push(machineMarkdown(m), '');
  L.push(`Simulated hosts are loopback addresses (127.2.x.y), ${PER_SSHD} per sshd instance, all on this ${cpus().length}-CPU machine: ` +
    'collector, sshd and the remote loops share it. All six /proc files per sample (~8 KB a frame here), 1 Hz, ' +
    `a ${windowS} s steady window after every host streams. CPU is user+sys; "% of a core" is over the window.`, '');
  L.push('## Persistent channel per host (MultiHostTimeSeriesCollector)', '');
  L.push('| hosts | collector CPU, % of a core | collector CPU per host-sample | delivery | reconnects | every host streaming after | remote CPU per host-sample (sshd + loop) | JS heap per host | RSS per host |');
  L.push('|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    L.push(`| ${r.n} | ${fmt(r.cpuPct, 2)}% | ${fmt(r.cpuPerSampleUs / 1000, 3)} ms | ${fmt(r.delivery * 100, 1)}% (${r.dataSamples}/${r.slots}) | ${r.reconnects} | ` +
      `${fmt(r.startMs / 1000, 1)} s | ${fmt(r.remotePerSampleUs / 1000, 2)} ms | ${fmt(r.heapPerHostKb, 0)} KiB | ${r.rssPerHostKb > 0 ? `${fmt(r.rssPerHostKb, 0)} KiB` : 'below noise'} |`);
  }
  L.push('', '"Every host streaming after" is the time `start()` took: set-ups (TCP, key exchange, auth, the login shell, the loop) at most 8 in flight, ' +
    'until each host sent its first frame header. Each set-up here also runs root\'s ~/.bashrc (`pyenv init`, a few hundred ms of CPU), ' +
    'on the same 2 CPUs for every simulated host; on a cluster each host pays its own.',
    'Heap and RSS per host are measured after a gc with the collector running: connection, channel buffers and the samples held so far (compact store).', '');
  L.push('## One ssh process per host per sample (the reference method)', '');
  L.push('| hosts | collector CPU incl. ssh children, % of a core | CPU per host-sample | delivered within the interval | late | failed | remote CPU per host-sample |');
  L.push('|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of base) {
    L.push(`| ${r.n} | ${fmt(r.cpuPct, 1)}% | ${fmt(r.cpuPerSampleUs / 1000, 1)} ms | ${fmt(r.delivery * 100, 1)}% (${r.dataSamples}/${r.slots}) | ${r.late} | ${r.failed} | ${fmt(r.remotePerSampleUs / 1000, 1)} ms |`);
  }
  L.push('', '`ssh -o BatchMode=yes ... host cat <the six files>` per host per second, then the same native parse; a sample counts as delivered when it arrived within its interval.', '');
  const md = L.join('\n') + '\n';
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, 'fanout.md'), md);
  return { markdown: md, rows, base };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  run({ quick: process.argv.includes('--quick') })
    .then((r) => {
      console.log(r.markdown);
      process.exit(0);
    })
    .catch((e) => {
      console.error(e);
      process.exit(1);
    });
}
