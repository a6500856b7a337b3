/**
 * JsonlSink: streams a run to a JSON Lines file (see jsonl-format.ts) as it is collected, so a
 * crash or a kill loses at most the samples of the last event-loop turn.
 *
 * Samples written in one turn are joined and written with one write (gzipped: compressed and
 * sync-flushed, so the file decodes up to there). Writes go to the kernel at once (a killed
 * process loses nothing written); fsync, which only matters for power loss, runs at most every
 * `fsyncIntervalMs` and at close, so it does not add I/O to the benchmark being measured.
 *
 * The file is created new (an existing file is refused unless `overwrite`): after a crash the
 * stream is the only copy of a run, and a second run must not truncate it. `overwrite` truncates
 * a regular file only: a symbolic link, directory, device, FIFO or socket is refused always.
 *
 * After a write fails, the file is cut back to the end of the last complete batch (so it holds
 * exactly `samplesWritten` samples, every line whole) and nothing more is written to it; every
 * later sample is kept in `unwritten`, for the caller to write elsewhere.
 *
 * A TimeSeriesCollector hands a plain (not gzipped) stream to its native sampler, whose writer
 * thread appends the same lines with the same guarantees (native-stream.ts): the sink then
 * writes the header and the footer, and reports what the native writer did.
 */
import { EventEmitter } from 'node:events';
import { open, type FileHandle } from 'node:fs/promises';
import { FileError, LifecycleError, type HostseriesError } from '../errors.js';
import type { TimeSeriesSample } from '../models/sample.js';
import { fileError, GzipBatches, openTruncating, writeAll } from './io.js';
import { footerLine, headerLine, markerLine, sampleLine } from './jsonl-format.js';
import type { Marker } from '../types/markers.js';
import type { RunMetadata, RunSummary, Sink, SinkEntry } from '../types/sink.js';
import type { JsonlSinkOptions } from '../types/files.js';
import { nativeFailureError, type NativeStreamable, type NativeStreamLink, type NativeStreamTarget } from './native-stream.js';

interface Queued extends SinkEntry {
  line: string;
}

type State = 'new' | 'opening' | 'open' | 'closing' | 'closed';

export class JsonlSink extends EventEmitter implements Sink, NativeStreamable {
  readonly path: string;
  private readonly gzip: boolean;
  private readonly gzipLevel: number | undefined;
  private readonly fsyncIntervalMs: number;
  private readonly overwrite: boolean;
  private state: State = 'new';
  private fh: FileHandle | undefined;
  private gz: GzipBatches | undefined;
  private queue: Queued[] = [];
  private inflight: Queued[] = [];
  private draining: Promise<void> | undefined;
  /** The truncate after a failure, awaited before the file is closed. */
  private cutting: Promise<void> | undefined;
  private failure: HostseriesError | undefined;

  /** The only event: `'error'`, a disk failure (the samples stay in `unwritten`). */
  override on(event: 'error', listener: (err: HostseriesError) => void): this {
    return super.on(event, listener);
  }
  private lastSync = Date.now();
  private received = 0;
  private written = 0;
  /** Bytes of the file known good: header and whole batches. */
  private goodBytes = 0;
  private runMeta: RunMetadata | undefined;
  private runSummary: RunSummary | undefined;
  private createdFile = false;
  private readonly hosts = new Set<string>();
  /** The native writer appending the samples, once handed over (see native-stream.ts). */
  private native: NativeStreamLink | undefined;
  /** The native writer has ended: its counts are in `written` and `received`. */
  private nativeDone = false;
  /** Marker lines not yet written: with the next batch of samples, or (native writer) before the footer. */
  private markerLines = '';

  constructor(path: string, options: JsonlSinkOptions = {}) {
    super();
    this.path = path;
    this.gzip = options.gzip ?? path.endsWith('.gz');
    this.gzipLevel = options.gzipLevel;
    this.fsyncIntervalMs = options.fsyncIntervalMs ?? 10_000;
    this.overwrite = options.overwrite ?? false;
  }

  /** Samples on disk so far. */
  get samplesWritten(): number {
    return this.written + (this.native && !this.nativeDone ? this.native.status().written : 0);
  }

  get unwritten(): readonly SinkEntry[] {
    return [...(this.native?.unwritten() ?? []), ...[...this.inflight, ...this.queue].map(({ host, sample }) => ({ host, sample }))];
  }

  /** The I/O failure that stopped the sink, if any (it writes nothing after one). */
  get error(): HostseriesError | undefined {
    return this.failure;
  }

  /** Opened and not yet closed: failures now are write failures, not a failure to start. */
  get isOpen(): boolean {
    return this.state === 'open' || this.state === 'closing';
  }

  /** This sink created the file (false when `open` could not, e.g. because it existed). */
  get created(): boolean {
    return this.createdFile;
  }

  /** The run metadata given to `open` (the header), once opened. */
  get meta(): RunMetadata | undefined {
    return this.runMeta;
  }

  /** The summary given to `close` (the footer), once closing, whether or not the footer was written. */
  get summary(): RunSummary | undefined {
    return this.runSummary;
  }

