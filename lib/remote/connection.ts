/**
 * One remote host: one persistent ssh2 connection with ONE long-lived exec channel running the
 * loop of script.ts. The collector calls `tick()` on every host from one timer; each tick yields
 * exactly one sample per host: the parsed frame (onFrame), or an error sample (onError) when the
 * host is down or its frame did not come within the stall deadline.
 *
 * Every tick is written at once, whatever is still in flight: the remote loop answers in order,
 * so a round trip longer than the interval only means several ticks in flight, not lost slots.
 * A tick whose frame has not come `stallTimeoutMs` after it was sent gets an error sample (one
 * stall); `stallTicks` stalls in a row drop the connection and make a new one. Failures
 * reconnect with backoff and jitter; nothing here ever waits on another host.
 */
import { Client, type AgentAuthMethod, type ClientChannel, type ConnectConfig, type ParsedKey, type PublicKeyAuthMethod } from 'ssh2';
import { SshError, type SshPhase } from '../errors.js';
import { isoSeconds } from '../native/sampler.js';
import type { Metric } from '../types.js';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import { FrameParser, type HelloFrame, type SampleFrame } from './frames.js';
import { hostKeyAlgorithmsFor, type KnownHosts } from './known-hosts.js';
import type { Limiter } from './limiter.js';
import { bootstrapCommand, buildRemoteScript, newNonce } from './script.js';

/** Pinned: curve25519/ECDH cost ~5 ms of client CPU; DH group exchange ~1.8 s. */
export const KEX_ALGORITHMS = [
  'curve25519-sha256',
  'curve25519-sha256@libssh.org',
  'ecdh-sha2-nistp256',
  'ecdh-sha2-nistp384',
  'ecdh-sha2-nistp521',
] as const;

export type HostState = 'idle' | 'connecting' | 'starting' | 'streaming' | 'backoff' | 'failed' | 'stopped';

export interface HostGap {
  /** First and last slot that got an error sample (collector tick times). */
  start: string;
  end: string;
  slots: number;
  reason: string;
}

export interface HostReboot {
  at: string;
  previousBootId: string;
  bootId: string;
}

export interface HostStatus {
  host: string;
  method: 'ssh' | 'local';
  state: HostState;
  /** Where it connects (after ~/.ssh/config) and as whom. */
  address?: string;
  port?: number;
  user?: string;
  lastError?: { phase: SshPhase; message: string; at: string };
  /** Connections that reached streaming, and connection attempts after the first. */
  connects: number;
  reconnects: number;
  samples: number;
  errorSamples: number;
  /** Frames that arrived after their slot had been given an error sample. */
  lateFrames: number;
  /** Ticks whose frame missed the stall deadline (each counted once). */
  stalledTicks: number;
  gaps: HostGap[];
  reboots: HostReboot[];
  bootId?: string;
  remoteHostname?: string;
  remoteShell?: 'bash' | 'sh';
  /** Last tick → frame round trip. */
  rttMs?: number;
  /** ms from start() until this host first streamed. */
  firstStreamMs?: number;
}

export interface ConnectionParams {
  /** The host as requested: the samples' `hostname` and key. */
  key: string;
  /** Address to connect to (HostName from ~/.ssh/config, else the host). */
  address: string;
  port: number;
  username: string;
  keys: readonly ParsedKey[];
  /** ssh-agent socket, tried after the keys. */
  agent?: string;
  metrics: readonly Metric[];
  intervalMs: number;
  deadmanSeconds: number;
  connectTimeoutMs: number;
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
  /** A tick's frame may take this long (from the tick) before its slot becomes an error. */
  stallTimeoutMs: number;
  /** Ticks in a row that missed the stall deadline, after which the connection is re-made. */
  stallTicks: number;
  /** HostKeyAlias: look the key up under this name instead of `[address]:port`. */
  hostKeyAlias?: string;
  backoff?: BackoffOptions;
  remoteShell?: 'auto' | 'sh';
}

