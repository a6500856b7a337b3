/**
 * One host's tick ledger: the ticks written to its remote loop and not answered yet, and what
 * becomes of each. Every tick gets exactly one outcome, in tick order: its frame (`answered`), or
 * an error sample (`failed`) when the host was down, the frame missed the stall deadline, a later
 * frame came first (the older one was torn on the way), or the connection was lost or stopped.
 * It also keeps the counts and the gaps (runs of error samples) of the host's status.
 *
 * The remote loop answers in order, so a round trip longer than the interval only means several
 * ticks in flight. A tick whose frame has not come `stallTimeoutMs` after it was written gets an
 * error sample (one stall); `stallTicks` stalls in a row ask for the connection to be re-made.
 * No I/O here: it is driven by the connection and tested on its own. Its timers are unref'd.
 */
import { isoSeconds } from '../native/decode.js';
import type { HostGap } from '../types/host-status.js';
import type { Tick } from './tick-schedule.js';

export interface TickLedgerOptions {
  /** A tick's frame may take this long (from the tick) before its slot becomes an error. */
  stallTimeoutMs: number;
  /** Ticks in a row that missed the stall deadline, after which `stalled` is called. */
  stallTicks: number;
}

export interface TickLedgerEvents<F> {
  /** The frame answering `tick`. */
  answered(tick: Tick, frame: F): void;
  /** `tick` gets an error sample with this message. */
  failed(tick: Tick, message: string): void;
  /**
   * `inARow` ticks in a row missed their deadline (called from stallTicks on): the connection is
   * stuck. Dropping it (lost()) settles the ticks still in flight.
   */
  stalled(inARow: number): void;
}

interface Pending {
  tick: Tick;
  /** performance.now() when written; the frame is due by `deadline`. */
  sentAt: number;
  deadline: number;
}

/** The ledger's part of HostStatus. */
export interface TickCounts {
  samples: number;
  errorSamples: number;
  lateFrames: number;
  stalledTicks: number;
  gaps: HostGap[];
  rttMs?: number;
}

export class TickLedger<F> {
  /** Ticks written and not answered yet, by seq, oldest first (the remote answers in order). */
  private readonly pending = new Map<number, Pending>();
  /** Highest seq written to the current channel: a frame at or below it, not pending, is late. */
  private sentMax = 0;
  /** Ticks in a row that missed their deadline. */
  private stalls = 0;
  private expiryTimer: NodeJS.Timeout | undefined;
  private openGap: HostGap | undefined;
  private drainWaiter: (() => void) | undefined;
  private readonly counts: TickCounts = { samples: 0, errorSamples: 0, lateFrames: 0, stalledTicks: 0, gaps: [] };

  constructor(
    private readonly options: TickLedgerOptions,
    private readonly events: TickLedgerEvents<F>,
  ) {}

  /** Ticks written and not answered yet. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** A copy of the counts and gaps. */
  status(): TickCounts {
    return { ...this.counts, gaps: this.counts.gaps.map((g) => ({ ...g })) };
  }

  /** A new channel streams: seqs start over, and so does the count of stalls. */
  begin(): void {
    this.sentMax = 0;
    this.stalls = 0;
  }

  /**
   * Settle overdue ticks first, so a host's samples stay in tick order (and a stall that reaches
   * stallTicks drops the connection before the next tick is written to a dead channel).
   */
  beforeTick(now = performance.now()): void {
    this.expire(now);
  }

  /** `tick` was written to the remote loop now. */
  sent(tick: Tick, now = performance.now()): void {
    this.pending.set(tick.seq, { tick, sentAt: now, deadline: now + this.options.stallTimeoutMs });
    this.sentMax = Math.max(this.sentMax, tick.seq);
    // An armed timer is due no later than this tick's deadline (deadlines follow send order).
    if (!this.expiryTimer) this.armExpiry();
  }

  /** `tick` could not be written (the host is down): its slot is an error sample. */
  missed(tick: Tick, message: string): void {
    this.fail(tick, message);
  }

