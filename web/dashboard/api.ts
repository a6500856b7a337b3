/**
 * The dashboard's requests to its own server's read API: the read token (asked once, kept in
 * sessionStorage) sent as `Authorization: Bearer`, and a 401 turned into `NeedToken` so the page
 * can ask for it. `HttpSource` is the report UI's `ReportSource` over `/api/v1/report`.
 */
import type { ReportMeta } from '../../lib/report/report-data';
import { base64Bytes, BlobSource, gunzip } from '../report/source';

const TOKEN_KEY = 'hostseries-read-token';

export const readToken = (): string | null => sessionStorage.getItem(TOKEN_KEY);
export const setReadToken = (t: string): void => sessionStorage.setItem(TOKEN_KEY, t);
export const forgetReadToken = (): void => sessionStorage.removeItem(TOKEN_KEY);

/** The server wants a read token (none was given, or the one given was refused). */
export class NeedToken extends Error {
  constructor(readonly refused: boolean) {
    super(refused ? 'the read token was refused' : 'this server needs a read token');
  }
}

export async function getJson<T>(path: string): Promise<T> {
  const token = readToken();
  const r = await fetch(path, { headers: token ? { authorization: `Bearer ${token}` } : {}, cache: 'no-store' });
  if (r.status === 401) throw new NeedToken(token !== null);
  if (!r.ok) {
    let msg = `${r.status} ${r.statusText}`;
    try {
      msg = ((await r.json()) as { error?: string }).error ?? msg;
    } catch {
      // not JSON: the status says it
    }
    throw new Error(`${path.split('?')[0]}: ${msg}`);
  }
  return (await r.json()) as T;
}

/** /api/v1/hosts, as the page uses it. */
export interface HostStatus {
  hostname: string;
  online: boolean;
  last_seen: string;
  last_sample: string | null;
  samples: number;
  tags: Record<string, string>;
}

export interface ReportReply {
  from: string;
  to: string;
  meta: ReportMeta;
  blobs: Record<string, string>;
}

export class HttpSource extends BlobSource {
  readonly meta: ReportMeta;

  constructor(readonly reply: ReportReply) {
    super();
    this.meta = reply.meta;
  }

  protected read(id: string): Promise<ArrayBuffer> {
    const b64 = this.reply.blobs[id];
    if (b64 === undefined) return Promise.reject(new Error(`the server's report has no blob ${id}`));
    return gunzip(base64Bytes(b64));
  }
}
