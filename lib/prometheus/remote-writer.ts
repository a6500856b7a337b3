/**
 * Sends samples to a remote-write receiver as they come: batched (one request per flush, at
 * most `maxSamplesPerSend` series-samples each), one request in flight at a time so the receiver
 * gets them in time order, retried with exponential backoff and jitter on what can pass (network
 * errors, 5xx, 429), dropped with a logged reason on what never will (other 4xx: the receiver
 * refuses the data itself). While the receiver is unreachable samples wait in memory up to
 * `maxQueuedSamples`, the oldest dropped first with one message saying how many.
 */
import { RemoteWriteError } from '../errors.js';
import { backoffDelay, type BackoffOptions } from '../remote/backoff.js';
import type { SampleDict } from '../types/sample.js';
import { FULL_FIDELITY } from './families.js';
import { REMOTE_WRITE_HEADERS, WriteRequestEncoder, type SeriesOptions } from './remote-write.js';

/** Where to send and how; the family options default to FULL_FIDELITY (node_exporter's defaults send less). */
export interface RemoteWriterOptions extends SeriesOptions {
  url: string;
  /** `Authorization` header value (e.g. `Bearer T` or `Basic ...`), never logged. */
  authorization?: string;
  /** Samples (dicts) per request; a host sample is ~400 series-samples. Default 5. */
  maxSamplesPerSend?: number;
  /** Dicts kept while the receiver is down (default 8640: a day at 10 s). */
  maxQueuedSamples?: number;
  timeoutMs?: number;
  backoff?: BackoffOptions;
  log?: (message: string) => void;
}

export interface RemoteWriterStats {
  sentSamples: number;
  sentRequests: number;
  sentBytes: number;
  droppedSamples: number;
  retries: number;
  queued: number;
}

export class RemoteWriter {
  private readonly queue: SampleDict[] = [];
  private running: Promise<void> | undefined;
  private closed = false;
  private wake: (() => void) | undefined;
  private failing = false;
  private readonly encoder: WriteRequestEncoder;
  readonly stats: RemoteWriterStats = { sentSamples: 0, sentRequests: 0, sentBytes: 0, droppedSamples: 0, retries: 0, queued: 0 };

  constructor(private readonly o: RemoteWriterOptions) {
    new URL(o.url); // throws a TypeError naming the input when it is not a URL
    // Whole samples by default, so that what the database keeps can be read back as samples.
    this.encoder = new WriteRequestEncoder({ ...FULL_FIDELITY, ...o });
  }

  /** Queue samples; they are sent in the background. */
  write(...dicts: SampleDict[]): void {
    if (this.closed) throw new RemoteWriteError(this.o.url, 0, 'write after close');
    this.queue.push(...dicts);
    const max = this.o.maxQueuedSamples ?? 8640;
    if (this.queue.length > max) {
      const dropped = this.queue.splice(0, this.queue.length - max);
      this.stats.droppedSamples += dropped.length;
      this.o.log?.(`remote write ${this.o.url}: queue full (${max} samples): dropped the ${dropped.length} oldest (${dropped[0].timestamp} to ${dropped[dropped.length - 1].timestamp})`);
    }
    this.stats.queued = this.queue.length;
    this.running ??= this.loop().finally(() => (this.running = undefined));
    this.wake?.();
  }

  /** Send what is queued, waiting at most `timeoutMs` (default 5 s); resolves to the samples left unsent. */
  async close(timeoutMs = 5000): Promise<number> {
    this.closed = true;
    this.wake?.();
    const running = this.running;
    if (running) await Promise.race([running, new Promise((r) => setTimeout(r, timeoutMs).unref())]);
    this.stats.queued = this.queue.length;
    return this.queue.length;
  }

  private async loop(): Promise<void> {
    let attempt = 0;
    while (this.queue.length > 0) {
      const n = Math.min(this.queue.length, this.o.maxSamplesPerSend ?? 5);
      const batch = this.queue.slice(0, n);
      const body = this.encoder.encode(batch);
      try {
        await this.post(body);
        this.queue.splice(0, n);
        this.stats.sentSamples += n;
        this.stats.sentRequests++;
        this.stats.sentBytes += body.length;
        if (this.failing) this.o.log?.(`remote write ${this.o.url}: delivering again`);
        this.failing = false;
        attempt = 0;
      } catch (e) {
        const err = e as RemoteWriteError;
        if (err.status >= 400 && err.status < 500 && err.status !== 408 && err.status !== 429) {
          this.queue.splice(0, n);
          this.stats.droppedSamples += n;
          this.o.log?.(`remote write: dropped ${n} samples the receiver refused: ${err.message}`);
          continue;
        }
        if (!this.failing) this.o.log?.(`remote write: ${err.message}; retrying with backoff (samples wait in memory)`);
        this.failing = true;
        if (this.closed) return;
        this.stats.retries++;
        await new Promise<void>((r) => {
          const t = setTimeout(r, backoffDelay(attempt++, this.o.backoff ?? { initialMs: 500, maxMs: 30_000 }));
          this.wake = () => {
            if (this.closed) {
              clearTimeout(t);
              r();
            }
          };
        });
        this.wake = undefined;
        if (this.closed) return;
      }
      this.stats.queued = this.queue.length;
    }
  }

  private post(body: Buffer): Promise<void> {
    return postWriteRequest(this.o.url, body, this.o.authorization, this.o.timeoutMs);
  }
}

/**
 * One remote-write request; resolves once the receiver took it (2xx), else a RemoteWriteError
 * with its status (0: not reached) and what it said.
 */
export async function postWriteRequest(url: string, body: Buffer, authorization?: string, timeoutMs = 30_000): Promise<void> {
  const headers: Record<string, string> = { ...REMOTE_WRITE_HEADERS, 'user-agent': 'hostseries' };
  if (authorization) headers.authorization = authorization;
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause;
    throw new RemoteWriteError(url, 0, `unreachable: ${cause?.code ?? (e as Error).message}`, { cause: e });
  }
  const text = await res.text().catch(() => '');
  if (!res.ok) throw new RemoteWriteError(url, res.status, `HTTP ${res.status}: ${text.slice(0, 300).trim()}`);
}