  /**
   * A frame for tick `seq` came. A frame whose slot already got an error sample is counted as
   * late (a torn frame, seq -1, is not) and dropped; ticks still pending before `seq` lost
   * their frame (the remote answers in order).
   */
  answer(seq: number, frame: F, now = performance.now()): void {
    const p = this.pending.get(seq);
    if (!p) {
      if (seq > 0 && seq <= this.sentMax) this.counts.lateFrames++;
      return;
    }
    for (const [older, o] of this.pending) {
      if (older === seq) break;
      this.pending.delete(older);
      this.fail(o.tick, `the frame of tick ${older} was lost (torn)`);
    }
    this.pending.delete(seq);
    this.stalls = 0;
    this.counts.rttMs = Math.round((now - p.sentAt) * 100) / 100;
    this.openGap = undefined;
    this.counts.samples++;
    this.events.answered(p.tick, frame);
    if (this.pending.size === 0) {
      // Nothing in flight: no deadline to watch (an armed timer for an answered tick would only
      // wake up to re-arm itself).
      clearTimeout(this.expiryTimer);
      this.expiryTimer = undefined;
    }
    this.drainWaiter?.();
  }

  /** Give every tick past its deadline an error sample, oldest first. */
  expire(now = performance.now()): void {
    for (const [seq, p] of this.pending) {
      if (p.deadline > now) break;
      this.pending.delete(seq);
      this.stalls++;
      this.counts.stalledTicks++;
      this.fail(p.tick, `no frame within ${Math.round(this.options.stallTimeoutMs)} ms of the tick (host stalled; ${this.stalls} in a row)`);
      if (this.stalls >= this.options.stallTicks) {
        this.events.stalled(this.stalls);
        // Dropped: what was in flight is settled already.
        if (this.pending.size === 0) return;
      }
    }
  }

  /**
   * Resolves once no tick is in flight, or at the last one's deadline, or after `graceMs`,
   * whichever comes first. It settles nothing: expire() and settle() do.
   */
  async waitForAnswers(graceMs: number): Promise<void> {
    let last: Pending | undefined;
    for (const p of this.pending.values()) last = p;
    if (!last) return;
    const wait = Math.max(0, Math.min(graceMs, last.deadline - performance.now()));
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, wait).unref();
      this.drainWaiter = () => {
        if (this.pending.size > 0) return;
        clearTimeout(t);
        resolve();
      };
    });
    this.drainWaiter = undefined;
  }

  /** Every tick in flight gets an error sample with `message` (the run stops). */
  settle(message: string): void {
    clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) this.fail(p.tick, message);
  }

  /** The connection was lost: what was in flight is lost with it, and the stall count starts over. */
  lost(message: string): void {
    this.settle(message);
    this.stalls = 0;
  }

  /** The run ended: an open gap ends with it. */
  closeGap(): void {
    this.openGap = undefined;
  }

  /**
   * One timer per connection, at the oldest pending tick's deadline. It is not moved when that
   * tick is answered: it then wakes early, finds nothing overdue and re-arms for the next one.
   */
  private armExpiry(): void {
    clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    const oldest = this.pending.values().next();
    if (oldest.done) return;
    this.expiryTimer = setTimeout(() => {
      this.expiryTimer = undefined;
      this.expire(performance.now());
      this.armExpiry();
      this.drainWaiter?.();
    }, Math.max(0, oldest.value.deadline - performance.now())).unref();
  }

  private fail(tick: Tick, message: string): void {
    this.counts.errorSamples++;
    const at = isoSeconds(Number(tick.wallNs / 1_000_000n));
    if (this.openGap) {
      this.openGap.end = at;
      this.openGap.slots++;
    } else {
      this.openGap = { start: at, end: at, slots: 1, reason: message };
      this.counts.gaps.push(this.openGap);
    }
    this.events.failed(tick, message);
  }
}
