/**
 * JsonlSink: streams a run to a JSON Lines file (see jsonl-format.ts) as it is collected, so a
 * crash or a kill loses at most the samples of the last event-loop turn.
 *
 * Samples written in one turn are joined and written with one write (gzipped: compressed and
 * sync-flushed, so the file decodes up to there). Writes go to the kernel at once (a killed
 * process loses nothing written); fsync, which only matters for power loss, runs at most every
 * `fsyncIntervalMs` and at close, so it does not add I/O to the benchmark being measured.
 */
import { EventEmitter } from 'node:events';
import { open, type FileHandle } from 'node:fs/promises';
import { LifecycleError, type HostseriesError } from '../errors.js';
import type { TimeSeriesSample } from '../models/sample.js';
import { fileError, GzipBatches, writeAll } from './io.js';
import { footerLine, headerLine, sampleLine } from './jsonl-format.js';
import type { RunMetadata, RunSummary, Sink, SinkEntry } from './sink.js';

export interface JsonlSinkOptions {
  /** Gzip the stream (default: when the path ends with `.gz`). */
  gzip?: boolean;
  gzipLevel?: number;
  /** Longest time between fsyncs, ms (default 10 000; 0: after every write; Infinity: at close only). */
  fsyncIntervalMs?: number;
}

interface Queued extends SinkEntry {
  line: string;
}

type State = 'new' | 'opening' | 'open' | 'closing' | 'closed';

export interface JsonlSink {
  on(event: 'error', listener: (err: HostseriesError) => void): this;
}

export class JsonlSink extends EventEmitter implements Sink {
  readonly path: string;
  private readonly gzip: boolean;
  private readonly gzipLevel: number | undefined;
  private readonly fsyncIntervalMs: number;
  private state: State = 'new';
  private fh: FileHandle | undefined;
  private gz: GzipBatches | undefined;
  private queue: Queued[] = [];
  private inflight: Queued[] = [];
  private draining: Promise<void> | undefined;
  private failure: HostseriesError | undefined;
  private lastSync = Date.now();
  private received = 0;
  private written = 0;
  private readonly hosts = new Set<string>();

  constructor(path: string, options: JsonlSinkOptions = {}) {
    super();
    this.path = path;
    this.gzip = options.gzip ?? path.endsWith('.gz');
    this.gzipLevel = options.gzipLevel;
    this.fsyncIntervalMs = options.fsyncIntervalMs ?? 10_000;
  }

  /** Samples on disk so far. */
  get samplesWritten(): number {
    return this.written;
  }

  get unwritten(): readonly SinkEntry[] {
    return [...this.inflight, ...this.queue].map(({ host, sample }) => ({ host, sample }));
  }

  /** The I/O failure that stopped the sink, if any (it writes nothing after one). */
  get error(): HostseriesError | undefined {
    return this.failure;
  }

  async open(meta: RunMetadata): Promise<void> {
    if (this.state !== 'new') throw new LifecycleError('ERR_ALREADY_STARTED', `${this.path}: sink already opened`);
    this.state = 'opening';
    try {
      this.fh = await open(this.path, 'w', 0o644);
      this.gz = this.gzip ? new GzipBatches(this.gzipLevel) : undefined;
      await this.writeRaw(headerLine(meta));
    } catch (e) {
      this.fail(e, 'create');
      await this.fh?.close().catch(() => undefined);
      this.fh = undefined;
      throw this.failure;
    }
    this.state = 'open';
    this.kick();
  }

  write(sample: TimeSeriesSample, host: string = sample.hostname): void {
    if (this.state === 'new') throw new LifecycleError('ERR_NOT_STARTED', `${this.path}: write before open`);
    if (this.state === 'closing' || this.state === 'closed') throw new LifecycleError('ERR_ALREADY_STOPPED', `${this.path}: write after close`);
    this.received++;
    this.hosts.add(host);
    this.queue.push({ host, sample, line: sampleLine(host, sample) });
    this.kick();
  }

  async flush(): Promise<void> {
    this.kick();
    while (this.draining) await this.draining;
    if (this.failure) throw this.failure;
  }

  async close(summary: RunSummary): Promise<void> {
    if (this.state === 'new') throw new LifecycleError('ERR_NOT_STARTED', `${this.path}: close before open`);
    if (this.state === 'closing' || this.state === 'closed') throw new LifecycleError('ERR_ALREADY_STOPPED', `${this.path}: sink already closed`);
    this.state = 'closing';
    try {
      await this.flush();
      await this.writeRaw(footerLine(summary.endTime, summary.numSamples ?? this.received, summary.hostsCollected ?? [...this.hosts]));
      if (this.gz) await writeAll(this.fh!, await this.gz.finish());
      await this.fh!.sync();
      await this.fh!.close();
      this.fh = undefined;
      this.state = 'closed';
    } catch (e) {
      if (!this.failure) this.fail(e, 'write');
      await this.fh?.close().catch(() => undefined);
      this.fh = undefined;
      this.state = 'closed';
      throw this.failure;
    }
  }

  private async writeRaw(text: string): Promise<void> {
    const raw = Buffer.from(text, 'utf8');
    await writeAll(this.fh!, this.gz ? await this.gz.push(raw) : raw);
  }

  private fail(e: unknown, action: string): void {
    this.failure = fileError(this.path, action, e);
    this.queue = [...this.inflight, ...this.queue];
    this.inflight = [];
    // An unheard 'error' event would crash the process and lose the samples kept in memory.
    if (this.listenerCount('error') > 0) this.emit('error', this.failure);
  }

  private kick(): void {
    const ready = this.state === 'open' || this.state === 'closing';
    if (!ready || this.draining || this.failure || this.queue.length === 0) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      this.kick();
    });
  }

  private async drain(): Promise<void> {
    await Promise.resolve(); // let the rest of this turn's samples join the batch
    while (this.queue.length > 0 && !this.failure) {
      this.inflight = this.queue;
      this.queue = [];
      try {
        let text = '';
        for (const q of this.inflight) text += q.line;
        await this.writeRaw(text);
        this.written += this.inflight.length;
        this.inflight = [];
        if (Date.now() - this.lastSync >= this.fsyncIntervalMs) {
          await this.fh!.sync();
          this.lastSync = Date.now();
        }
      } catch (e) {
        this.fail(e, 'write');
      }
    }
  }
}
