/**
 * MultiHostTimeSeriesCollector: one recording across many hosts. This machine is sampled by the
 * native sampler (a TimeSeriesCollector), every other host over one persistent SSH channel
 * (connection.ts). One timer ticks every remote host at once, so their samples line up; each
 * tick gives each host exactly one sample: data, or `{timestamp, hostname, errors: {ssh}}`.
 * Samples are stored compactly by the native core (per host, as locally) and become objects only
 * when asked for or when a sink, listener or iterator wants them.
 */
import type { EventEmitter } from 'node:events';
import { hostname as osHostname } from 'node:os';

import { HostseriesError, InvalidOptionError, type SshError } from '../errors.js';
import { TimeSeriesCollector } from '../collector/time-series-collector.js';
import { CollectorBase } from '../collector/base.js';
import { KeepAlive } from '../collector/keep-alive.js';
import { cmdlineOption, notStarted, startRefusal } from '../collector/options.js';
import { LiveStream } from '../collector/stream.js';
import { formatHost, parseHosts } from '../hosts/parse.js';
import { TimeSeriesData } from '../models/data.js';
import { newMarker } from '../models/markers.js';
import type { Marker } from '../types/markers.js';
import type { CmdlinePolicy } from '../types/native.js';
import { TimeSeriesSample } from '../models/sample.js';
import { isoSeconds } from '../native/decode.js';
import { METRICS, type CollectionMethod, type Metric } from '../types/sample.js';
import { HostConnection } from './connection.js';
import { connectionParams, KnownHostsPool } from './connection-params.js';
import { FrameAssembler, type AssembledFrame } from './frame-batch.js';
import type { SampleFrame } from './frames.js';
import { KeyStore } from './keys.js';
import { localBootId, rebootMessage, SharedKernels } from './kernels.js';
import { Limiter } from './limiter.js';
import { resolveSshOptions, type ResolvedSshOptions } from './options.js';
import type { HostReboot, HostState, HostStatus } from '../types/host-status.js';
import { hostKeys, resolveTargets, type RemoteTarget, type Target } from './targets.js';
import { TickSchedule, type Tick } from './tick-schedule.js';
import type { MultiHostTimeSeriesCollectorOptions } from '../types/collector.js';
import type { HostEntry } from '../types/hosts.js';
import { setOwn } from '../json/own.js';


interface Events {
  sample: [TimeSeriesSample, string];
  hostState: [string, HostState, SshError | undefined];
  reboot: [string, HostReboot];
  error: [HostseriesError];
  stop: [Record<string, TimeSeriesSample[]>];
}

interface RemoteHost {
  target: RemoteTarget;
  conn: HostConnection;
  /** The host's samples: parsed and kept natively. */
  assembler: FrameAssembler;
  withData: number;
}

export class MultiHostTimeSeriesCollector extends CollectorBase<Events> implements AsyncIterable<TimeSeriesSample> {
  readonly forceSsh: boolean;
  /** The hosts as requested, in order (the keys of samplesByHost). */
  readonly hosts: readonly string[];
  private readonly entries: HostEntry[];
  private readonly metrics: Metric[];
  private readonly ssh: ResolvedSshOptions;
  /** Processes to watch on every host (`watch`), as the cores take them. */
  private readonly watch: string[] | undefined;
  private readonly cmdline: CmdlinePolicy | undefined;

  private targets: Target[] = [];
  private readonly remote = new Map<string, RemoteHost>();
  private readonly local = new Map<string, TimeSeriesCollector>();
  private readonly live = new LiveStream<TimeSeriesSample>(() => this.updateHold());
  /** Holds the event loop while start() or stop() runs, or while someone consumes samples live. */
  private readonly hold = new KeepAlive();
  private finishing = false;
  private starting: Promise<void> | undefined;
  private wakeStart: (() => void) | undefined;
  private sinkOpen = false;
  private stopping: Promise<Record<string, TimeSeriesSample[]>> | undefined;
  private schedule: TickSchedule | undefined;
  private total = 0;
  private readonly kernels: SharedKernels;
  private localBoot: string | undefined;
  private readonly onAbort = (): void => void this.stop().catch((e: unknown) => this.report(e));
  private readonly onSinkError = (e: HostseriesError): void => this.report(e);