  async open(meta: RunMetadata): Promise<void> {
    if (this.state !== 'new') throw new LifecycleError('ERR_ALREADY_STARTED', `${this.path}: sink already opened`);
    this.state = 'opening';
    this.runMeta = meta;
    try {
      // Replacing truncates a regular file only: a link is not followed, a device or FIFO not written.
      this.fh = this.overwrite ? await openTruncating(this.path) : await open(this.path, 'wx', 0o644);
      this.createdFile = true;
      this.gz = this.gzip ? new GzipBatches(this.gzipLevel) : undefined;
      await this.writeRaw(headerLine(meta));
    } catch (e) {
      this.fail(e, 'create');
      await this.cutting;
      await this.fh?.close().catch(() => undefined);
      this.fh = undefined;
      throw this.failure ?? new FileError(this.path, 'failed');
    }
    this.state = 'open';
    this.kick();
  }

  write(sample: TimeSeriesSample, host: string = sample.hostname): void {
    if (this.native && !this.nativeDone) {
      throw new LifecycleError('ERR_ALREADY_STARTED', `${this.path}: its collector's native writer appends the samples; write() is not for it meanwhile`);
    }
    if (this.state === 'new') throw new LifecycleError('ERR_NOT_STARTED', `${this.path}: write before open`);
    if (this.state === 'closing' || this.state === 'closed') throw new LifecycleError('ERR_ALREADY_STOPPED', `${this.path}: write after close`);
    this.received++;
    this.hosts.add(host);
    // After a failure nothing more is written: keep the sample, not its line too.
    this.queue.push({ host, sample, line: this.failure ? '' : sampleLine(host, sample) });
    this.kick();
  }

  /**
   * Keep `marker` in the stream, as its own line, written at once: by the native writer when it
   * appends the samples (in order with them), else by this sink's next write.
   */
  mark(marker: Marker): void {
    if (this.state === 'closed') throw new LifecycleError('ERR_ALREADY_STOPPED', `${this.path}: mark after close`);
    const line = markerLine(marker);
    // The native writer appends it in order with the samples, as durably; once it has ended,
    // or without it, it goes with this sink's next write.
    if (this.native && !this.nativeDone && !this.failure && this.native.appendLine(line)) return;
    this.markerLines += line;
    this.kick();
  }

  /** @internal See native-stream.ts. Only an open, plain, healthy stream with nothing queued. */
  nativeTarget(): NativeStreamTarget | undefined {
    const idle = this.queue.length === 0 && this.inflight.length === 0 && !this.draining;
    if (this.state !== 'open' || this.gz || this.failure || !this.fh || this.native || !idle) return undefined;
    return { fd: this.fh.fd, goodBytes: this.goodBytes, fsyncIntervalMs: this.fsyncIntervalMs };
  }

  /** @internal */
  adoptNative(link: NativeStreamLink): void {
    this.native = link;
  }

  /** @internal A native failure becomes this sink's failure, reported once. */
  nativeCheck(): void {
    const f = this.native?.status().failure;
    if (!f || this.failure) return;
    this.failure = fileError(this.path, 'write', nativeFailureError(f));
    // The native writer has cut the file back to its last whole batch already.
    if (this.listenerCount('error') > 0) this.emit('error', this.failure);
  }

  /** @internal */
  nativeEnded(): void {
    if (!this.native || this.nativeDone) return;
    this.nativeCheck();
    const st = this.native.status();
    this.written += st.written;
    this.received += st.accepted;
    this.goodBytes = st.goodBytes;
    this.nativeDone = true;
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
    this.runSummary = summary;
    try {
      await this.flush();
      if (this.markerLines !== '' && !this.failure) {
        await this.writeRaw(this.markerLines);
        this.markerLines = '';
      }
      await this.writeRaw(footerLine(summary.endTime, summary.numSamples ?? this.received, summary.hostsCollected ?? [...this.hosts], summary.collectionMethod));
      if (this.gz) await writeAll(this.fh!, await this.gz.finish());
      await this.fh!.sync();
      await this.fh!.close();
      this.fh = undefined;
      this.state = 'closed';
    } catch (e) {
      if (!this.failure) this.fail(e, 'write');
      await this.cutting;
      await this.fh?.close().catch(() => undefined);
      this.fh = undefined;
      this.state = 'closed';
      throw this.failure ?? new FileError(this.path, 'failed');
    }
  }

  private async writeRaw(text: string): Promise<void> {
    const raw = Buffer.from(text, 'utf8');
    const out = this.gz ? await this.gz.push(raw) : raw;
    await writeAll(this.fh!, out);
    this.goodBytes += out.length;
  }

  private fail(e: unknown, action: string): void {
    this.failure = fileError(this.path, action, e);
    this.queue = [...this.inflight, ...this.queue];
    this.inflight = [];
    // A batch cut short leaves whole lines that are also in `unwritten`, and a torn one: cut
    // them off, so that the file holds exactly the samples counted as written. (Shrinking a
    // file needs no space and is allowed past a file size limit.)
    const fh = this.fh;
    if (fh && this.createdFile) this.cutting = fh.truncate(this.goodBytes).catch(() => undefined);
    // An unheard 'error' event would crash the process and lose the samples kept in memory.
    if (this.listenerCount('error') > 0) this.emit('error', this.failure);
  }

  private kick(): void {
    const ready = this.state === 'open' || this.state === 'closing';
    const markers = !this.native && this.markerLines !== '';
    if (!ready || this.draining || this.failure || (this.queue.length === 0 && !markers)) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      this.kick();
    });
  }

  private async drain(): Promise<void> {
    await Promise.resolve(); // let the rest of this turn's samples join the batch
    while ((this.queue.length > 0 || (!this.native && this.markerLines !== '')) && !this.failure) {
      this.inflight = this.queue;
      this.queue = [];
      try {
        let text = this.native ? '' : this.markerLines;
        if (!this.native) this.markerLines = '';
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
