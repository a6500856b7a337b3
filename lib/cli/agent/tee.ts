/** Two sinks as one (`agent --tee FILE`: the push, and a JSON Lines copy of every sample on this host). */
import { EventEmitter } from 'node:events';
import type { HostseriesError } from '../../errors.js';
import type { TimeSeriesSample } from '../../models/sample.js';
import type { RunMetadata, RunSummary, Sink, SinkEntry } from '../../types/sink.js';

export class TeeSink extends EventEmitter<{ error: [HostseriesError] }> implements Sink {
  private readonly relay = (e: HostseriesError): void => {
    this.emit('error', e);
  };

  constructor(private readonly first: Sink, private readonly second: Sink) {
    super();
  }

  get unwritten(): readonly SinkEntry[] {
    return this.first.unwritten;
  }

  async open(meta: RunMetadata): Promise<void> {
    await this.first.open(meta);
    try {
      await this.second.open(meta);
    } catch (e) {
      await this.first.close({ endTime: meta.startTime }).catch(() => undefined);
      throw e;
    }
    this.first.on('error', this.relay);
    this.second.on('error', this.relay);
  }

  write(sample: TimeSeriesSample, host?: string): void {
    this.first.write(sample, host);
    this.second.write(sample, host);
  }

  async flush(): Promise<void> {
    await Promise.all([this.first.flush(), this.second.flush()]);
  }

  async close(summary: RunSummary): Promise<void> {
    try {
      await Promise.all([this.first.close(summary), this.second.close(summary)]);
    } finally {
      this.first.off('error', this.relay);
      this.second.off('error', this.relay);
    }
  }
}
