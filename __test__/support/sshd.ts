/**
 * A throwaway OpenSSH server on loopback addresses for tests and benchmarks: keys generated into
 * a temp dir, `sshd -D -e` by absolute path, kill/restart/stall for failure tests, and a check
 * that nothing it spawned is left behind. Loopback only, ever.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { freePort } from '../../scripts/free-port.mjs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SSHD = '/usr/sbin/sshd';
export const SSH_KEYGEN = '/usr/bin/ssh-keygen';

/** Why the real-sshd tests cannot run here, or undefined when they can. */
export function sshdMissing(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux';
  if (!existsSync(SSHD)) return `${SSHD} not found (apt-get install openssh-server openssh-client)`;
  if (!existsSync(SSH_KEYGEN)) return `${SSH_KEYGEN} not found (apt-get install openssh-client)`;
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'sshd tests need root (sshd privilege separation)';
  return undefined;
}

function keygen(path: string, type = 'ed25519'): void {
  const r = spawnSync(SSH_KEYGEN, ['-q', '-t', type, '-N', '', '-C', 'hostseries-test', '-f', path], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ssh-keygen failed: ${r.stderr}`);
}

/** The wire-format public key of an OpenSSH `.pub` file. */
export function publicKeyBlob(pubPath: string): Buffer {
  const [, b64] = readFileSync(pubPath, 'utf8').trim().split(/\s+/);
  return Buffer.from(b64 ?? '', 'base64');
}

export { freePort };

/** Shared test identity: a client key pair and a directory for everything. */
export interface SshTestEnv {
  dir: string;
  clientKey: string;
  clientPub: string;
  knownHosts: string;
  cleanup(): void;
}

export function makeSshTestEnv(): SshTestEnv {
  const dir = mkdtempSync(join(tmpdir(), 'hs-sshd-'));
  const clientKey = join(dir, 'client_key');
  keygen(clientKey);
  return {
    dir,
    clientKey,
    clientPub: `${clientKey}.pub`,
    knownHosts: join(dir, 'known_hosts'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface SshdOptions {
  addresses: string[];
  port?: number;
  /** Extra sshd_config lines (e.g. `MaxStartups 100:30:200`). */
  extra?: string[];
}

/** /proc/<pid>/stat's ppid for every process, read once. */
function processTable(): Map<number, number> {
  const out = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      const after = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(name), Number(after[1]));
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

/** Every live descendant of `pid` (not `pid` itself). */
export function descendants(pid: number): number[] {
  const table = processTable();
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [child, parent] of table) {
      if (parent === p) {
        out.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return out;
}

export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0/g, ' ').trim();
  } catch {
    return '';
  }
}

function signalAll(pids: number[], sig: NodeJS.Signals): void {
  for (const p of pids) {
    try {
      process.kill(p, sig);
    } catch {
      /* gone */
    }
  }
}

export class TestSshd {
  readonly dir: string;
  readonly addresses: string[];
  port = 0;
  readonly hostKey: string;
  private child: ChildProcess | undefined;
  private readonly extra: string[];
  log = '';

  constructor(env: SshTestEnv, opts: SshdOptions) {
    this.addresses = opts.addresses;
    for (const a of this.addresses) if (!a.startsWith('127.')) throw new Error(`test sshd listens on loopback only, not ${a}`);
    this.extra = opts.extra ?? [];
    this.dir = mkdtempSync(join(env.dir, 'sshd-'));
    this.hostKey = join(this.dir, 'host_key');
    keygen(this.hostKey);
    writeFileSync(join(this.dir, 'authorized_keys'), readFileSync(env.clientPub));
    if (opts.port) this.port = opts.port;
  }

  /** The host key as known_hosts would hold it, for `host`. */
  knownHostsLine(host: string): string {
    const pub = readFileSync(`${this.hostKey}.pub`, 'utf8').trim().split(/\s+/);
    const name = this.port === 22 ? host : `[${host}]:${this.port}`;
    return `${name} ${pub[0]} ${pub[1]}\n`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    if (this.child) throw new Error('sshd already running');
    if (!this.port) this.port = await freePort(this.addresses);
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    const config = join(this.dir, 'sshd_config');
    writeFileSync(
      config,
      [
        `Port ${this.port}`,
        ...this.addresses.map((a) => `ListenAddress ${a}`),
        `HostKey ${this.hostKey}`,
        `PidFile ${join(this.dir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${join(this.dir, 'authorized_keys')}`,
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PubkeyAuthentication yes',
        'PermitRootLogin prohibit-password',
        'UsePAM no',
        'StrictModes no',
        'PrintMotd no',
        'PrintLastLog no',
        'UseDNS no',
        'LogLevel INFO',
        ...this.extra,
        '',
      ].join('\n'),
    );
    const child = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    const want = new Set(this.addresses);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`sshd did not start:\n${this.log}`)), 10_000);
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (s: string) => {
        this.log = (this.log + s).slice(-20_000);
        for (const m of s.matchAll(/Server listening on (\S+) port (\d+)/g)) want.delete(m[1]);
        if (want.size === 0) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        this.child = undefined;
        reject(new Error(`sshd exited (${code}):\n${this.log}`));
      });
    });
    child.removeAllListeners('exit');
    child.once('exit', () => {
      if (this.child === child) this.child = undefined;
    });
  }

  /** Processes serving connections (session sshd, the remote shell, its watchdog). */
  sessionPids(): number[] {
    return this.child?.pid ? descendants(this.child.pid) : [];
  }

  /** Kill the listener and every session: the host is down. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child?.pid) return;
    const pids = [child.pid, ...descendants(child.pid)];
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    signalAll(pids, 'SIGCONT');
    signalAll(pids, 'SIGKILL');
    await exited;
    this.child = undefined;
  }

  async restart(): Promise<void> {
    await this.kill();
    await this.start();
  }

  /** Freeze every session process (not the listener): connections stall, new ones still work. */
  stallSessions(): number[] {
    const pids = this.sessionPids();
    signalAll(pids, 'SIGSTOP');
    return pids;
  }

  /** Freeze only what runs in the sessions (the remote shells), not sshd: SSH itself still answers. */
  stallLoops(): number[] {
    const pids = this.sessionPids().filter((pid) => {
      try {
        return !readFileSync(`/proc/${pid}/comm`, 'latin1').startsWith('sshd');
      } catch {
        return false; // exited meanwhile
      }
    });
    signalAll(pids, 'SIGSTOP');
    return pids;
  }

  /** Kill every session (the remote loops die with them); the listener keeps accepting. */
  killSessions(): number[] {
    const pids = this.sessionPids();
    signalAll(pids, 'SIGCONT');
    signalAll(pids, 'SIGKILL');
    return pids;
  }

  resume(pids: number[]): void {
    signalAll(pids, 'SIGCONT');
  }

  async stop(): Promise<void> {
    await this.kill();
  }
}

/** Wait until `pred` holds (polling), or throw with `what` after `ms`. */
export async function waitFor(pred: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
