/**
 * The tick ledger and the tick schedule on their own, no sshd: fake timers drive the deadlines,
 * and the ledger's events are recorded in the order they come.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { WallClock } from '../lib/remote/clock.js';
import { TickLedger, type TickLedgerOptions } from '../lib/remote/tick-ledger.js';
import { TickSchedule, type Tick } from '../lib/remote/tick-schedule.js';

const T0 = 1_700_000_000_000;
/** Tick `seq`, one second apart from 2023-11-14T22:13:20Z. */
const tick = (seq: number): Tick => ({ seq, wallNs: BigInt(T0 + seq * 1000) * 1_000_000n, monoNs: BigInt(seq) * 1_000_000_000n });
const iso = (seq: number) => new Date(T0 + seq * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

interface Frame { seq: number }

/** A ledger whose events are written down as `A<seq>` (answered), `E<seq>:<message>` and `S<n>` (stalled). */
function ledger(options: Partial<TickLedgerOptions> = {}, onStalled?: (l: TickLedger<Frame>, n: number) => void) {
  const log: string[] = [];
  const l: TickLedger<Frame> = new TickLedger<Frame>({ stallTimeoutMs: 1000, stallTicks: 3, ...options }, {
    answered: (t, f) => {
      expect(f.seq).toBe(t.seq);
      log.push(`A${t.seq}`);
    },
    failed: (t, message) => log.push(`E${t.seq}:${message}`),
    stalled: (n) => {
      log.push(`S${n}`);
      onStalled?.(l, n);
    },
  });
  const send = (...seqs: number[]) => seqs.forEach((s) => l.sent(tick(s)));
  const answer = (seq: number) => l.answer(seq, { seq });
  return { l, log, send, answer };
}

describe('tick ledger', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'performance'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('keeps several ticks in flight and answers them in order, with the round trip', () => {
    const { l, log, send, answer } = ledger();
    send(1);
    vi.advanceTimersByTime(300);
    send(2, 3);
    expect(l.inFlight).toBe(3);
    vi.advanceTimersByTime(450);
    answer(1);
    expect(l.status().rttMs).toBe(750);
    answer(2);
    answer(3);
    expect(log).toEqual(['A1', 'A2', 'A3']);
    expect(l.status()).toEqual({ samples: 3, errorSamples: 0, lateFrames: 0, stalledTicks: 0, gaps: [], rttMs: 450 });
    expect(l.inFlight).toBe(0);
    // Nothing in flight: no timer left behind.
    expect(vi.getTimerCount()).toBe(0);
  });

  it('gives a tick whose frame missed the deadline an error sample, by its own timer, and counts the frame late', () => {
    const { l, log, send, answer } = ledger();
    send(1);
    vi.advanceTimersByTime(999);
    expect(log).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(log).toEqual(['E1:no frame within 1000 ms of the tick (host stalled; 1 in a row)']);
    answer(1); // the frame came after all: its slot is taken
    answer(-1); // a torn frame is not a late one
    answer(7); // never sent: not late either
    expect(log).toHaveLength(1);
    expect(l.status()).toMatchObject({ samples: 0, errorSamples: 1, lateFrames: 1, stalledTicks: 1 });
    expect(l.status().gaps).toEqual([{ start: iso(1), end: iso(1), slots: 1, reason: log[0].slice(3) }]);
  });

  it('counts stalls in a row, asks for a reconnect at stallTicks, and the reconnect settles the rest', () => {
    const { l, log, send, answer } = ledger({ stallTicks: 3 }, (led) => led.lost('no frame for 3 ticks in a row; reconnecting'));
    send(1);
    vi.advanceTimersByTime(1500);
    answer(2); // never sent on this channel
    send(2);
    vi.advanceTimersByTime(100);
    send(3);
    vi.advanceTimersByTime(100);
    send(4, 5);
    vi.advanceTimersByTime(1000);
    expect(log).toEqual([
      'E1:no frame within 1000 ms of the tick (host stalled; 1 in a row)',
      'E2:no frame within 1000 ms of the tick (host stalled; 2 in a row)',
      'E3:no frame within 1000 ms of the tick (host stalled; 3 in a row)',
      'S3',
      'E4:no frame for 3 ticks in a row; reconnecting',
      'E5:no frame for 3 ticks in a row; reconnecting',
    ]);
    expect(l.inFlight).toBe(0);
    expect(l.status()).toMatchObject({ errorSamples: 5, stalledTicks: 3 });
    // One gap: five slots in a row, named by the first slot's reason.
    expect(l.status().gaps).toEqual([{ start: iso(1), end: iso(5), slots: 5, reason: log[0].slice(3) }]);
    // After the reconnect, stalls count from one again.
    l.begin();
    send(6);
    vi.advanceTimersByTime(1000);
    expect(log.at(-1)).toBe('E6:no frame within 1000 ms of the tick (host stalled; 1 in a row)');
  });

  it('an answer resets the stall count; stalls while stopping never ask for a reconnect', () => {
    const { l, log, send, answer } = ledger({ stallTicks: 2 });
    send(1, 2);
    answer(2); // 1 is lost (answers come in order), 2 answered: no stall
    send(3);
    vi.advanceTimersByTime(1000);
    send(4);
    answer(4);
    send(5);
    vi.advanceTimersByTime(1000);
    expect(log.filter((e) => e.startsWith('S'))).toEqual([]);
    expect(log.filter((e) => /in a row/.test(e)).map((e) => /(\d) in a row/.exec(e)![1])).toEqual(['1', '1']);
    expect(l.status().stalledTicks).toBe(2);
  });

  it('treats an answer that overtakes older ticks as their frames lost (torn), in tick order', () => {
    const { l, log, send, answer } = ledger();
    send(1, 2, 3, 4);
    answer(3);
    expect(log).toEqual(['E1:the frame of tick 1 was lost (torn)', 'E2:the frame of tick 2 was lost (torn)', 'A3']);
    answer(4);
    answer(2); // already settled: late
    expect(log.at(-1)).toBe('A4');
    expect(l.status()).toMatchObject({ samples: 2, errorSamples: 2, lateFrames: 1 });
    expect(l.status().gaps).toEqual([{ start: iso(1), end: iso(2), slots: 2, reason: 'the frame of tick 1 was lost (torn)' }]);
  });

  it('records each run of error samples as one gap, closed by the next frame', () => {
    const { l, send, answer } = ledger();
    l.missed(tick(1), 'h: connecting');
    l.missed(tick(2), 'h: connect: ECONNREFUSED');
    send(3);
    answer(3);
    l.missed(tick(4), 'h: stream: the remote loop ended');
    l.closeGap(); // the run stopped
    l.missed(tick(5), 'h: connecting');
    expect(l.status().gaps).toEqual([
      { start: iso(1), end: iso(2), slots: 2, reason: 'h: connecting' },
      { start: iso(4), end: iso(4), slots: 1, reason: 'h: stream: the remote loop ended' },
      { start: iso(5), end: iso(5), slots: 1, reason: 'h: connecting' },
    ]);
    // status() is a copy.
    l.status().gaps[0].slots = 99;
    expect(l.status().gaps[0].slots).toBe(2);
  });

  it('a lost connection or a stop settles every tick in flight with its message', () => {
    const { l, log, send } = ledger();
    send(1, 2);
    l.lost('h: stream: the remote loop ended (code 1)');
    send(3);
    l.settle('stopped before the host answered');
    expect(log).toEqual([
      'E1:h: stream: the remote loop ended (code 1)',
      'E2:h: stream: the remote loop ended (code 1)',
      'E3:stopped before the host answered',
    ]);
    expect(l.inFlight).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('waitForAnswers resolves at the last answer, or at the deadline or the grace, whichever is first', async () => {
    const { l, log, send, answer } = ledger();
    await l.waitForAnswers(5000); // nothing in flight: at once
    send(1, 2);
    let done = false;
    const waiting = l.waitForAnswers(5000).then(() => (done = true));
    answer(1);
    await vi.advanceTimersByTimeAsync(10);
    expect(done).toBe(false);
    answer(2);
    await waiting;
    expect(log).toEqual(['A1', 'A2']);

    // No answer: bounded by the grace...
    send(3);
    const t0 = performance.now();
    const graced = l.waitForAnswers(200);
    await vi.advanceTimersByTimeAsync(200);
    await graced;
    expect(performance.now() - t0).toBe(200);
    // ...or by the deadline, where the expiry has given the slot its error sample.
    const bounded = l.waitForAnswers(60_000);
    await vi.advanceTimersByTimeAsync(800);
    await bounded;
    expect(performance.now() - t0).toBe(1000);
    expect(log.at(-1)).toMatch(/^E3:no frame within 1000 ms/);
  });
});

describe('tick schedule', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance', 'Date'] });
  });
  afterEach(() => {
    vi.restoreAllMocks();
    vi.useRealTimers();
  });

  it('ticks at once and then on absolute deadlines, stamped with the real-time clock', () => {
    const ticks: Tick[] = [];
    const s = new TickSchedule(250, (t) => ticks.push(t), new WallClock());
    s.start();
    expect(ticks.map((t) => t.seq)).toEqual([1]);
    vi.advanceTimersByTime(1000);
    expect(ticks.map((t) => t.seq)).toEqual([1, 2, 3, 4, 5]);
    const wallMs = ticks.map((t) => Number(t.wallNs / 1_000_000n));
    expect(wallMs.slice(1).map((w, i) => w - wallMs[i])).toEqual([250, 250, 250, 250]);
    s.stop();
    vi.advanceTimersByTime(1000);
    expect(ticks).toHaveLength(5);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('skips and counts the ticks a blocked event loop could not fire', () => {
    const ticks: number[] = [];
    const s = new TickSchedule(100, (t) => {
      ticks.push(t.seq);
      // Tick 3 keeps the event loop busy for 450 ms.
      if (t.seq === 3) vi.spyOn(performance, 'now').mockReturnValueOnce(performance.now() + 450);
    });
    s.start();
    vi.advanceTimersByTime(200);
    expect(ticks).toEqual([1, 2, 3]);
    // Slots 4, 5 and 6 (due at 300, 400, 500 ms) passed while it was busy: skipped, not fired late.
    expect(s.missedTicks).toBe(3);
    // The next slot (7, due at 600 ms) comes at once.
    vi.advanceTimersByTime(1);
    expect(ticks).toEqual([1, 2, 3, 7]);
    s.stop();
  });
});
