/**
 * One remote host: one persistent ssh2 connection (dial.ts) with ONE long-lived exec channel
 * running the loop of script.ts. The collector calls `tick()` on every host from one timer; each
 * tick yields exactly one sample per host: the parsed frame (onFrame), or an error sample
 * (onError) when the host is down or its frame did not come in time (the tick ledger decides).
 *
 * Every tick is written at once, whatever is still in flight. Failures reconnect with backoff
 * and jitter; `stallTicks` stalls in a row drop the connection and make a new one; nothing here
 * ever waits on another host. Every timer is unref'd: the collector decides what holds the
 * process (collector/keep-alive.ts).
 */
import type { ClientChannel, ParsedKey } from 'ssh2';
import { SshError } from '../errors.js';
import { isoSeconds } from '../native/decode.js';
import type { Metric } from '../types/sample.js';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import { dial, hint, type Dialled, type DialParams } from './dial.js';
import { FrameParser, type HelloFrame, type SampleFrame } from './frames.js';
import type { HostReboot, HostState, HostStatus } from '../types/host-status.js';
import type { KnownHosts } from './known-hosts.js';
import type { Limiter } from './limiter.js';
import { bootstrapCommand, buildRemoteScript, newNonce, type RemoteWatchPlan } from './script.js';
import { TickLedger } from './tick-ledger.js';
import type { Tick } from './tick-schedule.js';

export interface ConnectionParams extends DialParams {
  keys: readonly ParsedKey[];
  metrics: readonly Metric[];
  /**
   * While streaming, a `p` line after each period without a byte from the remote loop (0: off);
   * more than keepaliveCountMax unanswered in a row drop the connection.
   */
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
  intervalMs: number;
  deadmanSeconds: number;
  /** A tick's frame may take this long (from the tick) before its slot becomes an error. */
  stallTimeoutMs: number;
  /** Ticks in a row that missed the stall deadline, after which the connection is re-made. */
  stallTicks: number;
  backoff?: BackoffOptions;
  remoteShell?: 'auto' | 'sh';
  /** Watched processes: what the loop picks by itself (the rest each tick line asks for). */
  watch?: RemoteWatchPlan;
}

export interface ConnectionDeps {
  knownHosts: KnownHosts;
  handshakes: Limiter;
  /**
   * The frame answering `tick`. Exactly one of onFrame/onError is called per tick, in tick order.
   * `reboot` is set on the first frame after the remote's boot_id changed.
   */
  onFrame(key: string, tick: Tick, frame: SampleFrame, reboot?: HostReboot): void;
  /** `tick` gets an error sample with this message. */
  onError(key: string, tick: Tick, message: string): void;
  onStateChange?(key: string, state: HostState, error?: SshError): void;
  onReboot?(key: string, reboot: HostReboot): void;
  /** Every time the remote loop starts: the kernel's boot_id (hosts that share one are one machine). */
  onBoot?(key: string, bootId: string): void;
  /** Time origin for firstStreamMs (performance.now() at collector start). */
  startedAt: number;
}

const STDERR_TAIL = 2048;
const STOPPED = 'stopped before the host answered';

export class HostConnection {
  readonly params: ConnectionParams;
  private readonly deps: ConnectionDeps;
  private readonly ledger: TickLedger<SampleFrame>;
  private conn: Dialled | undefined;
  private channel: ClientChannel | undefined;
  private parser: FrameParser | undefined;
  /** A reboot seen at the last hello, for the first frame after it. */
  private reboot: HostReboot | undefined;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private helloTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  /** Something was written to the remote loop since the idle timer last looked. */
  private wrote = false;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  /** Bytes came from the remote loop since the keep-alive timer last looked. */
  private heard = false;
  /** Keep-alive lines in a row that got no answer. */
  private unanswered = 0;
  private stopping = false;
  private stderrTail = '';
  private releaseSetup: (() => void) | undefined;
  private readonly st: Omit<HostStatus, 'samples' | 'errorSamples' | 'lateFrames' | 'stalledTicks' | 'gaps' | 'rttMs'>;

  constructor(params: ConnectionParams, deps: ConnectionDeps) {
    this.params = params;
    this.deps = deps;
    this.st = {
      host: params.key,
      method: 'ssh',
      state: 'idle',
      address: params.address,
      port: params.port,
      user: params.username,
      connects: 0,
      reconnects: -1,
      reboots: [],
    };
    this.ledger = new TickLedger<SampleFrame>(
      { stallTimeoutMs: params.stallTimeoutMs, stallTicks: params.stallTicks },
      {
        answered: (tick, frame) => {
          const reboot = this.reboot;
          this.reboot = undefined;
          this.deps.onFrame(this.params.key, tick, frame, reboot);
        },
        failed: (tick, message) => this.deps.onError(this.params.key, tick, message),
        stalled: (inARow) => {
          if (this.stopping) return;
          this.fail(new SshError(this.params.key, 'stream', `no frame for ${inARow} ticks in a row (host stalled); reconnecting`));
        },
      },
    );
  }

