/**
 * Real Prometheus, VictoriaMetrics and node_exporter (Debian's packages, installed by
 * scripts/install-test-deps.sh) started on 127.0.0.1 with free ports and throwaway storage, for
 * the Prometheus specs (prometheus, serve-prometheus, dashboard-prometheus); and a minimal reader
 * of the text exposition format to compare expositions series by series.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../scripts/free-port.mjs';

export const BINARIES = {
  prometheus: '/usr/bin/prometheus',
  victoria: '/usr/bin/victoria-metrics',
  nodeExporter: '/usr/bin/prometheus-node-exporter',
} as const;

/** What is missing to run these tests, or undefined. */
export function missingTsdb(): string | undefined {
  const missing = Object.values(BINARIES).filter((b) => spawnSync(b, ['--version'], { stdio: 'ignore' }).error !== undefined);
  return missing.length ? `not installed: ${missing.join(', ')} (scripts/install-test-deps.sh)` : undefined;
}

export interface Service {
  url: string;
  port: number;
  dir: string;
  child: ChildProcess;
  log: () => string;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<void>;
  /** Start again on the same port and storage. */
  restart(): Promise<void>;
  /** Stop and delete its storage. */
  dispose(): Promise<void>;
}

async function waitReady(url: string, child: ChildProcess, log: () => string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${url}: exited (${child.exitCode}): ${log().slice(-2000)}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url}: not ready after ${ms} ms: ${log().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function service(name: string, args: (port: number, dir: string) => string[], readyPath: string, setup?: (dir: string) => void): Promise<Service> {
  const dir = mkdtempSync(join(tmpdir(), `hostseries-${name}-`));
  setup?.(dir);
  const port = await freePort(['127.0.0.1']);
  let out = '';
  let child!: ChildProcess;
  const start = async () => {
    child = spawn(BINARIES[name as keyof typeof BINARIES], args(port, dir), { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
    await waitReady(`http://127.0.0.1:${port}${readyPath}`, child, () => out);
  };
  await start();
  const s: Service = {
    url: `http://127.0.0.1:${port}`,
    port,
    dir,
    get child() {
      return child;
    },
    log: () => out,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
    restart: start,
    dispose: async () => {
      await s.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return s;
}

/** Prometheus with the remote-write receiver, scraping `targets` (host:port) every second if given. */
export function startPrometheus(targets: string[] = []): Promise<Service> {
  return service('prometheus', (port, dir) => [
    `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`, '--web.enable-remote-write-receiver', '--log.level=warn',
  ], '/-/ready', (dir) => writeFileSync(join(dir, 'prometheus.yml'), [
    'global: { scrape_interval: 1s, evaluation_interval: 1s }',
    'scrape_configs:',
    ...(targets.length ? [`  - job_name: hostseries`, `    static_configs: [{ targets: [${targets.map((t) => `"${t}"`).join(', ')}] }]`] : []),
    '',
  ].join('\n')));
}

/**
 * VictoriaMetrics single-node (remote write at /api/v1/write). `latencyOffset`: how far behind
 * what it took its queries answer (its default is 30 s; 0s here, so that a test reads back at once;
 * the dashboard's spec runs it as docs/prometheus.md advises operators to, `1s`).
 */
export function startVictoria(o: { latencyOffset?: string } = {}): Promise<Service> {
  return service('victoria', (port, dir) => [
    `-httpListenAddr=127.0.0.1:${port}`, `-storageDataPath=${join(dir, 'data')}`, '-loggerLevel=ERROR', `-search.latencyOffset=${o.latencyOffset ?? '0s'}`,
  ], '/health');
}

/** node_exporter with the collectors of the files hostseries reads. */
export function startNodeExporter(): Promise<Service> {
  return service('nodeExporter', (port) => [
    `--web.listen-address=127.0.0.1:${port}`, '--collector.disable-defaults', '--collector.diskstats', '--collector.meminfo',
    '--collector.netdev', '--collector.loadavg', '--collector.stat', '--collector.cpu', '--collector.vmstat',
  ], '/metrics');
}

/** One series of a text exposition. */
export interface ParsedSeries {
  name: string;
  labels: Record<string, string>;
  value: number;
  timestampMs?: number;
}

/** The series and `# TYPE`s of a Prometheus text exposition (0.0.4). */
export function parseExposition(text: string): { series: ParsedSeries[]; types: Map<string, string> } {
  const series: ParsedSeries[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    const t = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (t) types.set(t[1], t[2]);
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/.exec(line);
    if (!m) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1]] = l[2].replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    }
    series.push({ name: m[1], labels, value: Number(m[3]), ...(m[4] ? { timestampMs: Number(m[4]) } : {}) });
  }
  return { series, types };
}

/** A series' identity: name and sorted labels. */
export const seriesKey = (name: string, labels: Record<string, string>): string =>
  `${name}{${Object.keys(labels).sort().map((k) => `${k}=${JSON.stringify(labels[k])}`).join(',')}}`;
