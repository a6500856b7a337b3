/**
 * The report's and the dashboard's browser specs share this: Debian's Chromium (never
 * Playwright's downloads), the UI bundles' build, a tab that logs the page's errors, and
 * page-side checks as text (this project's TypeScript has no DOM
 * types; they would clash with Node's), polled, since waitForFunction's eval breaks the pages' CSP.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { expect } from 'vitest';
import { ROOT } from './cli.js';

export const CHROMIUM = '/usr/bin/chromium';

export const DRAW_ALL = 'window.hostseriesReport.drawAll()';
export const SELECTED_TAB = "document.querySelector('[role=tab][aria-selected=true]')?.id ?? null";

/** Per chart canvas in the shown view: how many coloured pixels (series, not grey grid or black text). */
const COLOURED_PIXELS = `(() => {
  const panel = document.querySelector('.hs-view:not([hidden])');
  return [...panel.querySelectorAll('.hs-chart canvas')].map((c) => {
    const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < px.length; i += 4) {
      if (px[i + 3] > 0 && Math.max(px[i], px[i + 1], px[i + 2]) - Math.min(px[i], px[i + 1], px[i + 2]) > 60) n++;
    }
    return { name: c.closest('.hs-chart').querySelector('.hs-chart-title b')?.textContent ?? 'overview cell', coloured: n };
  });
})()`;

/** Every chart of the shown view drawn (lazy rows too); the names of those with no data drawn. */
export async function drawnCharts(page: Page): Promise<{ charts: number; blank: string[] }> {
  await page.evaluate(DRAW_ALL);
  await page.waitForTimeout(100);
  const charts = await page.evaluate<{ name: string; coloured: number }[]>(COLOURED_PIXELS);
  return { charts: charts.length, blank: charts.filter((c) => c.coloured < 20).map((c) => c.name) };
}

// The dashboard's specs (dashboard.spec.ts over SQLite, dashboard-prometheus.spec.ts over a TSDB).

/** The page has its data (or said why not). */
export const READY = 'window.hostseriesReport?.ready === true || window.hostseriesReport?.error !== undefined';
export const PAGE_ERROR = 'window.hostseriesReport?.error';
/** The live line: the newest sample shown, the samples in view, and how many loads the page has drawn. */
export const LIVE = "({ last: document.getElementById('hs-live')?.dataset.last ?? '', samples: Number(document.getElementById('hs-live')?.dataset.samples ?? 0), loads: window.hostseriesDashboard?.loads ?? 0 })";
export interface Live {
  last: string;
  samples: number;
  loads: number;
}

const newest = (d: string): number => Math.max(0, ...readdirSync(d).map((f) => statSync(join(d, f)).mtimeMs));

/** The UI bundles (report and dashboard): built when missing or older than their sources. */
export function buildWeb(): void {
  const out = join(ROOT, 'dist', 'web', 'dashboard.js');
  const sources = Math.max(newest(join(ROOT, 'web', 'report')), newest(join(ROOT, 'web', 'dashboard')), statSync(join(ROOT, 'lib', 'report', 'report-data.ts')).mtimeMs);
  if (existsSync(out) && statSync(out).mtimeMs > sources) return;
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs'), 'web'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`building the web UI failed:\n${r.stdout}${r.stderr}`);
}

export interface Opened {
  page: Page;
  /** What the page logged as an error or warning, and its uncaught errors. */
  errors: string[];
}

/** A new 1400×1000 tab on `url` (200, the server's CSP), logging what goes wrong in it. */
export async function openPage(browser: Browser, url: string): Promise<Opened> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') errors.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  const r = await page.goto(url);
  expect(r?.status()).toBe(200);
  expect(r?.headers()['content-security-policy']).toMatch(/connect-src 'self'/);
  return { page, errors };
}

/** The page has drawn its data, with no error. */
export async function pageReady(page: Page): Promise<void> {
  await expect.poll(() => page.evaluate<boolean>(READY), { timeout: 20_000 }).toBe(true);
  expect(await page.evaluate<string | undefined>(PAGE_ERROR)).toBeUndefined();
}