  constructor(options: MultiHostTimeSeriesCollectorOptions) {
    super(options, 0.05);
    const interval = this.intervalSeconds;
    const metrics = options.metrics ?? METRICS;
    if (!Array.isArray(metrics) || metrics.length === 0 || (metrics as readonly unknown[]).some((m) => typeof m !== 'string' || !(METRICS as readonly string[]).includes(m))) {
      throw new InvalidOptionError(`metrics must be a non-empty array of ${METRICS.join(', ')}`);
    }
    // METRICS order is the order of the sample's keys and of the values in a batch.
    this.metrics = METRICS.filter((m) => metrics.includes(m));
    this.entries = toEntries(options.hosts);
    if (this.entries.length === 0) throw new InvalidOptionError('hosts must name at least one host');
    this.forceSsh = options.forceSsh ?? false;
    this.watch = watchItems(options.watch);
    this.cmdline = cmdlineOption(options.cmdline);
    this.ssh = resolveSshOptions(options.ssh, interval);
    this.hosts = Object.freeze(hostKeys(this.entries));
    this.kernels = new SharedKernels(this.hosts, (m) => this.logger.warn(m));
    // EventEmitter's own events are outside the typed map.
    const self = this as unknown as EventEmitter;
    self.on('newListener', () => queueMicrotask(() => this.updateHold()));
    self.on('removeListener', () => this.updateHold());
  }

  /**
   * The event-loop rule (collector/keep-alive.ts): a `for await` or an on('sample') listener
   * keeps the process alive while the collector runs, and so do start() and stop() until they
   * settle; nothing else does (every timer and socket of the collector is unref'd).
   */
  private updateHold(): void {
    const consumed = this.state === 'running' && (this.live.active || this.listenerCount('sample') > 0);
    this.hold.set(this.state === 'starting' || this.finishing || consumed);
  }

  /** Ticks the timer could not fire on time (the event loop was blocked for over an interval). */
  get missedTicks(): number {
    return this.schedule?.missedTicks ?? 0;
  }

  /**
   * Connect to every remote host (at most maxConcurrentHandshakes at once) and start sampling.
   * Resolves once each remote host streams or has failed once (it then keeps retrying), so the
   * first samples are data, not "connecting".
   */
  start(): Promise<void> {
    const refusal = startRefusal(this.state, this.signal);
    if (refusal) return Promise.reject(refusal);
    this.state = 'starting';
    this.updateHold();
    this.signal?.addEventListener('abort', this.onAbort, { once: true });
    this.starting = this.begin().catch(async (e: unknown) => {
      await this.abandonStart();
      throw e;
    });
    return this.starting;
  }

  /**
   * begin() failed: undo what it did (connections, remote loops, local samplers, timers, the
   * sink it opened), so nothing outlives the rejected start(). When stop() came first, finish()
   * does this once start() settles.
   */
  private async abandonStart(): Promise<void> {
    if (this.state !== 'starting') return;
    this.schedule?.stop();
    this.wakeStart?.();
    const conns = [...this.remote.values()].map((h) => h.conn);
    const locals = [...this.local.values()];
    const summary = { endTime: isoSeconds(Date.now()), numSamples: this.total, ...this.runSummaryHosts() };
    await Promise.all([
      ...conns.map((c) => c.stop()),
      ...locals.map((c) => (c.isRunning ? c.stop().then(() => undefined, (err: unknown) => this.report(err)) : undefined)),
    ]);
    this.remote.clear();
    this.local.clear();
    this.kernels.clear();
    this.total = 0;
    if (this.sinkOpen) {
      this.sinkOpen = false;
      await this.sink?.close(summary).catch((err: unknown) => this.report(err));
    }
    this.sink?.off('error', this.onSinkError);
    this.state = 'idle';
    this.updateHold();
    this.signal?.removeEventListener('abort', this.onAbort);
  }

