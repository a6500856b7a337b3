/**
 * PushSink: a Sink that pushes a collector's samples to `hostseries serve`
 * (`new TimeSeriesCollector({ sink: new PushSink({ server, token, queueDir }) })`).
 *
 * Every sample is first appended to the queue (queue.ts: a file in `queueDir`, so it survives an
 * outage, a kill and a restart), then pushed, oldest first, in batches, gzipped, every
 * `pushIntervalSeconds` (a backlog batch after batch); a batch leaves the queue only once the
 * server acknowledged it (2xx). The server is idempotent (host + timestamp_ns), so a batch sent
 * again after a lost reply stores nothing twice. A batch of samples just written goes as the
 * compact body (blob-body.ts: the core's sample blob, which serve stores as it is checked, without
 * JSON), made from their columns kept since they were written; a batch of one sample, or of lines
 * read back from the queue (a backlog, a queue of an earlier run), as JSON Lines, which cost the
 * agent less there; JSON Lines too if the server does not take the compact body.
 *
 * Failures: network errors, timeouts, 5xx, 408 and 429 are retried with exponential backoff and
 * full jitter (1 s doubling to 60 s, reset by a success; Retry-After honoured); 401, 403 and other
 * 4xx are said loudly and retried at the slowest pace (a token can be fixed on the server); the
 * samples a server rejects (per-sample reasons) are said and dropped, since they never will be
 * accepted; a 413 halves the batch. It says one line per change of state (connected, unreachable
 * with the samples queued, refused, backlog delivered), not one per push.
 */
import { EventEmitter } from 'node:events';
import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import { LifecycleError, PushError, type HostseriesError } from '../errors.js';
import { stringifySample } from '../json/sample.js';
import { parseJson } from '../json/parse.js';
import { TimeSeriesSample } from '../models/sample.js';
import { isoSeconds } from '../native/decode.js';
import { packageVersion } from '../cli/version.js';
import type { RunMetadata, RunSummary, Sink, SinkEntry } from '../types/sink.js';
import type { PushDrop, PushQueueStatus, PushReply, PushSinkOptions, PushState, PushStateChange } from '../types/push.js';
import { pushConfig, type PushConfig } from './options.js';
import { lineNs, PushQueue, type Batch } from './queue.js';
import { Transport, type PostReply } from './transport.js';
import { BLOB_CONTENT_TYPE, blobColumns, columnsBody } from './blob-body.js';
import { LayoutRegistry, type Columns } from '../native/encode.js';
import { concatAll } from '../serve/store/columns.js';
import { FULL_FIDELITY } from '../prometheus/families.js';
import { tagLabels } from '../prometheus/labels.js';
import { REMOTE_WRITE_HEADERS, WriteRequestEncoder } from '../prometheus/remote-write.js';
import type { SampleDict } from '../types/sample.js';

const gzipAsync = promisify(gzipCb);

/**
 * A sample's queue line, made once per sample: an agent pushing to serve and remote-writing hands
 * the same sample to two sinks, and the line is ~0.4 ms of JS for 11 KB (measured, cold).
 */
const lines = new WeakMap<TimeSeriesSample, string>();
function queueLine(sample: TimeSeriesSample): string {
  let line = lines.get(sample);
  if (line === undefined) lines.set(sample, (line = stringifySample(sample.toDict()) + '\n'));
  return line;
}

/** Each host's tags as labels, made once per tag set. */
function hostLabelsOf(hostTags: PushSinkOptions['hostTags']): ((host: string) => Record<string, string> | undefined) | undefined {
  if (!hostTags) return undefined;
  const made = new WeakMap<Readonly<Record<string, string>>, Record<string, string>>();
  return (host) => {
    const tags = hostTags(host);
    if (!tags) return undefined;
    let labels = made.get(tags);
    if (!labels) made.set(tags, (labels = tagLabels(tags)));
    return labels;
  };
}

/** Samples kept in memory by their queue line, for the compact body (most batches are what was just written). */
const RECENT_MAX = 256;
/** Layouts numbered for the compact body before the registry starts over (processes come and go). */
const LAYOUTS_MAX = 4096;

type Outcome = 'empty' | 'more' | 'failed';
type Life = 'new' | 'open' | 'closing' | 'closed';

