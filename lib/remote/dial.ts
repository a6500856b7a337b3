/**
 * Dialling one host over SSH: the ssh2 client config (auth methods, pinned key exchange, the
 * known_hosts verifier and the host key types it may offer) and every ssh2 failure mapped, once,
 * to an SshError naming its phase. What runs over the connection is connection.ts's business.
 *
 * The TCP socket and the handshake timer are ours and unref'd, and ssh2's keep-alive is off (its
 * timer cannot be unref'd): an open connection never keeps the process alive by itself (the
 * collector holds the event loop while someone consumes).
 */
import { Socket } from 'node:net';
import { Client, type AgentAuthMethod, type ConnectConfig, type ParsedKey, type PublicKeyAuthMethod } from 'ssh2';
import { SshError } from '../errors.js';
import { hostKeyAlgorithmsFor, type KnownHosts } from './known-hosts.js';
import type { SshPhase } from '../types/errors.js';

/** Pinned: curve25519/ECDH cost ~5 ms of client CPU; DH group exchange ~1.8 s. */
export const KEX_ALGORITHMS = [
  'curve25519-sha256',
  'curve25519-sha256@libssh.org',
  'ecdh-sha2-nistp256',
  'ecdh-sha2-nistp384',
  'ecdh-sha2-nistp521',
] as const;

export interface DialParams {
  /** The host as requested: named in every error. */
  key: string;
  /** Address to connect to (HostName from ~/.ssh/config, else the host). */
  address: string;
  port: number;
  username: string;
  keys: readonly ParsedKey[];
  /** ssh-agent socket, tried after the keys. */
  agent?: string;
  /** Bound on TCP connect + handshake + authentication. */
  connectTimeoutMs: number;
  /** HostKeyAlias: look the key up under this name instead of `[address]:port`. */
  hostKeyAlias?: string;
}

/** One dialled connection. */
export interface Dialled {
  readonly client: Client;
  /** Report a failure of this connection (of the dial, or of what runs on it): the first one counts. */
  fail(err: SshError): void;
}

export interface DialHandlers {
  /** Authenticated: the connection is ready for channels. */
  ready(d: Dialled): void;
  /** Called once, with the connection's first failure. */
  failed(err: SshError, d: Dialled): void;
}

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

/** An sshd limit behind a message, when the message suggests one. */
export function hint(phase: SshPhase, message: string): string {
  if (phase === 'handshake' && /before handshake/i.test(message)) return `${message} (often sshd MaxStartups: lower maxConcurrentHandshakes)`;
  if (phase === 'channel' && /\b2\b|prohibited|MaxSessions/i.test(message)) return `${message} (sshd MaxSessions?)`;
  return message;
}

/** Public keys first, then the agent. */
export function authMethods(p: Pick<DialParams, 'keys' | 'agent' | 'username'>): Array<PublicKeyAuthMethod | AgentAuthMethod> {
  const auth: Array<PublicKeyAuthMethod | AgentAuthMethod> = p.keys.map((key): PublicKeyAuthMethod => ({ type: 'publickey', username: p.username, key }));
  if (p.agent) auth.push({ type: 'agent', username: p.username, agent: p.agent });
  return auth;
}

/**
 * Connect and authenticate. Never throws: every failure, including a refused host key (reported
 * as such, not as the handshake error ssh2 makes of it), reaches `on.failed` once, and never
 * before dial() has returned.
 */
export function dial(p: DialParams, knownHosts: KnownHosts, on: DialHandlers): Dialled {
  const client = new Client();
  let hostKeyError: SshError | undefined;
  let done = false;
  let handshakeTimer: NodeJS.Timeout | undefined;
  const d: Dialled = {
    client,
    fail(err) {
      clearTimeout(handshakeTimer);
      if (done) return;
      done = true;
      on.failed(err, d);
    },
  };
  client.on('ready', () => {
    clearTimeout(handshakeTimer);
    on.ready(d);
  });
  client.on('error', (e: Error & { level?: string; code?: string }) => {
    if (hostKeyError) return d.fail(hostKeyError);
    const phase = phaseOf(e);
    d.fail(new SshError(p.key, phase, hint(phase, e.message), { cause: e }));
  });
  client.on('close', () => d.fail(hostKeyError ?? new SshError(p.key, 'closed', 'connection closed')));

  const auth = authMethods(p);
  if (auth.length === 0) {
    const err = new SshError(p.key, 'auth', 'no usable private key or agent (set ssh.privateKeyPath or ssh.agent; on the command line: --identity FILE, or an ssh-agent in SSH_AUTH_SOCK)');
    process.nextTick(() => d.fail(err));
    return d;
  }
  // known_hosts name: HostKeyAlias as is, else `address` / `[address]:port`.
  const [khHost, khPort] = p.hostKeyAlias ? [p.hostKeyAlias, 22] : [p.address, p.port];
  // Offer only the key types we already know for this host: no downgrade to a new type.
  const serverHostKey = knownHosts.knownKeyTypes(khHost, khPort).flatMap(hostKeyAlgorithmsFor);
  const config: ConnectConfig = {
    host: p.address,
    port: p.port,
    username: p.username,
    authHandler: auth,
    // ssh2's own timers would hold the event loop: the handshake timer below and the keep-alive
    // of connection.ts are ours, unref'd.
    readyTimeout: 0,
    keepaliveInterval: 0,
    algorithms: {
      kex: [...KEX_ALGORITHMS],
      ...(serverHostKey.length ? { serverHostKey } : {}),
    },
    hostVerifier: (key: Buffer) => {
      const verdict = knownHosts.verify(khHost, khPort, key, p.key);
      if (verdict.ok) return true;
      hostKeyError = verdict.error;
      return false;
    },
  };
  const sock = new Socket();
  try {
    // Connecting before ssh2 sees it: ssh2 then waits for 'connect', as with a socket of its own.
    sock.connect({ host: p.address, port: p.port });
    sock.unref();
    handshakeTimer = setTimeout(() => {
      d.fail(new SshError(p.key, 'timeout', `no SSH session within ${p.connectTimeoutMs} ms (connect, handshake and authentication)`));
      sock.destroy();
    }, p.connectTimeoutMs).unref();
    client.connect({ ...config, sock });
  } catch (e) {
    sock.destroy();
    const err = new SshError(p.key, 'connect', (e as Error).message, { cause: e });
    process.nextTick(() => d.fail(err));
  }
  return d;
}