  private async begin(): Promise<void> {
    this.started = new Date();
    const startedAt = performance.now();
    const keyStore = new KeyStore(this.ssh.passphrase);
    this.targets = await resolveTargets(this.entries, this.ssh, this.forceSsh, keyStore);
    const remotes = this.targets.filter((t): t is RemoteTarget => t.kind === 'ssh');
    const knownHosts = new KnownHostsPool(this.ssh.hashKnownHosts);
    for (const t of remotes) knownHosts.for(t.hostKey);
    for (const w of [...keyStore.warnings, ...knownHosts.warnings, ...remotes.flatMap((t) => t.warnings)]) this.logger.warn(`hostseries: ${w}`);
    if (this.state !== 'starting') return; // stopped meanwhile
    if (this.watch && remotes.length > 0) refuseLocalOnly(this.watch, remotes);
    const keep = { maxSamples: this.maxSamples, overflow: this.overflow, historySeconds: this.historySeconds };
    // Every host's parser before the sink opens and any connection: a watch item the core
    // refuses (naming it) fails start() here.
    const assemblers = new Map(remotes.map((t) => [t.key, new FrameAssembler(this.metrics, t.key, keep, this.watch, this.cmdline)]));
    if (this.targets.some((t) => t.kind === 'local')) {
      this.localBoot = localBootId();
      for (const t of this.targets) if (t.kind === 'local' && this.localBoot) this.noteBoot(t.key, this.localBoot);
    }

    if (this.sink) {
      this.sink.on('error', this.onSinkError);
      await this.sink.open({
        collectionIntervalSeconds: this.intervalSeconds,
        startTime: isoSeconds(this.started.getTime()),
        // Provisional: the footer states the method of the hosts actually collected.
        collectionMethod: TimeSeriesData.collectionMethodFor(this.hosts),
        hostsRequested: this.hosts,
      });
      this.sinkOpen = true;
    }
    if (this.state !== 'starting') return; // stopped meanwhile

    const handshakes = new Limiter(this.ssh.maxConcurrentHandshakes);
    const run = { metrics: this.metrics, intervalSeconds: this.intervalSeconds, stallTimeoutMs: this.stallTimeoutMs() };
    let settled = 0;
    let allSettled: () => void = () => {};
    const ready = new Promise<void>((resolve) => {
      allSettled = resolve;
    });
    this.wakeStart = allSettled; // stop() does not wait out slow set-ups
    const firstOutcome = new Set<string>();
    for (const t of remotes) {
      const assembler = assemblers.get(t.key)!;
      const watch = assembler.watchPlan();
      const conn = new HostConnection(
        connectionParams(t, this.ssh, watch ? { ...run, watch } : run),
        {
          knownHosts: knownHosts.for(t.hostKey),
          handshakes,
          startedAt,
          onFrame: (key, tick, frame, reboot) => this.onFrame(key, tick, frame, reboot),
          onError: (key, tick, message) => this.onSlotError(key, tick, message),
          onStateChange: (key, state, err) => {
            if ((state === 'streaming' || state === 'backoff' || state === 'failed') && !firstOutcome.has(key)) {
              firstOutcome.add(key);
              if (++settled === remotes.length) allSettled();
            }
            if (err && state !== 'stopped') this.logger.debug?.(`hostseries: ${err.message}`);
            if (this.listenerCount('hostState') > 0) this.emit('hostState', key, state, err);
          },
          onReboot: (key, reboot) => {
            this.logger.warn(`hostseries: ${key} rebooted (boot_id ${reboot.previousBootId} → ${reboot.bootId}); counters restarted`);
            if (this.listenerCount('reboot') > 0) this.emit('reboot', key, reboot);
          },
          onBoot: (key, bootId) => this.noteBoot(key, bootId),
        },
      );
      this.remote.set(t.key, {
        target: t,
        conn,
        assembler,
        withData: 0,
      });
    }
    for (const h of this.remote.values()) h.conn.start();
    if (remotes.length > 0) {
      // Set-ups run maxConcurrentHandshakes at a time, each bounded by connectTimeoutSeconds.
      const rounds = Math.ceil(remotes.length / this.ssh.maxConcurrentHandshakes);
      const bound = setTimeout(allSettled, rounds * this.ssh.connectTimeoutSeconds * 1000 + 1000).unref();
      await ready;
      clearTimeout(bound);
    }
    if (this.state !== 'starting') return;

    for (const t of this.targets) {
      if (t.kind !== 'local') continue;
      if (this.state !== 'starting') return; // stopped meanwhile (finish() stops what started)
      const c = new TimeSeriesCollector({
        intervalSeconds: this.intervalSeconds,
        maxSamples: this.maxSamples,
        overflow: this.overflow,
        historySeconds: this.historySeconds,
        metrics: this.metrics,
        ...(this.cmdline ? { cmdline: this.cmdline } : {}),
        // The samples carry the machine's own name (mlpstorage: socket.gethostname()); the
        // requested name stays the key of samples_by_host.
        hostname: osHostname(),
        logger: this.logger,
        ...(this.watch ? { watch: this.watch } : {}),
      });
      c.on('sample', (s) => this.deliver(t.key, s));
      c.on('error', (e) => this.report(e));
      this.local.set(t.key, c);
      await c.start();
    }
    // stop() may have come during the last await: then finish() owns the end, never 'running'.
    if (this.state !== 'starting') return;
    this.state = 'running';
    this.kernels.warnShared();
    this.schedule = new TickSchedule(this.intervalSeconds * 1000, (tick) => {
      for (const h of this.remote.values()) h.conn.tick(tick, h.assembler.request());
    });
    this.schedule.start();
    this.updateHold();
  }

