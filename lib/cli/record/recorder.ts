/**
 * One interface over the two collectors `record` uses: TimeSeriesCollector when every host is
 * this machine, MultiHostTimeSeriesCollector as soon as one is remote (or with --force-ssh).
 * Samples reach the file through the sink; the collector keeps only the latest two (for rates).
 * Samples the file could not take (a failing disk) stay in the sink's `unwritten`, not here.
 */
import type { HostseriesError } from '../../errors.js';
import { TimeSeriesCollector } from '../../collector/time-series-collector.js';
import { MultiHostTimeSeriesCollector } from '../../remote/multi-collector.js';
import type { HostState } from '../../types/host-status.js';
import type { Sink } from '../../types/sink.js';
import type { CmdlinePolicy } from '../../types/native.js';
import type { Metric } from '../../types/sample.js';
import type { Reporter } from '../output.js';
import type { Logger, WatchedChild } from '../../types/collector.js';
import type { HostEntry, SshOptions } from '../../types/hosts.js';
import type { Rates } from '../../types/rates.js';

export interface HostCounts {
  total: number;
  streaming: number;
  down: number;
}

export interface Recorder {
  readonly method: 'local' | 'ssh';
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The hosts as keyed in the file (known once started). */
  hosts(): readonly string[];
  hostCounts(): HostCounts;
  /** Hosts that gave not one sample of data (only errors). */
  hostsWithoutData(): string[];
  /** The host cannot be reached now (retrying): --samples does not wait for it. */
  isDown(host: string): boolean;
  /** Rates between this machine's last two samples (local recordings only). */
  latestRates(): Rates | undefined;
  /** Ticks that came due while the machine was too busy to sample (local recordings only). */
  missedTicks(): number | undefined;
  /** Record the command's process tree (and how it ends) from the next sample on. */
  watchCommand(child: WatchedChild): void;
  /**
   * We are a child subreaper: our children other than the command `root` and `exclude` are
   * orphans of its tree (they join it and are reaped); false where not available.
   */
  adoptOrphans(root: number, exclude: readonly number[]): boolean;
  /** Application counters and gauges (local recordings only: undefined otherwise). */
  readonly app: { count(name: string, n: number): void; gauge(name: string, value: number): void } | undefined;
}

export interface RecorderOptions {
  intervalSeconds: number;
  metrics?: Metric[];
  sink: Sink;
  reporter: Reporter;
  /** A collector's error (default: a warning). Sink failures arrive here too. */
  onError?: (e: HostseriesError) => void;
  /** Processes to record from the first sample on (`--watch`, and `self` beside a command). */
  watch?: readonly string[];
  /** What of their command lines is recorded (`--cmdline`). */
  cmdline?: CmdlinePolicy;
}

function errorHandler(o: RecorderOptions): (e: HostseriesError) => void {
  return o.onError ?? ((e) => o.reporter.warn(e.message));
}

/**
 * The collectors warn when memory holds only `maxSamples`: by design here (every sample goes to
 * the file), and "samples are dropped" would only alarm, so that one is not shown.
 */
function collectorLogger(r: Reporter): Logger {
  return {
    warn: (m) => {
      if (!m.includes('maxSamples (')) r.warn(m);
    },
    debug: (m) => r.debug(m),
  };
}

export function localRecorder(o: RecorderOptions): Recorder {
  const c = new TimeSeriesCollector({
    intervalSeconds: o.intervalSeconds,
    maxSamples: 2,
    overflow: 'rolling',
    metrics: o.metrics,
    sink: o.sink,
    logger: collectorLogger(o.reporter),
    watch: o.watch,
    cmdline: o.cmdline,
  });
  c.on('error', errorHandler(o));
  return {
    method: 'local',
    start: () => c.start(),
    stop: async () => void (await c.stop()),
    hosts: () => [c.hostname],
    hostCounts: () => ({ total: 1, streaming: c.isRunning ? 1 : 0, down: 0 }),
    hostsWithoutData: () => [],
    isDown: () => false,
    latestRates: () => c.currentRates(),
    missedTicks: () => c.missedTicks,
    watchCommand: (child) => c.watch(child),
    adoptOrphans: (root, exclude) => c.adoptOrphans(root, exclude),
    app: c,
  };
}

const DOWN: ReadonlySet<HostState> = new Set<HostState>(['backoff', 'failed']);

export function multiHostRecorder(o: RecorderOptions & { hosts: HostEntry[]; ssh: SshOptions; forceSsh: boolean }): Recorder {
  const r = o.reporter;
  const c = new MultiHostTimeSeriesCollector({
    hosts: o.hosts,
    intervalSeconds: o.intervalSeconds,
    maxSamples: 2,
    overflow: 'rolling',
    metrics: o.metrics,
    ssh: o.ssh,
    forceSsh: o.forceSsh,
    sink: o.sink,
    logger: collectorLogger(r),
    // Every host's processes of these names, PIDs or command lines (the remote loop reads them).
    ...(o.watch !== undefined && o.watch.length > 0 ? { watch: o.watch } : {}),
    ...(o.cmdline ? { cmdline: o.cmdline } : {}),
  });
  c.on('error', errorHandler(o));
  // Say it when a host goes down or comes back, not on every retry.
  const down = new Set<string>();
  c.on('hostState', (host, state, err) => {
    r.debug(`${host}: ${state}${err ? ` (${err.message})` : ''}`);
    if (DOWN.has(state) && !down.has(host)) {
      down.add(host);
      r.warn(`${host}: ${err ? err.message.replace(`${host}: `, '') : state}; recording goes on without it, retrying`);
    } else if (state === 'streaming' && down.has(host)) {
      down.delete(host);
      r.info(`${host}: streaming again`);
    }
  });
  return {
    method: 'ssh',
    start: () => c.start(),
    stop: async () => void (await c.stop()),
    hosts: () => c.hosts,
    hostCounts: () => {
      const s = Object.values(c.hostStatus());
      return { total: c.hosts.length, streaming: s.filter((h) => h.state === 'streaming').length, down: s.filter((h) => DOWN.has(h.state)).length };
    },
    hostsWithoutData: () => {
      const ok = new Set(c.hostsWithData());
      return c.hosts.filter((h) => !ok.has(h));
    },
    isDown: (host) => {
      const st = c.hostStatus()[host];
      return st !== undefined && DOWN.has(st.state);
    },
    latestRates: () => undefined,
    missedTicks: () => undefined,
    watchCommand: () => r.debug("the command's processes are not recorded with remote hosts"),
    adoptOrphans: () => false,
    app: undefined,
  };
}
