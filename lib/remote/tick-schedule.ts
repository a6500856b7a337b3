/**
 * The collector's clock: one timer ticks every remote host at once, on absolute deadlines
 * (t0 + n × interval, so no drift), stamping each tick with the real-time clock. Ticks the event
 * loop was too busy to fire are skipped and counted, never fired late in a burst. Its timer is
 * unref'd: ticking alone does not keep the process alive. stop() may end with one last tick.
 */
import { finalSampleMinGapMs } from '../collector/options.js';
import { WallClock } from './clock.js';

/** One slot of the collector's clock. */
export interface Tick {
  seq: number;
  /** Wall clock, ns: the samples' timestamp (the same for every host of the tick). */
  wallNs: bigint;
  /** Monotonic, ns. */
  monoNs: bigint;
}

export class TickSchedule {
  private timer: NodeJS.Timeout | undefined;
  private t0 = 0;
  private nextIndex = 0;
  private missed = 0;
  private running = false;
  private lastMonoNs = 0n;

  constructor(
    private readonly intervalMs: number,
    private readonly onTick: (tick: Tick) => void,
    private readonly clock: WallClock = new WallClock(),
  ) {}

  /** Ticks the timer could not fire on time (the event loop was blocked for over an interval). */
  get missedTicks(): number {
    return this.missed;
  }

  /** Ticks given out so far (the last one's seq). */
  get ticks(): number {
    return this.nextIndex;
  }

  /** The first tick now, then one every interval. */
  start(): void {
    this.running = true;
    this.t0 = performance.now();
    this.nextIndex = 0;
    this.fire();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /**
   * Stop, and return one last tick now (the run covered to its end), unless it was not running
   * or the previous tick is too recent to give anything but noise (the local sampler's rule).
   */
  stopWithLastTick(): Tick | undefined {
    const wasRunning = this.running;
    this.stop();
    if (!wasRunning) return undefined;
    const sinceMs = Number(process.hrtime.bigint() - this.lastMonoNs) / 1e6;
    return sinceMs < finalSampleMinGapMs(this.intervalMs) ? undefined : this.tickNow(++this.nextIndex);
  }

  /** Wall time from the real-time clock at every tick (NTP steps included); intervals from monoNs. */
  private tickNow(seq: number): Tick {
    this.lastMonoNs = process.hrtime.bigint();
    return { seq, wallNs: this.clock.nowNs(), monoNs: this.lastMonoNs };
  }

  /** Tick, then schedule the next tick on its absolute deadline. */
  private fire(): void {
    if (!this.running) return;
    this.onTick(this.tickNow(this.nextIndex + 1));
    if (!this.running) return;
    this.nextIndex++;
    const now = performance.now();
    let due = this.t0 + this.nextIndex * this.intervalMs;
    if (due < now - this.intervalMs / 2) {
      // Blocked for over an interval: skip the ticks that are already past, and say so.
      const skip = Math.floor((now - due) / this.intervalMs);
      this.missed += skip;
      this.nextIndex += skip;
      due = this.t0 + this.nextIndex * this.intervalMs;
    }
    this.timer = setTimeout(() => this.fire(), Math.max(0, due - now)).unref();
  }
}