  /** Stop every host (remote loops end by stdin EOF) and return every sample kept, by host. */
  stop(): Promise<Record<string, TimeSeriesSample[]>> {
    if (this.stopping) return this.stopping;
    if (this.state === 'idle') return Promise.reject(notStarted());
    this.stopping = this.finish();
    return this.stopping;
  }

  private async finish(): Promise<Record<string, TimeSeriesSample[]>> {
    const wasStarting = this.state === 'starting';
    this.state = 'stopped';
    this.finishing = true;
    this.updateHold();
    // One last tick, so a run shorter than the interval still has an end sample (and rates). A
    // host that is down gets its error sample at once; the others' frames are waited for below.
    const last = this.schedule?.stopWithLastTick();
    if (last) for (const h of this.remote.values()) h.conn.tick(last, h.assembler.request());
    this.signal?.removeEventListener('abort', this.onAbort);
    if (wasStarting) {
      this.wakeStart?.();
      await this.starting?.catch(() => undefined);
    }
    const conns = [...this.remote.values()].map((h) => h.conn);
    // The frames of the ticks in flight are normally one round trip away: let them arrive
    // (each at most until its stall deadline).
    await Promise.all(conns.map((c) => c.drain(Math.min(3000, this.stallTimeoutMs()))));
    await Promise.all([...this.local.values()].map((c) => c.stop().catch((e: unknown) => this.report(e))));
    await Promise.all(conns.map((c) => c.stop()));
    this.ended = new Date();
    try {
      if (this.sinkOpen) await this.sink?.close({ endTime: isoSeconds(this.ended.getTime()), numSamples: this.total, ...this.runSummaryHosts() });
    } catch (e) {
      this.report(e);
    } finally {
      this.sink?.off('error', this.onSinkError);
      this.live.end();
      this.finishing = false;
      this.updateHold();
    }
    const result = this.samplesByHost;
    this.emit('stop', result);
    return result;
  }

  [Symbol.asyncIterator](): AsyncIterator<TimeSeriesSample> {
    return this.iterateLive(this.live);
  }

  /** Every requested host's samples kept in memory (error samples included; [] for none), in requested order. */
  get samplesByHost(): Record<string, TimeSeriesSample[]> {
    const out: Record<string, TimeSeriesSample[]> = {};
    for (const key of this.hosts) {
      setOwn(out, key, this.samplesOf(key));
    }
    return out;
  }

