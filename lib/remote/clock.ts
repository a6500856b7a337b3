/**
 * The wall clock of the collector's ticks. performance.timeOrigin + performance.now() is a
 * monotonic clock fixed at process start: it never sees an NTP step or a manual clock change, so
 * after days or a step its "wall" time is simply wrong. This follows the real-time clock
 * (Date.now()) at every reading and uses the monotonic clock only for sub-millisecond detail:
 * the result always lies within [Date.now(), Date.now() + 1 ms) and is re-anchored whenever
 * it would leave that window (a step, or slewing that has added up to a millisecond).
 * Intervals are measured with the monotonic clock (Tick.monoNs), never with this one.
 */
export class WallClock {
  /** Real-time minus monotonic, ms. */
  private offset: number;

  constructor(
    private readonly realMs: () => number = () => Date.now(),
    private readonly monoMs: () => number = () => performance.now(),
  ) {
    this.offset = this.realMs() - this.monoMs();
  }

  /** Now, ns since the Unix epoch. */
  nowNs(): bigint {
    const mono = this.monoMs();
    const real = this.realMs();
    let wall = mono + this.offset;
    if (!(wall >= real && wall < real + 1)) {
      this.offset = real - mono;
      wall = real;
    }
    // Whole ms exactly (no float rounding of a 1.7e12 ms value times 1e6), plus the fraction.
    const ms = Math.floor(wall);
    return BigInt(ms) * 1_000_000n + BigInt(Math.min(999_999, Math.round((wall - ms) * 1e6)));
  }
}
