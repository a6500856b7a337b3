/**
 * From the collector's options to each host's connection: its ConnectionParams (dial, remote
 * loop, stall and backoff settings) and the known_hosts it is checked against.
 */
import type { Metric } from '../types/sample.js';
import type { ConnectionParams } from './connection.js';
import type { RemoteWatchPlan } from './script.js';
import { KnownHosts } from './known-hosts.js';
import type { ResolvedSshOptions } from './options.js';
import type { HostKeyCheck, RemoteTarget } from './targets.js';

export interface RunSettings {
  metrics: readonly Metric[];
  intervalSeconds: number;
  /** A tick's frame deadline (at least one interval). */
  stallTimeoutMs: number;
  /** Watched processes (see script.ts). */
  watch?: RemoteWatchPlan;
}

export function connectionParams(t: RemoteTarget, ssh: ResolvedSshOptions, run: RunSettings): ConnectionParams {
  return {
    key: t.key,
    address: t.address,
    port: t.port,
    username: t.username,
    keys: t.keys,
    agent: t.agent,
    metrics: run.metrics,
    intervalMs: run.intervalSeconds * 1000,
    deadmanSeconds: Math.max(10, ssh.deadmanTicks * run.intervalSeconds),
    connectTimeoutMs: ssh.connectTimeoutSeconds * 1000,
    keepaliveIntervalMs: ssh.keepaliveIntervalSeconds * 1000,
    keepaliveCountMax: 3,
    stallTimeoutMs: run.stallTimeoutMs,
    stallTicks: ssh.stallTicks,
    ...(t.hostKey.alias ? { hostKeyAlias: t.hostKey.alias } : {}),
    backoff: { initialMs: ssh.backoffInitialSeconds * 1000, maxMs: ssh.backoffMaxSeconds * 1000 },
    remoteShell: ssh.remoteShell,
    ...(run.watch ? { watch: run.watch } : {}),
  };
}

/**
 * One KnownHosts per distinct set of files and policy, shared by its hosts: loaded once, and a
 * key accepted for one connection is known to the next.
 */
export class KnownHostsPool {
  private readonly pool = new Map<string, KnownHosts>();

  constructor(private readonly hashNew: boolean) {}

  for(c: HostKeyCheck): KnownHosts {
    const id = JSON.stringify([c.userFiles, c.globalFiles, c.policy]);
    let kh = this.pool.get(id);
    if (!kh) this.pool.set(id, (kh = new KnownHosts({ userFiles: c.userFiles, globalFiles: c.globalFiles, policy: c.policy, hashNew: this.hashNew })));
    return kh;
  }

  /** What loading the files found wrong (each said once). */
  get warnings(): string[] {
    return [...new Set([...this.pool.values()].flatMap((kh) => kh.warnings))];
  }
}