interface Events {
  error: [HostseriesError];
  state: [PushStateChange];
  drop: [PushDrop];
  push: [PushReply];
}

/** Error codes of a TLS peer that is not trusted (node's, from OpenSSL's verify results). */
const TLS_TRUST = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS_/;

/** A refused push is said again this often while it lasts. */
const REFUSED_REPEAT_MS = 10 * 60_000;

const when = (ns: number | undefined): string => (ns === undefined ? '?' : isoSeconds(Math.floor(ns / 1e6)));
const range = (a: number | undefined, b: number | undefined): string => (a === undefined ? '' : ` (${when(a)} to ${when(b)})`);
const plural = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;
const mib = (n: number): string => (n >= 1024 * 1024 ? `${+(n / 1024 / 1024).toFixed(1)} MiB` : `${Math.round(n / 1024)} KiB`);

/** The server's `{error}` message, or the start of its body. */
function replyMessage(r: PostReply): string {
  try {
    const v = JSON.parse(r.body) as { error?: unknown };
    if (typeof v.error === 'string') return v.error;
  } catch { /* not JSON */ }
  return r.body.slice(0, 200).trim();
}

interface IngestReply {
  accepted: number;
  duplicates: number;
  rejected: { index: number; path: string; reason: string }[];
}

function ingestReply(body: string): IngestReply | undefined {
  try {
    const v = JSON.parse(body) as Partial<IngestReply>;
    if (typeof v.accepted === 'number' && Array.isArray(v.rejected)) return { accepted: v.accepted, duplicates: v.duplicates ?? 0, rejected: v.rejected };
  } catch { /* below */ }
  return undefined;
}

export class PushSink extends EventEmitter<Events> implements Sink {
  /** The server's base URL. */
  readonly server: string;
  readonly queueDir: string | undefined;
  private readonly cfg: PushConfig;
  private readonly queue: PushQueue;
  private readonly transport: Transport;
  /** Set for `protocol: 'remote-write'`: whole samples, the tags as labels. */
  private readonly encoder: WriteRequestEncoder | undefined;
  private life: Life = 'new';
  private pushing: PushState = 'starting';
  private timer: NodeJS.Timeout | undefined;
  private inflight: Promise<Outcome> | undefined;
  private busy: Batch | undefined;
  private failures = 0;
  private retryAfterMs: number | undefined;
  private refusedSaidMs = 0;
  private outageStartMs = 0;
  /** Delivering a backlog (after an outage, or left by an earlier run): samples delivered so far. */
  private backlog: { delivered: number } | undefined;
  private batchLimit: number;
  private received = 0;
  private deliveredCount = 0;
  private droppedCount = 0;
  private firstWrite = true;
  /** Drops by the queue's bounds not yet said. */
  private readonly boundDrops = new Map<PushDrop['reason'], PushDrop>();
  private dropsSaidMs = 0;
  /** A stop's (or deliver()'s) deadline passed: the attempt in progress sends nothing more. */
  private outOfTime = false;
  /** Pushing the compact body (until a server refuses it). */
  private blob: boolean;
  /**
   * The latest queue lines' samples as columns (the compact body is made of them), by line. Not
   * the samples themselves: kept until their push, those survive the young GC and cost more to
   * collect (measured: an agent at 1 s pushing every 10 s spent ~30% more CPU holding them).
   */
  private readonly recent = new Map<string, Columns>();
  private layouts = new LayoutRegistry();
  private readonly layoutTexts = new Map<number, string>();
  /** The previous sample's time (ns): samples a push holds are told from the gap. */
  private lastNs: number | undefined;

  constructor(options: PushSinkOptions) {
    super();
    this.cfg = pushConfig(options, packageVersion());
    this.server = this.cfg.server;
    this.queueDir = this.cfg.queueDir;
    this.batchLimit = this.cfg.maxBatchBytes;
    this.queue = new PushQueue(this.cfg.queueDir, { maxBytes: this.cfg.maxQueueBytes, maxAgeMs: this.cfg.maxQueueAgeMs });
    this.encoder = this.cfg.protocol === 'remote-write' ? new WriteRequestEncoder({ ...FULL_FIDELITY, labels: tagLabels(this.cfg.tags), hostLabels: hostLabelsOf(options.hostTags) }) : undefined;
    this.transport = new Transport(this.cfg.endpoint, { ca: this.cfg.ca, insecure: this.cfg.insecure, timeoutMs: this.cfg.requestTimeoutMs });
    this.blob = this.cfg.protocol === 'hostseries' && this.cfg.format === 'blob';
  }