  /** Hosts with at least one sample of data (not only errors), in requested order. */
  hostsWithData(): string[] {
    return this.hosts.filter((k) => {
      const r = this.remote.get(k);
      if (r) return r.withData > 0;
      const l = this.local.get(k);
      return l !== undefined && l.sampleCount > 0;
    });
  }

  /** Per host: state, last error and its phase, reconnects, gaps, reboots. */
  hostStatus(): Record<string, HostStatus> {
    const out: Record<string, HostStatus> = {};
    for (const key of this.hosts) {
      const r = this.remote.get(key);
      const l = this.local.get(key);
      let s: HostStatus | undefined;
      if (r) s = r.conn.status();
      else if (l) {
        s = {
          host: key, method: 'local', state: l.isRunning ? 'streaming' : this.state === 'stopped' ? 'stopped' : 'idle',
          connects: 0, reconnects: 0, samples: l.sampleCount, errorSamples: 0, lateFrames: 0, stalledTicks: 0, gaps: [], reboots: [],
          ...(this.localBoot ? { bootId: this.localBoot } : {}),
        };
      }
      if (s) setOwn(out, key, s);
    }
    return out;
  }

  /** The run as mlpstorage writes it: every requested host is in samples_by_host, [] when it has no sample. */
  /**
   * Mark this instant with `label`, for the whole run or for one `host` (one of `hosts`): kept in
   * `toTimeSeriesData().markers` and in the sink's stream (see TimeSeriesCollector.mark).
   */
  mark(label: string, host?: string): Marker {
    if (host !== undefined && !this.hosts.includes(host)) throw new InvalidOptionError(`mark: host ${JSON.stringify(host)} is not one of this collector's hosts`);
    const m = newMarker(label, host);
    this.markers.push(m);
    this.sink?.mark?.(m);
    return m;
  }

  toTimeSeriesData(): TimeSeriesData {
    const byHost = new Map<string, TimeSeriesSample[]>();
    for (const key of this.hosts) byHost.set(key, this.samplesOf(key));
    // hosts_collected and collection_method by mlpstorage's rules (TimeSeriesData.forHosts).
    const data = TimeSeriesData.forHosts({
      collectionIntervalSeconds: this.intervalSeconds,
      startTime: this.started ? isoSeconds(this.started.getTime()) : '',
      endTime: this.ended ? isoSeconds(this.ended.getTime()) : '',
      hostsRequested: this.hosts,
      samplesByHost: byHost,
    });
    data.markers = [...this.markers];
    return data;
  }

  /** Markers taken with mark(), in order. */
  private readonly markers: Marker[] = [];

  /**
   * The stream's footer: mlpstorage's `hosts_collected` (every host with a sample, error samples
   * included, counted over the whole run whatever maxSamples kept) and the method it implies.
   */
  private runSummaryHosts(): { hostsCollected: string[]; collectionMethod: CollectionMethod } {
    const hostsCollected = this.hosts.filter((k) => (this.remote.get(k)?.assembler.taken ?? this.local.get(k)?.sampleCount ?? 0) > 0);
    return { hostsCollected, collectionMethod: TimeSeriesData.collectionMethodFor(hostsCollected) };
  }

  // ---- ticks and samples ------------------------------------------------------------------

  private onFrame(key: string, tick: Tick, frame: SampleFrame, reboot?: HostReboot): void {
    const h = this.remote.get(key);
    if (!h) return;
    // The counters restarted here: say so in the data (rates already refuse to cross a btime change).
    const a = h.assembler.assemble(frame, tick.wallNs, tick.monoNs, reboot ? { reboot: rebootMessage(reboot) } : undefined);
    this.keep(h, a);
  }

  /** A tick's frame deadline: at least one interval. */
  private stallTimeoutMs(): number {
    return Math.max(this.intervalSeconds, this.ssh.stallTimeoutSeconds) * 1000;
  }

  /** During start() the hosts are still saying hello: warn once they all have, with every name. */
  private noteBoot(key: string, bootId: string): void {
    this.kernels.note(key, bootId);
    if (this.state === 'running') this.kernels.warnShared();
  }

