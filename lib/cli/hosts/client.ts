/**
 * The read API of a `hostseries serve`, for `hosts list|show|compare`: its URL from --server or
 * HOSTSERIES_SERVER, its token from HOSTSERIES_TOKEN or --token-file (never a flag of its own: a
 * flag shows in `ps`). A server's own error message is shown as it gave it.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from '../exit.js';

export interface ServerOptions {
  server?: string;
  tokenFile?: string;
}

/** A host as /api/v1/hosts gives it. */
export interface HostJson {
  hostname: string;
  online: boolean;
  tags: Record<string, string>;
  agent_version: string | null;
  first_seen: string;
  last_seen: string;
  push_interval_seconds: number | null;
  offline_after_seconds: number;
  samples: number;
  first_sample: string | null;
  last_sample: string | null;
  disks: string[];
  interfaces: string[];
}

export interface FleetJson {
  hosts: { hostname: string; online: boolean; count: number; avg: number | null; min: number | null; max: number | null }[];
}

export class ServerClient {
  private constructor(readonly url: string, private readonly token: string | undefined) {}

  static from(o: ServerOptions, env: NodeJS.ProcessEnv = process.env): ServerClient {
    const raw = o.server ?? env.HOSTSERIES_SERVER;
    if (!raw) throw new UsageError('give the server: --server URL or HOSTSERIES_SERVER (such as http://127.0.0.1:9000)');
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new UsageError(`--server: expected a URL such as http://127.0.0.1:9000, got ${JSON.stringify(raw)}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--server: expected http:// or https://, got ${JSON.stringify(raw)}`);
    let token = env.HOSTSERIES_TOKEN || undefined;
    if (o.tokenFile !== undefined) {
      try {
        token = readFileSync(o.tokenFile, 'utf8').trim();
      } catch (e) {
        throw new UsageError(`--token-file ${o.tokenFile}: ${(e as Error).message}`);
      }
    }
    return new ServerClient(url.href.replace(/\/+$/, ''), token);
  }

  async get<T>(route: string, query: Record<string, string> = {}): Promise<T> {
    const q = new URLSearchParams(query).toString();
    const where = `${this.url}${route}${q ? `?${q}` : ''}`;
    let r: Response;
    try {
      r = await fetch(where, { headers: this.token ? { authorization: `Bearer ${this.token}` } : {} });
    } catch (e) {
      const cause = (e as { cause?: { message?: string } }).cause?.message;
      throw new Error(`${this.url}: ${cause ?? (e as Error).message}`);
    }
    const text = await r.text();
    if (!r.ok) {
      let message = text;
      try {
        message = (JSON.parse(text) as { error?: string }).error ?? text;
      } catch {
        // not JSON: the text as it came
      }
      const hint = r.status === 401 ? ' (give the read token: HOSTSERIES_TOKEN or --token-file)' : '';
      throw new Error(`${this.url}: ${r.status}: ${message}${hint}`);
    }
    return JSON.parse(text) as T;
  }
}
