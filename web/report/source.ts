/**
 * Where the UI's data comes from, behind one small interface: the report reads the blobs inlined in
 * the page; `serve`'s live dashboard can implement the same over its HTTP API.
 */
import type { ColumnRef, ReportMeta } from '../../lib/report/report-data';
import type { Column } from './decimate';

export type { Column };
/** Columns by key; every set has `t` (seconds since the run started). */
export type ColumnSet = Record<string, Column>;

export interface ReportSource {
  readonly meta: ReportMeta;
  /** The fleet's columns of run `run` (avg/min/max over its hosts per headline key). */
  fleet(run: number): Promise<ColumnSet>;
  /** The headline columns of every host of run `run`, by host id. */
  overview(run: number): Promise<Map<number, ColumnSet>>;
  /** One host's detail columns (the series its charts name). */
  host(id: number): Promise<ColumnSet>;
}

function view(buf: ArrayBuffer, ref: ColumnRef): Column {
  return ref.type === 'f64' ? new Float64Array(buf, ref.offset, ref.length) : new Float32Array(buf, ref.offset, ref.length);
}

function columns(buf: ArrayBuffer, refs: Record<string, ColumnRef>): ColumnSet {
  const out: ColumnSet = {};
  for (const [k, r] of Object.entries(refs)) out[k] = view(buf, r);
  return out;
}

export async function gunzip(bytes: Uint8Array<ArrayBuffer>): Promise<ArrayBuffer> {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Response(stream).arrayBuffer();
}

export function base64Bytes(b64: string): Uint8Array<ArrayBuffer> {
  // Native where the browser has it (Chromium 140+, Firefox 133+): several times faster than atob.
  const native = (Uint8Array as unknown as { fromBase64?: (s: string) => Uint8Array<ArrayBuffer> }).fromBase64;
  if (native) return native(b64);
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/**
 * A source whose columns live in gzipped blobs, each decoded once, when a view first asks: the
 * report page's (`InlineSource`) or the dashboard's from its server (`HttpSource`).
 */
export abstract class BlobSource implements ReportSource {
  abstract readonly meta: ReportMeta;
  private readonly decoded = new Map<string, Promise<ArrayBuffer>>();

  /** Blob `id`'s bytes, decompressed. */
  protected abstract read(id: string): Promise<ArrayBuffer>;

  private blob(id: string): Promise<ArrayBuffer> {
    let p = this.decoded.get(id);
    if (!p) {
      p = this.read(id);
      this.decoded.set(id, p);
    }
    return p;
  }

  async fleet(run: number): Promise<ColumnSet> {
    const r = this.meta.runs[run];
    return columns(await this.blob(r.fleetBlob), r.fleet);
  }

  async overview(run: number): Promise<Map<number, ColumnSet>> {
    const buf = await this.blob(this.meta.runs[run].overviewBlob);
    const hosts = new Map<number, ColumnSet>();
    for (const h of this.meta.hosts) if (h.run === run) hosts.set(h.id, columns(buf, h.overview));
    return hosts;
  }

  async host(id: number): Promise<ColumnSet> {
    const h = this.meta.hosts[id];
    return columns(await this.blob(h.detailBlob), h.detail);
  }
}

/** The report page: metadata in `#hs-meta`, each blob base64 in `#hs-blob-<id>`. */
export class InlineSource extends BlobSource {
  readonly meta: ReportMeta;
  /** The page's script element (blobs before it are parsed whole when it runs). */
  private readonly script: Element | null;

  constructor(doc: Document) {
    super();
    this.script = doc.currentScript;
    const el = doc.getElementById('hs-meta');
    if (!el?.textContent) throw new Error('this page holds no report data (#hs-meta is missing)');
    this.meta = JSON.parse(el.textContent) as ReportMeta;
    if (this.meta.format !== 'hostseries-report') throw new Error(`#hs-meta is not a hostseries report (format ${String(this.meta.format)})`);
  }

  protected async read(id: string): Promise<ArrayBuffer> {
    let el = document.getElementById(`hs-blob-${id}`);
    // Most blobs come after the script in the page: one before it is whole; one after it, or not
    // there yet, is read once the parser is done.
    const whole = el !== null && this.script !== null && (this.script.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_PRECEDING) !== 0;
    if (!whole && document.readyState === 'loading') {
      await new Promise((r) => document.addEventListener('DOMContentLoaded', r, { once: true }));
      el = document.getElementById(`hs-blob-${id}`);
    }
    if (!el?.textContent) throw new Error(`report data blob ${id} is missing from the page`);
    return gunzip(base64Bytes(el.textContent.trim()));
  }
}
