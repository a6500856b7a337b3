/**
 * The report's and the dashboard's browser specs share this: Debian's Chromium (never
 * Playwright's downloads), and page-side checks as text (this project's TypeScript has no DOM
 * types; they would clash with Node's), polled, since waitForFunction's eval breaks the pages' CSP.
 */
import type { Page } from 'playwright-core';

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