/** One slot of the collector's clock. */
export interface Tick {
  seq: number;
  /** Wall clock, ns: the samples' timestamp (the same for every host of the tick). */
  wallNs: bigint;
  /** Monotonic, ns. */
  monoNs: bigint;
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

interface Pending {
  tick: Tick;
  /** performance.now() when written; the frame is due by `deadline`. */
  sentAt: number;
  deadline: number;
}

const STDERR_TAIL = 2048;

/** ssh2 error → our phase. */
export function phaseOf(err: Error & { level?: string; code?: string | number }): SshPhase {
  const code = typeof err.code === 'string' ? err.code : '';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || err.level === 'client-dns') return 'dns';
  switch (err.level) {
    case 'client-socket':
      return 'connect';
    case 'client-timeout':
      return 'timeout';
    case 'client-authentication':
    case 'agent':
      return 'auth';
    case 'protocol':
    case 'handshake':
      return 'handshake';
    default:
      return 'closed';
  }
}

function hint(phase: SshPhase, message: string): string {
  if (phase === 'handshake' && /before handshake/i.test(message)) return `${message} (often sshd MaxStartups: lower maxConcurrentHandshakes)`;
  if (phase === 'channel' && /\b2\b|prohibited|MaxSessions/i.test(message)) return `${message} (sshd MaxSessions?)`;
  return message;
}

