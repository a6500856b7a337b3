/**
 * A push's body: read with a limit on its size as sent and on its size inflated (a gzip bomb is
 * stopped while inflating, at the limit, never after), then parsed as a JSON array of samples or
 * JSON Lines. Integers beyond 2^53 stay exact (`parseJson`). The compact body (its Content-Type)
 * goes through the same reading and inflating, then to ingest-blob.ts.
 */
import type { IncomingMessage } from 'node:http';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { parseJson } from '../json/parse.js';

const gunzipAsync = promisify(gunzip);

export interface BodyLimits {
  /** Bytes as sent (compressed or not). */
  maxBody: number;
  /** Bytes once inflated. */
  maxInflated: number;
}

/** A request refused with an HTTP status and a message for the client. */
export class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/**
 * What is read and thrown away of a body refused as too large, so that the client, still
 * sending, gets to read the 413 (closing at once makes its write fail, EPIPE, before it reads
 * anything); past this the connection is cut.
 */
export const DRAIN_LIMIT = 128 * 1024 * 1024;

/** Read the rest of a refused body into nothing, up to DRAIN_LIMIT, then cut the connection. */
function drain(req: IncomingMessage, already: number): void {
  let drained = already;
  req.on('data', (c: Buffer) => {
    drained += c.length;
    if (drained > DRAIN_LIMIT) req.socket.destroy();
  });
  req.resume();
}

/** Read the raw body, refusing it (413) as soon as it passes `limit`. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      drain(req, 0);
      reject(new HttpError(413, `the body is ${declared} bytes; the limit is ${limit}`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let ended = false;
    const onData = (c: Buffer): void => {
      size += c.length;
      if (size > limit) {
        req.off('data', onData);
        chunks.length = 0;
        drain(req, size);
        reject(new HttpError(413, `the body is over the limit of ${limit} bytes`));
        return;
      }
      chunks.push(c);
    };
    req.on('data', onData);
    req.once('end', () => {
      ended = true;
      resolve(Buffer.concat(chunks, size));
    });
    req.once('error', (e) => reject(new HttpError(400, `the body could not be read: ${e.message}`)));
    // Cut off (a slow client past the request timeout) before the end: nothing to store.
    req.once('close', () => {
      if (!ended) reject(new HttpError(400, 'the connection closed before the body ended'));
    });
  });
}

export type Encoding = 'identity' | 'gzip';

/** A `Content-Encoding` we take (gzip or none), else 415. */
export function encodingOf(header: string | undefined): Encoding {
  const enc = (header ?? '').trim().toLowerCase();
  if (enc === 'identity' || enc === '') return 'identity';
  if (enc === 'gzip' || enc === 'x-gzip') return 'gzip';
  throw new HttpError(415, `Content-Encoding ${JSON.stringify(header)} is not supported (gzip or none)`);
}

/** The body inflated per its encoding, refused (413) as soon as it passes `limit`. */
export async function inflate(raw: Buffer, encoding: Encoding, limit: number): Promise<Buffer> {
  if (encoding === 'identity') {
    if (raw.length > limit) throw new HttpError(413, `the body is over the limit of ${limit} bytes`);
    return raw;
  }
  try {
    return await gunzipAsync(raw, { maxOutputLength: limit });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new HttpError(413, `the body inflates to more than the limit of ${limit} bytes`);
    throw new HttpError(400, `the body is not valid gzip: ${(e as Error).message}`);
  }
}

/**
 * The samples of a body: each as `JSON.parse` reads it (fast), and `exact(i)` to read it again
 * keeping integers beyond 2^53 exact, for the few samples that need it (see `parse-sample.ts`).
 */
export interface ParsedBody {
  values: unknown[];
  exact: (i: number) => unknown;
}

/** A JSON array or JSON Lines (one value a line; blank lines skipped); 400 if neither. */
export function parseSamples(text: string): ParsedBody {
  const start = text.search(/\S/);
  if (start < 0) throw new HttpError(400, 'the body is empty: expected a JSON array of samples or JSON Lines');
  if (text[start] === '[') {
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (e) {
      throw new HttpError(400, `the body is not valid JSON: ${(e as Error).message}`);
    }
    if (!Array.isArray(v)) throw new HttpError(400, 'the body is not a JSON array');
    let exact: unknown[] | undefined;
    return { values: v, exact: (i) => (exact ??= parseJson(text) as unknown[])[i] };
  }
  const values: unknown[] = [];
  const lines: string[] = [];
  const all = text.split('\n');
  for (let i = 0; i < all.length; i++) {
    if (!/\S/.test(all[i])) continue;
    try {
      values.push(JSON.parse(all[i]));
    } catch (e) {
      throw new HttpError(400, `line ${i + 1} of the body is not valid JSON: ${(e as Error).message}`);
    }
    lines.push(all[i]);
  }
  return { values, exact: (i) => parseJson(lines[i]) };
}
