/**
 * One remote host: one persistent ssh2 connection with ONE long-lived exec channel running the
 * loop of script.ts. The collector calls `tick()` on every host from one timer; each tick yields
 * exactly one sample per host through `onSample`: the parsed frame, or an error sample when the
 * host is down, stalled or late. Failures reconnect with backoff and jitter; nothing here ever
 * waits on another host.
 */
import { Client, type AuthMethod, type ClientChannel, type ConnectConfig, type ParsedKey } from 'ssh2';
import { SshError, type SshPhase } from '../errors.js';
import { isoSeconds } from '../native.js';
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
  /** Consecutive unanswered ticks after which the connection is dropped and re-made. */
  stallTicks: number;
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
  /** The frame answering `tick`. Exactly one of onFrame/onError is called per tick. */
  onFrame(key: string, tick: Tick, frame: SampleFrame): void;
  /** `tick` gets an error sample with this message. */
  onError(key: string, tick: Tick, message: string): void;
  onStateChange?(key: string, state: HostState, error?: SshError): void;
  onReboot?(key: string, reboot: HostReboot): void;
  /** Time origin for firstStreamMs (performance.now() at collector start). */
  startedAt: number;
}

interface Pending {
  tick: Tick;
  sentAt: number;
  /** Its slot already got an error sample (it was late); a frame now is dropped. */
  settled: boolean;
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
  private pending: Pending | undefined;
  private stalls = 0;
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

  /** One slot: ask the remote for a frame, or give the slot an error sample. Never blocks. */
  tick(tick: Tick): void {
    if (this.stopping) return;
    const p = this.pending;
    if (p && !p.settled) {
      // The previous slot is still unanswered one interval later: it is late.
      p.settled = true;
      this.stalls++;
      this.emitError(p.tick, `no answer within the interval (host stalled; ${this.stalls} in a row)`);
    }
    if (this.st.state !== 'streaming' || !this.channel) {
      this.emitError(tick, this.downReason());
      return;
    }
    if (this.pending) {
      // Still waiting on an older frame: don't queue ticks behind it (they would all come back stale).
      this.stalls++;
      this.emitError(tick, `host stalled: tick ${this.pending.tick.seq} unanswered`);
      if (this.stalls >= this.params.stallTicks) {
        this.fail(new SshError(this.params.key, 'stream', `no frame for ${this.stalls} ticks (host stalled); reconnecting`));
      }
      return;
    }
    this.pending = { tick, sentAt: performance.now(), settled: false };
    this.channel.write(`${tick.seq}\n`);
    this.wrote = true;
  }

  /** Wait (at most `graceMs`) for the frame of the last tick, then settle it. */
  async drain(graceMs: number): Promise<void> {
    if (this.pending && !this.pending.settled && this.st.state === 'streaming') {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, graceMs);
        this.drainWaiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.drainWaiter = undefined;
    }
    const p = this.pending;
    if (p && !p.settled) {
      p.settled = true;
      this.emitError(p.tick, 'stopped before the host answered');
    }
  }

  /** End the remote loop (stdin EOF) and the connection; resolves when both are gone. */
  async stop(timeoutMs = 3000): Promise<void> {
    this.stopping = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.helloTimer);
    clearInterval(this.idleTimer);
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

    const auth: AuthMethod[] = p.keys.map((key) => ({ type: 'publickey', username: p.username, key }) as AuthMethod);
    if (p.agent) auth.push({ type: 'agent', username: p.username, agent: p.agent } as AuthMethod);
    const knownTypes = this.deps.knownHosts.knownKeyTypes(p.address, p.port);
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
        // Offer only the key types we already know for this host: no downgrade to a new type.
        ...(knownTypes.length ? { serverHostKey: knownTypes.flatMap(hostKeyAlgorithmsFor) as never } : {}),
      },
      hostVerifier: (key: Buffer) => {
        const verdict = this.deps.knownHosts.verify(p.address, p.port, key, p.key);
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
    if (prev && prev !== h.bootId) {
      const reboot = { at: isoSeconds(Date.now()), previousBootId: prev, bootId: h.bootId };
      this.st.reboots.push(reboot);
      this.deps.onReboot?.(this.params.key, reboot);
    }
    this.st.bootId = h.bootId;
    this.st.remoteHostname = h.hostname;
    this.st.remoteShell = h.shell;
    this.st.connects++;
    this.st.firstStreamMs ??= Math.round(performance.now() - this.deps.startedAt);
    this.attempt = 0;
    this.stalls = 0;
    this.pending = undefined;
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
    const p = this.pending;
    if (!p || f.tick !== p.tick.seq) return; // not ours (torn or from before a reconnect)
    this.pending = undefined;
    this.stalls = 0;
    this.st.rttMs = Math.round((performance.now() - p.sentAt) * 100) / 100;
    if (p.settled) {
      this.st.lateFrames++;
      return;
    }
    p.settled = true;
    this.closeGap();
    this.st.samples++;
    this.deps.onFrame(this.params.key, p.tick, f);
    this.drainWaiter?.();
  }

  private fail(err: SshError): void {
    clearTimeout(this.helloTimer);
    clearInterval(this.idleTimer);
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
    if (this.pending && !this.pending.settled) {
      this.pending.settled = true;
      this.emitError(this.pending.tick, err.message);
    }
    this.pending = undefined;
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