  get state(): HostState {
    return this.st.state;
  }

  status(): HostStatus {
    const { rttMs, ...counts } = this.ledger.status();
    return { ...this.st, ...counts, ...(rttMs !== undefined ? { rttMs } : {}), reboots: [...this.st.reboots] };
  }

  start(): void {
    if (this.st.state !== 'idle') return;
    void this.connect();
  }

  /**
   * One slot: ask the remote for a frame (whatever is still in flight), or give the slot an error
   * sample when the host is down. Never blocks.
   */
  tick(tick: Tick, request = ''): void {
    if (this.stopping) return;
    this.ledger.beforeTick();
    if (this.st.state !== 'streaming' || !this.channel) {
      this.ledger.missed(tick, this.downReason());
      return;
    }
    this.ledger.sent(tick);
    this.channel.write(request ? `${tick.seq} ${request}\n` : `${tick.seq}\n`);
    this.wrote = true;
  }

  /**
   * The collector stopped ticking: wait (at most `graceMs`, and no longer than their deadlines)
   * for the frames of the ticks in flight, then give the rest error samples. Begins the stop: no
   * reconnect from here on.
   */
  async drain(graceMs: number): Promise<void> {
    this.stopping = true;
    clearTimeout(this.retryTimer);
    if (this.st.state === 'streaming') await this.ledger.waitForAnswers(graceMs);
    this.ledger.expire();
    this.ledger.settle(STOPPED);
  }