  /** Where the pushing stands (see PushState). */
  get state(): PushState {
    return this.pushing;
  }

  /** What the queue holds now (not yet acknowledged by the server). */
  get queued(): PushQueueStatus {
    return this.queue.status();
  }

  /** Samples received, delivered (acknowledged by the server) and dropped (bounds, rejects) so far. */
  get counts(): { received: number; delivered: number; dropped: number } {
    return { received: this.received, delivered: this.deliveredCount, dropped: this.droppedCount };
  }

  /** Samples not on disk yet: with a queue directory, those kept in memory while the disk failed; without one, every sample not delivered. */
  get unwritten(): readonly SinkEntry[] {
    return this.queue.memoryLines().map((line) => {
      const sample = TimeSeriesSample.fromDict(parseJson(line));
      return { host: sample.hostname, sample };
    });
  }

  /** Opens the queue (taking its directory's lock: QueueLockedError if another live process holds it) and starts pushing. */
  open(_meta?: RunMetadata): Promise<void> {
    try {
      this.openNow();
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  private openNow(): void {
    if (this.life !== 'new') throw new LifecycleError('ERR_ALREADY_STARTED', `push to ${this.server}: sink already opened`);
    const rec = this.queue.open((pid) => this.cfg.logger.warn(`${this.queueDir}: took over the lock of process ${pid}, which is gone`));
    this.life = 'open';
    for (const t of rec.torn) this.cfg.logger.warn(`${t.file}: skipped a torn last line (${t.bytes} bytes; the previous run was killed mid-write)`);
    if (rec.samples > 0) {
      this.info(`${plural(rec.samples, 'sample')} queued by an earlier run${range(rec.firstNs, rec.lastNs)}: delivering them first`);
      this.backlog = { delivered: 0 };
      this.schedule(0);
    }
  }

  write(sample: TimeSeriesSample, _host?: string): void {
    if (this.life === 'new') throw new LifecycleError('ERR_NOT_STARTED', `push to ${this.server}: write before open`);
    if (this.life === 'closed') throw new LifecycleError('ERR_ALREADY_STOPPED', `push to ${this.server}: write after close`);
    this.received++;
    const line = queueLine(sample);
    const failure = this.queue.append(line, sample.timestampNs ?? sample.date.getTime() * 1e6);
    if (this.blob) {
      // An agent pushing about one sample a push sends JSON Lines: for one sample the compact body
      // costs the agent more JS than gzipping the line (measured: ~10% more agent CPU at 1 sample
      // a push, the same at 10), so its columns are not made.
      const ns = sample.timestampNs ?? sample.date.getTime() * 1e6;
      const gapMs = this.lastNs === undefined ? undefined : (ns - this.lastNs) / 1e6;
      this.lastNs = ns;
      if (gapMs === undefined || gapMs <= 0 || this.cfg.pushIntervalMs >= 2 * gapMs) this.remember(line, sample);
    }
    if (failure) this.report(failure);
    this.enforce();
    // Drops are said at each attempt, and meanwhile at most once per push interval (1 s to 60 s).
    if (this.boundDrops.size > 0 && Date.now() - this.dropsSaidMs >= Math.min(60_000, Math.max(1000, this.cfg.pushIntervalMs))) this.sayBoundDrops();
    // The first sample goes out at once: a wrong URL or token shows at start, not an interval later.
    if (this.firstWrite && this.life === 'open') {
      this.firstWrite = false;
      if (!this.timer && !this.inflight) this.schedule(0);
    }
  }

  /** Everything written is in the queue already (appended as it came); nothing to wait for. */
  async flush(): Promise<void> {
    // Samples reach the queue in write(); a disk failure there keeps them in memory and is reported as an 'error'.
  }

  /**
   * Push what is queued now, without waiting for the interval; resolves once the queue is empty,
   * or after `timeoutMs` (default: the close timeout) with what is left.
   */
  async deliver(timeoutMs = this.cfg.closeTimeoutMs): Promise<PushQueueStatus> {
    if (this.life !== 'open') throw new LifecycleError('ERR_NOT_STARTED', `push to ${this.server}: deliver() needs an open sink`);
    await this.drainFor(timeoutMs);
    if (this.life === 'open') this.schedule(this.cfg.pushIntervalMs);
    return this.queue.status();
  }

  /**
   * Stop pushing: try to deliver what is queued for at most `closeTimeoutSeconds`, then leave the
   * rest in the queue directory (delivered by the next PushSink on it) and release its lock.
   */
  async close(_summary?: RunSummary): Promise<void> {
    if (this.life === 'new') throw new LifecycleError('ERR_NOT_STARTED', `push to ${this.server}: close before open`);
    if (this.life !== 'open') throw new LifecycleError('ERR_ALREADY_STOPPED', `push to ${this.server}: sink already closed`);
    this.life = 'closing';
    try {
      await this.drainFor(this.cfg.closeTimeoutMs);
    } finally {
      this.sayBoundDrops();
      clearTimeout(this.timer);
      this.timer = undefined;
      this.transport.close();
      this.queue.close();
      this.life = 'closed';
    }
    const left = this.queue.status();
    if (left.samples === 0) return;
    this.cfg.logger.warn(this.queueDir !== undefined
      ? `stopped with ${plural(left.samples, 'sample')} still queued in ${this.queueDir}${range(left.oldestNs, left.newestNs)}: delivered at the next start`
      : `stopped with ${plural(left.samples, 'sample')} not delivered${range(left.oldestNs, left.newestNs)} (no queue directory: they are in sink.unwritten only)`);
  }

  /** Push until the queue is empty or `ms` passed; a push still in flight then is cut (its batch stays queued). */
  private async drainFor(ms: number): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const deadline = Date.now() + ms;
    let pause = 100;
    this.outOfTime = false;
    try {
      for (;;) {
        const left = deadline - Date.now();
        if (left <= 0 && !this.inflight) return;
        const outcome = await this.withDeadline(this.inflight ?? this.runAttempt(), left);
        if (outcome === 'timeout' || this.queue.status().samples === 0) return;
        if (outcome === 'failed') {
          if (this.pushing === 'refused') return; // a retry will not mend it in seconds
          const wait = Math.min(pause, deadline - Date.now());
          if (wait <= 0) return;
          await new Promise((r) => setTimeout(r, wait));
          pause = Math.min(pause * 2, 1000);
        }
      }
    } finally {
      this.outOfTime = false;
    }
  }

  /** `p`, or 'timeout' after `ms`: then the attempt is cut (its request aborted, or not sent) and waited for. */
  private async withDeadline(p: Promise<Outcome>, ms: number): Promise<Outcome | 'timeout'> {
    let t: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((r) => (t = setTimeout(() => r('timeout'), Math.max(0, ms))));
    const r = await Promise.race([p, timeout]);
    clearTimeout(t);
    if (r === 'timeout') {
      this.outOfTime = true;
      this.transport.abort('out of time');
      await p;
    }
    return r;
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    // The sink does not hold the process open: a collector (or the agent) decides that.
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.life !== 'open' || this.inflight) return;
      void this.runAttempt().then((o) => {
        if (this.life !== 'open') return;
        this.schedule(o === 'more' ? 0 : o === 'empty' ? this.cfg.pushIntervalMs : this.retryDelay());
      });
    }, ms);
    this.timer.unref();
  }

  private runAttempt(): Promise<Outcome> {
    const p = this.attempt().catch((e: unknown) => {
      this.report(e instanceof PushError ? e : new PushError(this.server, (e as Error).message, undefined, { cause: e }));
      return 'failed' as const;
    }).finally(() => {
      if (this.inflight === p) this.inflight = undefined;
      this.busy = undefined;
    });
    this.inflight = p;
    return p;
  }

  /** Full jitter: uniform in [0, min(max, initial · 2^failures)]; a refusal waits the longest. */
  private retryDelay(): number {
    if (this.pushing === 'refused') return this.cfg.retryMaxMs * (0.75 + Math.random() * 0.25);
    const cap = Math.min(this.cfg.retryMaxMs, this.cfg.retryInitialMs * 2 ** Math.min(this.failures - 1, 30));
    const d = Math.max(10, Math.random() * cap);
    return this.retryAfterMs !== undefined ? Math.min(this.cfg.retryMaxMs, Math.max(d, this.retryAfterMs)) : d;
  }

  /** Apply the queue's bounds; what they drop is said at the next attempt (one line, not one per sample). */
  private enforce(): void {
    for (const d of this.queue.enforce(Date.now(), this.busy)) {
      const p = this.boundDrops.get(d.reason);
      if (!p) this.boundDrops.set(d.reason, { ...d });
      else {
        p.count += d.count;
        p.fromNs ??= d.fromNs;
        p.toNs = d.toNs ?? p.toNs;
      }
    }
  }

  private sayBoundDrops(): void {
    this.dropsSaidMs = Date.now();
    for (const d of this.boundDrops.values()) this.dropped(d);
    this.boundDrops.clear();
  }

  private dropped(d: PushDrop): void {
    this.droppedCount += d.count;
    const what = plural(d.count, 'sample');
    const msg = d.reason === 'bytes'
      ? `queue over its bound of ${mib(this.cfg.maxQueueBytes)}: dropped the oldest ${what}${range(d.fromNs, d.toNs)}`
      : d.reason === 'age'
        ? `dropped ${what} queued for longer than ${Math.round(this.cfg.maxQueueAgeMs / 1000)} s${range(d.fromNs, d.toNs)}`
        : d.reason === 'rejected'
          ? `the server rejected ${what}${range(d.fromNs, d.toNs)}; dropped (they would never be accepted): ${(d.reasons ?? []).slice(0, 5).join('; ')}${(d.reasons?.length ?? 0) > 5 ? '; …' : ''}`
          : `dropped ${what} that are not valid JSON (a damaged queue file)`;
    this.cfg.logger.warn(msg);
    if (this.listenerCount('drop') > 0) this.emit('drop', d);
  }

  private async attempt(): Promise<Outcome> {
    this.enforce();
    this.sayBoundDrops();
    let batch: Batch | undefined;
    try {
      batch = this.queue.take(this.batchLimit);
    } catch (e) {
      this.report(e as HostseriesError);
      return 'more';
    }
    if (!batch) return 'empty';
    this.busy = batch;
    return this.send(batch, batch.lines);
  }

  private headers(blob: boolean): Record<string, string> {
    if (this.cfg.protocol === 'remote-write') {
      return { ...REMOTE_WRITE_HEADERS, 'user-agent': this.cfg.agent, ...(this.cfg.token ? { authorization: `Bearer ${this.cfg.token}` } : {}) };
    }
    const h: Record<string, string> = {
      authorization: `Bearer ${this.cfg.token}`,
      'content-type': blob ? BLOB_CONTENT_TYPE : 'application/x-ndjson',
      'x-hostseries-agent': this.cfg.agent,
      'user-agent': this.cfg.agent,
    };
    if (this.cfg.gzip) h['content-encoding'] = 'gzip';
    if (this.cfg.tagsHeader) h['x-hostseries-tags'] = this.cfg.tagsHeader;
    return h;
  }

  /** A written sample's columns, kept by its line for its push (a sample that cannot go as a blob is left out: its line is read again). */
  private remember(line: string, sample: TimeSeriesSample): void {
    if (this.layouts.size > LAYOUTS_MAX) {
      // Numbered again from nothing: what is kept was numbered by the old registry.
      this.layouts = new LayoutRegistry();
      this.layoutTexts.clear();
      this.recent.clear();
    }
    try {
      this.recent.set(line, blobColumns([sample.toDict()], this.layouts));
    } catch {
      return;
    }
    if (this.recent.size > RECENT_MAX) this.recent.delete(this.recent.keys().next().value!);
  }

  /**
   * The lines as one compact body, or undefined to send JSON Lines: a line that is not a sample
   * (a damaged queue file) is found there, and the server's reply says which.
   */
  private blobBody(lines: string[]): Buffer | undefined {
    // Only what was written since the start as columns goes compact: a line read back (a backlog,
    // a queue of an earlier run) costs the agent less as JSON Lines than parsed again.
    const parts: Columns[] = [];
    for (const l of lines) {
      const c = this.recent.get(l);
      if (!c) return undefined;
      parts.push(c);
    }
    if (parts.length < 2) return undefined;
    try {
      return columnsBody(concatAll(parts), this.layouts, this.layoutTexts);
    } catch {
      return undefined;
    }
  }

  private async send(batch: Batch, lines: string[]): Promise<Outcome> {
    const blob = this.blob ? this.blobBody(lines) : undefined;
    const raw = blob ?? Buffer.from(lines.join(''), 'utf8');
    // A remote write's 400 (out of order, a bad label) rolls the whole request back, and a line
    // that is not JSON is found below as for serve: the batch is dropped with the reason said.
    // The compact body at gzip level 1: measured, it costs half of level 6 for 7% more bytes (~300 B a
    // sample in pushes of 10, JSON Lines at level 6 ~550 B).
    const body = this.encoder ? this.remoteWriteBody(lines) ?? raw : this.cfg.gzip ? await gzipAsync(raw, { level: blob ? 1 : 6 }) : raw;
    if (this.outOfTime) return 'failed';
    let reply: PostReply;
    try {
      reply = await this.transport.post(body, this.headers(blob !== undefined));
    } catch (e) {
      // Cut by a stop's deadline: not news about the server (the batch stays queued).
      if (this.outOfTime) return 'failed';
      const err = e as NodeJS.ErrnoException;
      const reason = err.code && !err.message.includes(err.code) ? `${err.code}: ${err.message}` : err.message;
      // A certificate not trusted is a setting to fix, not an outage: said loudly, retried slowly.
      if (TLS_TRUST.test(err.code ?? '')) this.refused(undefined, reason, "the server's certificate is not trusted: give its CA (--ca FILE / ca)");
      else this.unreachable(reason);
      return 'failed';
    }
    const s = reply.status;
    const parsed = ingestReply(reply.body);
    if (blob && ((s === 400 && !parsed) || s === 415)) {
      // An older server reads any body as JSON; or this one found the compact body wrong: the
      // batch goes again as JSON Lines (whose reply names any sample at fault), and so do the next.
      this.blob = false;
      this.recent.clear();
      this.cfg.logger.warn(`${this.server} did not take the compact body (HTTP ${s}: ${replyMessage(reply)}); pushing JSON Lines from now on`);
      return this.send(batch, lines);
    }
    if ((s >= 200 && s < 300) || (s === 400 && parsed)) {
      const r = parsed ?? { accepted: lines.length, duplicates: 0, rejected: [] };
      if (r.rejected.length > 0) {
        const ns = r.rejected.map((x) => lineNs(lines[x.index] ?? '')).filter((n) => n !== undefined);
        this.dropped({
          reason: 'rejected', count: r.rejected.length, fromNs: ns[0], toNs: ns[ns.length - 1],
          reasons: r.rejected.map((x) => `#${x.index}${x.path ? ` ${x.path}` : ''}: ${x.reason}`),
        });
      }
      this.queue.ack(batch);
      for (const l of lines) this.recent.delete(l);
      this.delivered(lines.length - r.rejected.length);
      if (this.listenerCount('push') > 0) {
        this.emit('push', { samples: lines.length, accepted: r.accepted, duplicates: r.duplicates, rejected: r.rejected.length, bytes: raw.length, wireBytes: body.length });
      }
      return this.queue.status().samples > 0 ? 'more' : 'empty';
    }
    if (s === 400) {
      // The body as a whole was refused: a line that is not JSON (a damaged queue file)? Send the rest.
      const good = lines.filter((l) => {
        try {
          JSON.parse(l);
          return true;
        } catch {
          return false;
        }
      });
      if (good.length < lines.length) {
        this.dropped({ reason: 'unreadable', count: lines.length - good.length });
        if (good.length > 0) return this.send(batch, good);
        this.queue.ack(batch);
        return 'more';
      }
      const ns = [lineNs(lines[0]), lineNs(lines[lines.length - 1])];
      this.dropped({ reason: 'rejected', count: lines.length, fromNs: ns[0], toNs: ns[1], reasons: [`HTTP 400: ${replyMessage(reply)}`] });
      this.queue.ack(batch);
      return 'more';
    }
    if (s === 413) {
      if (lines.length > 1) {
        this.batchLimit = Math.max(1, Math.floor(batch.bytes / 2));
        this.cfg.logger.warn(`the server refused a push of ${plural(lines.length, 'sample')} (${mib(raw.length)}) as too large; pushing at most ${mib(this.batchLimit)} at a time`);
        return 'more';
      }
      this.dropped({ reason: 'rejected', count: 1, fromNs: lineNs(lines[0]), toNs: lineNs(lines[0]), reasons: [`HTTP 413: ${replyMessage(reply)}`] });
      this.queue.ack(batch);
      return 'more';
    }
    this.retryAfterMs = reply.retryAfterMs;
    if (s === 408 || s === 429 || s >= 500) this.unreachable(`HTTP ${s}: ${replyMessage(reply)}`, s);
    else this.refused(s, `HTTP ${s}: ${replyMessage(reply)}`, s === 401 ? 'check the token' : s === 403 ? 'the token may not write this host' : 'check the server URL');
    return 'failed';
  }

  /** The lines as one remote-write request; undefined if one is not JSON (then the receiver's 400 says so). */
  private remoteWriteBody(lines: string[]): Buffer | undefined {
    try {
      return this.encoder!.encode(lines.map((l) => JSON.parse(l) as SampleDict));
    } catch {
      return undefined;
    }
  }

  private delivered(n: number): void {
    this.deliveredCount += n;
    this.failures = 0;
    this.retryAfterMs = undefined;
    const queued = this.queue.status().samples;
    if (this.pushing !== 'connected') {
      const prev = this.pushing;
      const msg = prev === 'starting'
        ? `connected to ${this.server}`
        : `${this.server} takes pushes again after ${Math.round((Date.now() - this.outageStartMs) / 1000)} s${queued > 0 ? `: delivering ${plural(queued, 'queued sample')}` : ''}`;
      this.change('connected', undefined, undefined, msg);
      if (prev !== 'starting' && !this.backlog) this.backlog = { delivered: 0 };
    }
    if (this.backlog) {
      this.backlog.delivered += n;
      if (queued === 0) {
        this.info(`delivered the backlog: ${plural(this.backlog.delivered, 'sample')}`);
        this.backlog = undefined;
      }
    }
  }

  private unreachable(reason: string, status?: number): void {
    this.failures++;
    if (this.pushing === 'unreachable') return;
    if (this.pushing !== 'refused') this.outageStartMs = Date.now();
    const q = this.queue.status().samples;
    const where = this.queueDir !== undefined ? `on disk in ${this.queueDir}` : 'in memory';
    this.change('unreachable', reason, status, `cannot push to ${this.server} (${reason}); queueing samples ${where} (${q} queued), retrying with backoff`, true);
  }

  private refused(status: number | undefined, reason: string, hint: string): void {
    this.failures++;
    const q = this.queue.status().samples;
    const now = Date.now();
    const again = this.pushing === 'refused';
    if (again && now - this.refusedSaidMs < REFUSED_REPEAT_MS) return;
    if (this.pushing === 'connected' || this.pushing === 'starting') this.outageStartMs = now;
    this.refusedSaidMs = now;
    const msg = `${again ? 'still ' : ''}REFUSED by ${this.server}: ${reason} (${hint}); ${q} samples stay queued, retrying every ${Math.round(this.cfg.retryMaxMs / 1000)} s`;
    if (again) this.cfg.logger.warn(msg);
    else this.change('refused', reason, status, msg, true);
  }

  private change(state: PushState, reason: string | undefined, status: number | undefined, message: string, warn = false): void {
    const previous = this.pushing;
    this.pushing = state;
    if (warn) this.cfg.logger.warn(message);
    else this.info(message);
    if (this.listenerCount('state') > 0) this.emit('state', { state, previous, reason, status, queued: this.queue.status().samples });
  }

  private info(message: string): void {
    this.cfg.logger.info?.(message);
  }

  private report(e: HostseriesError): void {
    if (this.listenerCount('error') > 0) this.emit('error', e);
    else this.cfg.logger.warn(e.message);
  }
}
