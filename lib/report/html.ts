/**
 * The self-contained page: the UI bundle and its CSS (built by scripts/build.mjs into dist/web/),
 * the report's metadata as JSON and each blob as base64, all inlined. Nothing is fetched: the page
 * opens from disk with no network.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FileError } from '../errors.js';
import type { ReportModel } from './build.js';

/**
 * dist/web/, where the build puts the bundle: beside this file's directory once built
 * (dist/report/html.js), or the package's dist/ when run from the sources (tests).
 */
const WEB_DIRS = [join(__dirname, '..', 'web'), join(__dirname, '..', '..', 'dist', 'web')];

async function asset(name: string): Promise<string> {
  let first: unknown;
  for (const dir of WEB_DIRS) {
    try {
      return await readFile(join(dir, name), 'utf8');
    } catch (e) {
      first ??= e;
    }
  }
  const path = join(WEB_DIRS[0], name);
  throw new FileError(path, `the report UI is not built (${(first as Error).message}); run npm run build`, { cause: first });
}

/** Text safe inside <script>/<style>: no `</` closes the element early, no `<!--` opens a comment. */
const inert = (s: string): string => s.replace(/<(?=[/!])/g, '\\u003c');
const escapeHtml = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

export async function renderReportHtml(model: ReportModel): Promise<string> {
  const [js, css] = await Promise.all([asset('report.js'), asset('report.css')]);
  const tag = ([id, b64]: [string, string]): string => `<script type="application/octet-stream" id="hs-blob-${id}">${b64}</script>`;
  // The small fleet blobs before the UI, the rest after it: the UI starts (and draws the fleet
  // row) while the browser is still parsing the hosts' megabytes.
  const early = [...model.blobs].filter(([id]) => id.startsWith('f')).map(tag);
  const late = [...model.blobs].filter(([id]) => !id.startsWith('f')).sort(([a], [b]) => Number(b.startsWith('o')) - Number(a.startsWith('o'))).map(tag);
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    // No network at all: a page opened from disk must not reach out, whatever a bug tries.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">`,
    `<title>${escapeHtml(model.meta.title)}</title>`,
    `<style>${css.replace(/<\/style/gi, '<\\/style')}</style>`,
    '</head><body><div id="app" class="hs-app"><p class="hs-loading">Loading the report…</p></div>',
    `<script type="application/json" id="hs-meta">${inert(JSON.stringify(model.meta))}</script>`,
    ...early,
    `<script>${js.replace(/<\/script/gi, '<\\/script')}</script>`,
    ...late,
    '</body></html>',
    '',
  ].join('\n');
}
