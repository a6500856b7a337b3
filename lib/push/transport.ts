/**
 * One POST to the server over http or https (node's own clients: a custom CA for a self-signed
 * certificate, or no check at all), on a kept-alive connection. A kept-alive connection the server
 * closed while idle fails at once on reuse (ECONNRESET): that request is sent again on a fresh
 * connection, as Node's documentation advises (pushes are idempotent, so it is safe).
 */
import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

export interface PostReply {
  status: number;
  body: string;
  /** Retry-After, in ms, when the server gave one in seconds. */
  retryAfterMs?: number;
}

export interface TransportOptions {
  ca?: string | Buffer;
  insecure?: boolean;
  timeoutMs: number;
}

/** Bytes of a reply body kept (a reply is small JSON; anything past this is not ours). */
const MAX_REPLY = 1024 * 1024;

export class Transport {
  private readonly url: URL;
  private readonly agent: HttpAgent;
  private readonly timeoutMs: number;
  private inflight: ClientRequest | undefined;

  constructor(url: URL, o: TransportOptions) {
    this.url = url;
    this.timeoutMs = o.timeoutMs;
    this.agent = url.protocol === 'https:'
      ? new HttpsAgent({ keepAlive: true, maxSockets: 1, ca: o.ca, rejectUnauthorized: !o.insecure })
      : new HttpAgent({ keepAlive: true, maxSockets: 1 });
  }

  async post(body: Buffer, headers: OutgoingHttpHeaders): Promise<PostReply> {
    try {
      return await this.once(body, headers);
    } catch (e) {
      const err = e as NodeJS.ErrnoException & { reused?: boolean };
      if (err.reused && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) return this.once(body, headers);
      throw e;
    }
  }

  private once(body: Buffer, headers: OutgoingHttpHeaders): Promise<PostReply> {
    return new Promise((resolve, reject) => {
      const send = this.url.protocol === 'https:' ? httpsRequest : httpRequest;
      const req = send(this.url, { method: 'POST', agent: this.agent, headers: { ...headers, 'content-length': body.length } });
      this.inflight = req;
      const fail = (e: Error): void => {
        (e as Error & { reused?: boolean }).reused = req.reusedSocket;
        reject(e);
      };
      req.setTimeout(this.timeoutMs, () => req.destroy(Object.assign(new Error(`no reply within ${this.timeoutMs / 1000} s`), { code: 'ETIMEDOUT' })));
      req.on('error', fail);
      req.on('response', (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size <= MAX_REPLY) chunks.push(c);
        });
        res.on('error', fail);
        res.on('end', () => {
          if (this.inflight === req) this.inflight = undefined;
          const ra = Number(res.headers['retry-after']);
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            retryAfterMs: Number.isFinite(ra) && ra >= 0 ? ra * 1000 : undefined,
          });
        });
      });
      req.end(body);
    });
  }

  /** Cut the request in flight (it fails with the given reason). */
  abort(reason: string): void {
    this.inflight?.destroy(Object.assign(new Error(reason), { code: 'ECANCELED' }));
  }

  close(): void {
    this.abort('closed');
    this.agent.destroy();
  }
}