  /** End the remote loop (stdin EOF) and the connection; resolves when both are gone. */
  async stop(timeoutMs = 3000): Promise<void> {
    this.stopping = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.helloTimer);
    clearInterval(this.idleTimer);
    clearInterval(this.keepaliveTimer);
    this.ledger.settle(STOPPED);
    const client = this.conn?.client;
    const ch = this.channel;
    if (client) {
      const closed = new Promise<void>((resolve) => {
        client.once('close', resolve);
        setTimeout(resolve, timeoutMs).unref();
      });
      if (ch) {
        // EOF ends the remote loop; sshd then closes the channel; then we close the connection.
        const chClosed = new Promise<void>((resolve) => {
          ch.once('close', resolve);
          setTimeout(resolve, timeoutMs / 2).unref();
        });
        ch.end();
        await chClosed;
      }
      client.end();
      await closed;
      client.destroy();
    }
    this.conn = undefined;
    this.channel = undefined;
    this.ledger.closeGap();
    this.setState('stopped');
  }

  // ---- connection life --------------------------------------------------------------------

  private async connect(): Promise<void> {
    this.st.reconnects++;
    this.setState('connecting');
    const release = await this.deps.handshakes.acquire();
    if (this.stopping) return release();
    // The slot is held until the remote loop runs: the login shell's rc files cost the remote
    // more than the handshake, and a fixed timeout over an unbounded start-up storm only thrashes.
    this.releaseSetup = release;
    this.conn = dial(this.params, this.deps.knownHosts, {
      ready: (d) => {
        // Ticks are tiny writes: without this, Nagle holds one until the previous frame's
        // (delayed) ACK, ~40 ms of added round trip.
        d.client.setNoDelay(true);
        this.openChannel(d);
      },
      failed: (err, d) => {
        release();
        // A failure of a connection already dropped (or replaced) is not news.
        if (this.conn === d) this.fail(err);
      },
    });
  }

  private openChannel(d: Dialled): void {
    const p = this.params;
    d.client.exec(bootstrapCommand(p.remoteShell ?? 'auto'), {}, (err, ch) => {
      if (err) return d.fail(new SshError(p.key, 'channel', hint('channel', err.message), { cause: err }));
      if (this.conn !== d || this.stopping) {
        ch.end();
        return;
      }
      const nonce = newNonce();
      this.parser = new FrameParser(nonce);
      this.channel = ch;
      this.stderrTail = '';
      this.setState('starting');
      ch.write(`${buildRemoteScript({ nonce, metrics: p.metrics, deadmanSeconds: p.deadmanSeconds, ...(p.watch ? { watch: p.watch } : {}) })}\n`);
      this.helloTimer = setTimeout(() => {
        d.fail(new SshError(p.key, 'stream', `the remote loop did not start within ${p.connectTimeoutMs} ms${this.stderrSuffix()}`));
      }, p.connectTimeoutMs).unref();
      ch.on('data', (chunk: Buffer) => {
        if (this.channel !== ch || !this.parser) return;
        this.heard = true;
        for (const f of this.parser.push(chunk)) {
          if (f.kind === 'hello') this.onHello(f);
          else if (f.kind === 'sample') this.ledger.answer(f.tick, f);
        }
      });
      ch.stderr.on('data', (chunk: Buffer) => {
        this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL);
      });
      let exit = '';
      ch.on('exit', (code: number | null, signal?: string) => {
        exit = signal ? `signal ${signal}` : `code ${code}`;
      });
      ch.on('close', () => {
        if (this.channel !== ch || this.stopping) return;
        d.fail(new SshError(p.key, 'stream', `the remote loop ended (${exit || 'channel closed'})${this.stderrSuffix()}`));
      });
    });
  }

  private stderrSuffix(): string {
    const s = this.stderrTail.trim();
    return s ? `: ${s.split('\n').slice(-3).join(' | ')}` : '';
  }

  private onHello(h: HelloFrame): void {
    clearTimeout(this.helloTimer);
    this.releaseSetup?.();
    const prev = this.st.bootId;
    if (prev && h.bootId && prev !== h.bootId) {
      const reboot = { at: isoSeconds(Date.now()), previousBootId: prev, bootId: h.bootId };
      this.st.reboots.push(reboot);
      // The first sample after it says so (its counters restarted), not only status and event.
      this.reboot = reboot;
      this.deps.onReboot?.(this.params.key, reboot);
    }
    if (h.bootId) this.deps.onBoot?.(this.params.key, h.bootId);
    this.st.bootId = h.bootId;
    this.st.remoteHostname = h.hostname;
    this.st.remoteShell = h.shell;
    this.st.connects++;
    this.st.firstStreamMs ??= Math.round(performance.now() - this.deps.startedAt);
    this.attempt = 0;
    this.ledger.begin();
    this.armIdle();
    this.armKeepalive();
    this.setState('streaming');
  }

  /**
   * While no tick is written (start() still waits for slower hosts, or a long pause), a `p` line
   * every third of the dead-man period keeps the remote loop from ending itself.
   */
  private armIdle(): void {
    clearInterval(this.idleTimer);
    const ch = this.channel;
    this.wrote = false;
    this.idleTimer = setInterval(() => {
      if (this.channel !== ch || !ch) return clearInterval(this.idleTimer);
      if (!this.wrote) ch.write('p\n');
      this.wrote = false;
    }, (this.params.deadmanSeconds * 1000) / 3).unref();
  }

  /**
   * ssh2's keep-alive is off (its timer would hold the process): this one asks the remote loop
   * itself, which also proves the loop, not only sshd, still runs. Ticks answered in time are
   * answer enough; a `p` line goes out only after a silent period.
   */
  private armKeepalive(): void {
    clearInterval(this.keepaliveTimer);
    const { key, keepaliveIntervalMs: every, keepaliveCountMax: max } = this.params;
    if (!(every > 0)) return;
    const ch = this.channel;
    const d = this.conn;
    this.heard = false;
    this.unanswered = 0;
    this.keepaliveTimer = setInterval(() => {
      if (this.channel !== ch || !ch || !d) return clearInterval(this.keepaliveTimer);
      if (this.heard) {
        this.heard = false;
        this.unanswered = 0;
      } else if (++this.unanswered > max) {
        d.fail(new SshError(key, 'timeout', `no answer to ${max} keep-alives ${every} ms apart`));
      } else {
        ch.write('p\n');
        this.wrote = true;
      }
    }, every).unref();
  }

  private fail(err: SshError): void {
    clearTimeout(this.helloTimer);
    clearInterval(this.idleTimer);
    clearInterval(this.keepaliveTimer);
    // Every tick in flight on this connection is lost with it.
    this.ledger.lost(err.message);
    // A close we caused by stopping is not an error of the host.
    if (!this.stopping) this.st.lastError = { phase: err.phase, message: err.message, at: isoSeconds(Date.now()) };
    const client = this.conn?.client;
    this.conn = undefined;
    this.channel = undefined;
    this.parser = undefined;
    if (client) {
      client.removeAllListeners('ready');
      client.on('error', () => {}); // late errors of a dropped connection
      client.end();
      setTimeout(() => client.destroy(), 1000).unref();
    }
    if (this.stopping) return;
    if (err.phase === 'host-key') {
      // A refused key does not fix itself: no retry (error samples continue).
      this.setState('failed', err);
      return;
    }
    const delay = backoffDelay(this.attempt++, this.params.backoff ?? DEFAULT_BACKOFF);
    this.setState('backoff', err);
    this.retryTimer = setTimeout(() => void this.connect(), delay).unref();
  }

  private downReason(): string {
    const e = this.st.lastError;
    switch (this.st.state) {
      case 'failed':
      case 'backoff':
        return e ? e.message : `${this.params.key}: not connected`;
      default:
        return e ? `${this.params.key}: reconnecting after: ${e.message}` : `${this.params.key}: connecting`;
    }
  }

  private setState(state: HostState, err?: SshError): void {
    if (this.st.state === state) return;
    this.st.state = state;
    this.deps.onStateChange?.(this.params.key, state, err);
  }
}