  private onSlotError(key: string, tick: Tick, message: string): void {
    const h = this.remote.get(key);
    if (!h) return;
    this.keep(h, h.assembler.empty(tick.wallNs, tick.monoNs, { ssh: message }));
  }

  private keep(h: RemoteHost, a: AssembledFrame): void {
    if (a.hasData) h.withData++;
    if (h.assembler.taken > this.maxSamples) this.warnFull(true);
    if (!this.sink && !this.live.active && this.listenerCount('sample') === 0) {
      this.total++;
      return;
    }
    this.deliver(h.target.key, TimeSeriesSample.fromTrustedDict(h.assembler.decode(a.batch)));
  }

  private deliver(key: string, sample: TimeSeriesSample): void {
    this.total++;
    try {
      this.sink?.write(sample, key);
    } catch (e) {
      this.report(e);
    }
    this.live.push(sample);
    if (this.listenerCount('sample') > 0) this.emit('sample', sample, key);
  }

  /** A host's samples kept in memory ([] when it has none, or never got going). */
  private samplesOf(key: string): TimeSeriesSample[] {
    const r = this.remote.get(key);
    if (r) return r.assembler.history().map((d) => TimeSeriesSample.fromTrustedDict(d));
    return this.local.get(key)?.history() ?? [];
  }

}

/** The `watch` option as the cores take it (numbers are PIDs); undefined when empty. */
function watchItems(watch: MultiHostTimeSeriesCollectorOptions['watch']): string[] | undefined {
  if (watch === undefined) return undefined;
  if (!Array.isArray(watch)) throw new InvalidOptionError(`watch must be an array of strings such as "name:fio", "pid:1234" or "cmd:/train\\.py/", got ${typeof watch}`);
  const items = (watch as readonly unknown[]).map((w, i) => {
    if (typeof w === 'string') return w;
    if (typeof w === 'number' && Number.isInteger(w) && w > 0 && w < 2 ** 31) return `pid:${w}`;
    throw new InvalidOptionError(`watch[${i}] must be a string ("name:NAME", "pid:N", "cmd:/REGEX/") or a PID, got ${typeof w === 'number' ? String(w) : typeof w}`);
  });
  return items.length > 0 ? items : undefined;
}

/** `self` and `tree:` name processes of this machine: with a remote host, refused by name. */
function refuseLocalOnly(watch: readonly string[], remotes: readonly RemoteTarget[]): void {
  const item = watch.find((w) => w === 'self' || w.startsWith('tree:'));
  if (item === undefined) return;
  const hosts = remotes.slice(0, 3).map((t) => t.key).join(', ') + (remotes.length > 3 ? ', ...' : '');
  throw new InvalidOptionError(
    `watch item ${JSON.stringify(item)} names a process of this machine and cannot be watched on remote hosts (${hosts}): use name:NAME, pid:N or cmd:/REGEX/ there`,
  );
}

function toEntries(hosts: MultiHostTimeSeriesCollectorOptions['hosts']): HostEntry[] {
  if (typeof hosts === 'string') return parseHosts(hosts);
  if (!Array.isArray(hosts)) throw new InvalidOptionError('hosts must be a string, an array of strings or of HostEntry');
  if (hosts.every((h) => typeof h === 'string')) return parseHosts(hosts);
  // Entries made elsewhere go through the parser again: nothing unchecked reaches ssh.
  const out: HostEntry[] = [];
  const seen = new Set<string>();
  for (const e of hosts as HostEntry[]) {
    if (typeof e !== 'object' || e === null || typeof e.host !== 'string') throw new InvalidOptionError('hosts: expected strings or HostEntry objects');
    const [p] = parseHosts(formatHost(e));
    if (!p) throw new InvalidOptionError(`hosts: empty host in ${JSON.stringify(e)}`);
    const id = `${p.user ?? ''}@${p.host.toLowerCase()}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push({ ...p, ...(e.slots !== undefined ? { slots: e.slots } : {}), ...(e.maxSlots !== undefined ? { maxSlots: e.maxSlots } : {}), raw: e.raw ?? p.raw });
  }
  return out;
}