export class HostConnection {
  readonly params: ConnectionParams;
  private readonly deps: ConnectionDeps;
  private client: Client | undefined;
  private channel: ClientChannel | undefined;
  private parser: FrameParser | undefined;
  /** Ticks written and not answered yet, by seq, oldest first (the remote answers in order). */
  private readonly pending = new Map<number, Pending>();
  /** Highest seq written to the current channel: a frame at or below it, not pending, is late. */
  private sentMax = 0;
  /** Ticks in a row that missed their deadline. */
  private stalls = 0;
  private expiryTimer: NodeJS.Timeout | undefined;
  /** A reboot seen at the last hello, for the first frame after it. */
  private reboot: HostReboot | undefined;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private helloTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  /** Something was written to the remote loop since the idle timer last looked. */
  private wrote = false;
  private stopping = false;
  private stderrTail = '';
  private openGap: HostGap | undefined;
  private drainWaiter: (() => void) | undefined;
  private releaseSetup: (() => void) | undefined;
  private readonly st: HostStatus;

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
      samples: 0,
      errorSamples: 0,
      lateFrames: 0,
      stalledTicks: 0,
      gaps: [],
      reboots: [],
    };
  }

  get state(): HostState {
    return this.st.state;
  }

  status(): HostStatus {
    return { ...this.st, gaps: this.st.gaps.map((g) => ({ ...g })), reboots: [...this.st.reboots] };
  }

  start(): void {
    if (this.st.state !== 'idle') return;
    void this.connect();
  }

  /**
   * One slot: ask the remote for a frame (whatever is still in flight), or give the slot an error
   * sample when the host is down. Never blocks.
   */
  tick(tick: Tick): void {
    if (this.stopping) return;
    const now = performance.now();
    // Settle overdue ticks first, so a host's samples stay in tick order (and a stall that
    // reaches stallTicks reconnects before this tick is written to a dead channel).
    this.expire(now);
    if (this.st.state !== 'streaming' || !this.channel) {
      this.emitError(tick, this.downReason());
      return;
    }
    this.pending.set(tick.seq, { tick, sentAt: now, deadline: now + this.params.stallTimeoutMs });
    this.sentMax = Math.max(this.sentMax, tick.seq);
    this.channel.write(`${tick.seq}\n`);
    this.wrote = true;
    // An armed timer is due no later than this tick's deadline (deadlines follow send order).
    if (!this.expiryTimer) this.armExpiry();
  }

  /**
   * The collector stopped ticking: wait (at most `graceMs`, and no longer than their deadlines)
   * for the frames of the ticks in flight, then give the rest error samples. Begins the stop: no
   * reconnect from here on.
   */
  async drain(graceMs: number): Promise<void> {
    this.stopping = true;
    clearTimeout(this.retryTimer);
    let last: Pending | undefined;
    for (const p of this.pending.values()) last = p;
    if (last && this.st.state === 'streaming') {
      const wait = Math.max(0, Math.min(graceMs, last.deadline - performance.now()));
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, wait);
        this.drainWaiter = () => {
          if (this.pending.size > 0) return;
          clearTimeout(t);
          resolve();
        };
      });
      this.drainWaiter = undefined;
    }
    this.expire(performance.now());
    this.settleAll('stopped before the host answered');
  }

  /** End the remote loop (stdin EOF) and the connection; resolves when both are gone. */
  async stop(timeoutMs = 3000): Promise<void> {
    this.stopping = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.helloTimer);
    clearTimeout(this.expiryTimer);
    clearInterval(this.idleTimer);
    this.settleAll('stopped before the host answered');
    const client = this.client;
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
    this.client = undefined;
    this.channel = undefined;
    this.closeGap();
    this.setState('stopped');
  }

  // ---- connection life --------------------------------------------------------------------

  private async connect(): Promise<void> {
    this.st.reconnects++;
    this.setState('connecting');
    const release = await this.deps.handshakes.acquire();
    if (this.stopping) return release();
    const p = this.params;
    const client = new Client();
    this.client = client;
    let hostKeyError: SshError | undefined;
    let done = false;
    const failOnce = (err: SshError) => {
      release();
      if (done || this.client !== client) return;
      done = true;
      this.fail(err);
    };
    // The slot is held until the remote loop runs: the login shell's rc files cost the remote
    // more than the handshake, and a fixed timeout over an unbounded start-up storm only thrashes.
    this.releaseSetup = release;
    client.on('ready', () => {
      // Ticks are tiny writes: without this, Nagle holds one until the previous frame's
      // (delayed) ACK, ~40 ms of added round trip.
      client.setNoDelay(true);
      this.openChannel(client, failOnce);
    });
    client.on('error', (e: Error & { level?: string; code?: string }) => {
      if (hostKeyError) return failOnce(hostKeyError);
      const phase = phaseOf(e);
      failOnce(new SshError(p.key, phase, hint(phase, e.message), { cause: e }));
    });
    client.on('close', () => failOnce(hostKeyError ?? new SshError(p.key, 'closed', 'connection closed')));

    const auth: Array<PublicKeyAuthMethod | AgentAuthMethod> = p.keys.map((key): PublicKeyAuthMethod => ({ type: 'publickey', username: p.username, key }));
    if (p.agent) auth.push({ type: 'agent', username: p.username, agent: p.agent });
    // known_hosts name: HostKeyAlias as is, else `address` / `[address]:port`.
    const [khHost, khPort] = p.hostKeyAlias ? [p.hostKeyAlias, 22] : [p.address, p.port];
    // Offer only the key types we already know for this host: no downgrade to a new type.
    const serverHostKey = this.deps.knownHosts.knownKeyTypes(khHost, khPort).flatMap(hostKeyAlgorithmsFor);
    const config: ConnectConfig = {
      host: p.address,
      port: p.port,
      username: p.username,
      authHandler: auth,
      readyTimeout: p.connectTimeoutMs,
      keepaliveInterval: p.keepaliveIntervalMs,
      keepaliveCountMax: p.keepaliveCountMax,
      algorithms: {
        kex: [...KEX_ALGORITHMS],
        ...(serverHostKey.length ? { serverHostKey } : {}),
      },
      hostVerifier: (key: Buffer) => {
        const verdict = this.deps.knownHosts.verify(khHost, khPort, key, p.key);
        if (verdict.ok) return true;
        hostKeyError = verdict.error;
        return false;
      },
    };
    if (auth.length === 0) {
      return failOnce(new SshError(p.key, 'auth', 'no usable private key or agent (set ssh.privateKeyPath or ssh.agent)'));
    }
    try {
      client.connect(config);
    } catch (e) {
      failOnce(new SshError(p.key, 'connect', (e as Error).message, { cause: e }));
    }
  }

  private openChannel(client: Client, failOnce: (e: SshError) => void): void {
    const p = this.params;
    client.exec(bootstrapCommand(p.remoteShell ?? 'auto'), {}, (err, ch) => {
      if (err) return failOnce(new SshError(p.key, 'channel', hint('channel', err.message), { cause: err }));
      if (this.client !== client || this.stopping) {
        ch.end();
        return;
      }
      const nonce = newNonce();
      this.parser = new FrameParser(nonce);
      this.channel = ch;
      this.stderrTail = '';
      this.setState('starting');
      ch.write(`${buildRemoteScript({ nonce, metrics: p.metrics, deadmanSeconds: p.deadmanSeconds })}\n`);
      this.helloTimer = setTimeout(() => {
        failOnce(new SshError(p.key, 'stream', `the remote loop did not start within ${p.connectTimeoutMs} ms${this.stderrSuffix()}`));
      }, p.connectTimeoutMs);
      ch.on('data', (chunk: Buffer) => {
        if (this.channel !== ch || !this.parser) return;
        for (const f of this.parser.push(chunk)) {
          if (f.kind === 'hello') this.onHello(f);
          else this.onFrame(f);
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
        failOnce(new SshError(p.key, 'stream', `the remote loop ended (${exit || 'channel closed'})${this.stderrSuffix()}`));
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
    this.stalls = 0;
    this.sentMax = 0;
    this.armIdle();
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
    }, (this.params.deadmanSeconds * 1000) / 3);
  }

  private onFrame(f: SampleFrame): void {
    const p = this.pending.get(f.tick);
    if (!p) {
      // Its slot already got an error sample (past the deadline); a torn frame (-1) is not counted.
      if (f.tick > 0 && f.tick <= this.sentMax) this.st.lateFrames++;
      return;
    }
    // Answers come in order: older ticks still pending lost their frame (torn on the way).
    for (const [seq, older] of this.pending) {
      if (seq === f.tick) break;
      this.pending.delete(seq);
      this.emitError(older.tick, `the frame of tick ${seq} was lost (torn)`);
    }
    this.pending.delete(f.tick);
    this.stalls = 0;
    this.st.rttMs = Math.round((performance.now() - p.sentAt) * 100) / 100;
    this.closeGap();
    this.st.samples++;
    const reboot = this.reboot;
    this.reboot = undefined;
    this.deps.onFrame(this.params.key, p.tick, f, reboot);
    if (this.pending.size === 0) {
      // Nothing in flight: no deadline to watch (an armed timer for an answered tick would only
      // wake up to re-arm itself).
      clearTimeout(this.expiryTimer);
      this.expiryTimer = undefined;
    }
    this.drainWaiter?.();
  }

  /** Give every tick past its deadline an error sample, oldest first; reconnect after stallTicks in a row. */
  private expire(now: number): void {
    for (const [seq, p] of this.pending) {
      if (p.deadline > now) break;
      this.pending.delete(seq);
      this.stalls++;
      this.st.stalledTicks++;
      this.emitError(p.tick, `no frame within ${Math.round(this.params.stallTimeoutMs)} ms of the tick (host stalled; ${this.stalls} in a row)`);
      if (this.stalls >= this.params.stallTicks && !this.stopping) {
        this.fail(new SshError(this.params.key, 'stream', `no frame for ${this.stalls} ticks in a row (host stalled); reconnecting`));
        return;
      }
    }
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
    }, Math.max(0, oldest.value.deadline - performance.now()));
  }

  /** Every tick in flight gets an error sample with `message`. */
  private settleAll(message: string): void {
    clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    for (const p of this.pending.values()) this.emitError(p.tick, message);
    this.pending.clear();
  }

  private fail(err: SshError): void {
    clearTimeout(this.helloTimer);
    clearInterval(this.idleTimer);
    // Every tick in flight on this connection is lost with it.
    this.settleAll(err.message);
    // A close we caused by stopping is not an error of the host.
    if (!this.stopping) this.st.lastError = { phase: err.phase, message: err.message, at: isoSeconds(Date.now()) };
    const client = this.client;
    this.client = undefined;
    this.channel = undefined;
    this.parser = undefined;
    if (client) {
      client.removeAllListeners('ready');
      client.on('error', () => {}); // late errors of a dropped connection
      client.end();
      setTimeout(() => client.destroy(), 1000).unref();
    }
    this.stalls = 0;
    if (this.stopping) return;
    if (err.phase === 'host-key') {
      // A refused key does not fix itself: no retry (error samples continue).
      this.setState('failed', err);
      return;
    }
    const delay = backoffDelay(this.attempt++, this.params.backoff ?? DEFAULT_BACKOFF);
    this.setState('backoff', err);
    this.retryTimer = setTimeout(() => void this.connect(), delay);
  }

  // ---- slots --------------------------------------------------------------------------------

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

  private emitError(tick: Tick, message: string): void {
    this.st.errorSamples++;
    const at = isoSeconds(Number(tick.wallNs / 1_000_000n));
    if (this.openGap) {
      this.openGap.end = at;
      this.openGap.slots++;
    } else {
      this.openGap = { start: at, end: at, slots: 1, reason: message };
      this.st.gaps.push(this.openGap);
    }
    this.deps.onError(this.params.key, tick, message);
  }

  private closeGap(): void {
    this.openGap = undefined;
  }

  private setState(state: HostState, err?: SshError): void {
    if (this.st.state === state) return;
    this.st.state = state;
    this.deps.onStateChange?.(this.params.key, state, err);
  }
}
