/**
 * `hostseries report` in a real browser: a real recording (with disk I/O) and a two-host file made
 * from it become pages that Debian's Chromium opens from file:// (driven by playwright-core, never
 * its downloaded browsers). Every chart has data drawn (pixels read back), a value read from the
 * page equals lib/rates' figure from the file, views switch from the keyboard, nothing logs an
 * error and nothing goes to the network. A screenshot per view lands in .hostseries-test/.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRecording } from '../lib/files/read-recording.js';
import { TimeSeriesData } from '../lib/models/data.js';
import type { TimeSeriesSample } from '../lib/models/sample.js';
import { computeRates } from '../lib/rates/compute.js';
import { buildReportModel } from '../lib/report/build.js';
import { renderReportHtml } from '../lib/report/html.js';
import { markersOf } from '../lib/report/markers.js';
import { decimate } from '../web/report/decimate.js';
import { CHROMIUM, drawnCharts, SELECTED_TAB } from './support/browser.js';
import { cli as runCli, cliWorkdir, ROOT, type Result } from './support/cli.js';

// Page-side code, as text: this project's TypeScript has no DOM types (they would clash with Node's).
const PAGE_READY = 'window.hostseriesReport?.ready === true || window.hostseriesReport?.error !== undefined';
const PAGE_ERROR = 'window.hostseriesReport?.error';
/** Orange (marker) pixels in the host view's first chart. */
const MARKER_PIXELS = `(() => {
  const c = document.querySelector('#hs-view-host .hs-chart canvas');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 0; i < d.length; i += 4) if (d[i] > 180 && d[i + 1] > 90 && d[i + 1] < 170 && d[i + 2] < 60) n++;
  return n;
})()`;
const FOCUSED = 'document.activeElement?.id';

const SHOTS = join(ROOT, '.hostseries-test');
const noChromium = !existsSync(CHROMIUM);

let dir: string;
cliWorkdir('hs-report-', (d) => (dir = d));
const p = (name: string): string => join(dir, name);
const cli = (args: string[]): Result => runCli(args, { cwd: dir, timeoutMs: 60_000 });

const newest = (d: string): number => Math.max(0, ...readdirSync(d).map((f) => statSync(join(d, f)).mtimeMs));

/** The UI bundle the report inlines: built when missing or older than its sources. */
function buildWeb(): void {
  const out = join(ROOT, 'dist', 'web', 'report.js');
  const sources = Math.max(newest(join(ROOT, 'web', 'report')), statSync(join(ROOT, 'lib', 'report', 'report-data.ts')).mtimeMs);
  if (existsSync(out) && statSync(out).mtimeMs > sources) return;
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs'), 'web'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`building the report UI failed:\n${r.stdout}${r.stderr}`);
}

beforeAll(buildWeb, 60_000);

describe('decimate (min/max per pixel column)', () => {
  it('keeps every column\'s lowest and highest value, at most two points a column', () => {
    let seed = 7;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let round = 0; round < 50; round++) {
      const n = 50 + Math.floor(rnd() * 5000);
      const t = Float64Array.from({ length: n }, (_, i) => i * 0.5 + rnd() * 0.1);
      const y = Float32Array.from({ length: n }, () => (rnd() < 0.02 ? NaN : rnd() * 100));
      const px = 10 + Math.floor(rnd() * 300);
      const x0 = t[0];
      const x1 = t[n - 1];
      const [xs, ys] = decimate(t, [y], x0, x1, px);
      expect(xs.length).toBeLessThanOrEqual(Math.max(n, 2 * px + 2));
      expect(xs.length).toBe(ys.length);
      for (let i = 1; i < xs.length; i++) expect(xs[i]).toBeGreaterThanOrEqual(xs[i - 1]);
      if (n <= 2 * px) continue;
      // The general way: every column's extremes, looked up one by one.
      const bw = (x1 - x0) / px;
      const kept = new Set(ys.filter((v): v is number => typeof v === 'number'));
      for (let b = 0; b < px; b++) {
        const vals: number[] = [];
        for (let i = 0; i < n; i++) if (Math.min(px - 1, Math.floor((t[i] - x0) / bw)) === b && Number.isFinite(y[i])) vals.push(y[i]);
        if (vals.length === 0) continue;
        expect(kept.has(Math.min(...vals))).toBe(true);
        expect(kept.has(Math.max(...vals))).toBe(true);
      }
    }
  });
});

describe('markers', () => {
  it('are read from the recording as seconds since the start, host-bound ones kept so', () => {
    const data = new TimeSeriesData({ collectionIntervalSeconds: 1, startTime: '', endTime: '', samplesByHost: new Map() });
    const start = Date.parse('2026-01-01T00:00:00Z') * 1e6;
    Object.assign(data, {
      markers: [
        { label: 'end', timestamp: '2026-01-01T00:00:09Z', timestamp_ns: start + 9.5e9 },
        { label: 'start', timestamp: '2026-01-01T00:00:02Z' },
        { label: 'ckpt', timestamp: 'x', timestamp_ns: start + 5e9, host: 'node-b' },
        { label: 'broken' },
      ],
    });
    expect(markersOf(data, start)).toEqual([
      { label: 'start', t: 2 }, { label: 'ckpt', t: 5, host: 'node-b' }, { label: 'end', t: 9.5 },
    ]);
    expect(markersOf(new TimeSeriesData({ collectionIntervalSeconds: 1, startTime: '', endTime: '' }), 0)).toEqual([]);
  });
});

describe.skipIf(noChromium && !process.env.CI)('report in Chromium', () => {
  let browser: Browser;
  let one: TimeSeriesSample[];
  let oneHost: string;

  beforeAll(async () => {
    if (noChromium) throw new Error(`${CHROMIUM} is missing: run scripts/install-test-deps.sh (in CI the browser tests never skip)`);
    mkdirSync(SHOTS, { recursive: true });
    // A real short run with disk I/O (direct writes, so the disk sees them), its processes watched.
    // It counts its steps into the same timeline (app counters).
    const io = `i=0; while [ $i -lt 12 ]; do dd if=/dev/zero of=${p('io.bin')} bs=1M count=4 oflag=direct conv=fsync 2>/dev/null; echo "steps 1" >&$HOSTSERIES_COUNTER_FD; i=$((i+1)); sleep 0.1; done`;
    const rec = cli(['record', '-q', '-i', '0.2', '-d', '3', '-o', p('f.json'), '--', 'sh', '-c', io]);
    expect(rec.stderr).toBe('');
    expect(rec.status).toBe(0);
    const data = (await readRecording(p('f.json'))).data;
    [oneHost] = data.samplesByHost.keys();
    one = data.samplesByHost.get(oneHost)!;
    // A second host: the same samples under another name, its disk counters grown twice as fast.
    const dict = JSON.parse(readFileSync(p('f.json'), 'utf8')) as { num_samples: number; samples_by_host: Record<string, Record<string, unknown>[]>; hosts_requested: string[]; hosts_collected: string[] };
    const twin = dict.samples_by_host[oneHost].map((s) => ({
      ...s,
      hostname: 'node-b',
      diskstats: (s.diskstats as Record<string, unknown>[] | undefined)?.map((d) => ({ ...d, sectors_written: 2 * Number(d.sectors_written), writes_completed: 2 * Number(d.writes_completed) })),
    }));
    dict.samples_by_host['node-b'] = twin;
    dict.hosts_requested = [oneHost, 'node-b'];
    dict.hosts_collected = [oneHost, 'node-b'];
    dict.num_samples *= 2;
    writeFileSync(p('two.json'), JSON.stringify(dict, null, 2));
    browser = await chromium.launch({ executablePath: CHROMIUM });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
  });

  interface Opened {
    page: Page;
    errors: string[];
    requests: string[];
  }

  async function open(file: string): Promise<Opened> {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') errors.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('request', (r) => {
      if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) requests.push(r.url());
    });
    await page.goto(`file://${file}`);
    // Polled from here: waitForFunction evaluates with eval, which the page's CSP rightly forbids.
    await expect.poll(() => page.evaluate<boolean>(PAGE_READY), { timeout: 20_000 }).toBe(true);
    expect(await page.evaluate<string | undefined>(PAGE_ERROR)).toBeUndefined();
    return { page, errors, requests };
  }


  const selected = (page: Page): Promise<string | null> => page.evaluate<string | null>(SELECTED_TAB);

  it('one host: every view drawn with data, values equal lib/rates, keyboard switches views', async () => {
    const r = cli(['report', p('f.json'), '-o', p('f.html')]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/wrote .*f\.html: 1 recording, 1 host/);
    const { page, errors, requests } = await open(p('f.html'));

    const ov = await drawnCharts(page);
    expect(ov.charts).toBe(5);
    expect(ov.blank).toEqual([]);
    await page.screenshot({ path: join(SHOTS, 'report-overview.png'), fullPage: true });

    // Keyboard: 2 opens the host view, focus on its tab (visible), arrows move between tabs.
    await page.keyboard.press('2');
    expect(await selected(page)).toBe('hs-tab-host');
    expect(await page.evaluate<string>(FOCUSED)).toBe('hs-tab-host');
    await page.waitForSelector('#hs-view-host[data-rendered]');
    const host = await drawnCharts(page);
    expect(host.charts).toBeGreaterThanOrEqual(7 + 3 + 2); // CPU, memory, load, a disk's four, processes, app steps
    expect(await page.locator('#hs-view-host .hs-chart-title b', { hasText: 'app steps per second' }).count()).toBe(1);
    expect(host.blank).toEqual([]);

    // A tooltip value is lib/rates' figure for that sample: the disk's write MB/s.
    const disk = (await page.locator('#hs-view-host .hs-summary .hs-note').first().innerText()).replace(/^disks in the totals: /, '').split(/[,;]/)[0].trim();
    const chartBox = page.locator('#hs-view-host .hs-chart', { hasText: `${disk} throughput` });
    const over = chartBox.locator('.u-over');
    const box = (await over.boundingBox())!;
    await over.hover({ position: { x: box.width * 0.55, y: box.height / 2 } });
    const tip = chartBox.locator('.hs-tip');
    await expect.poll(() => tip.isVisible()).toBe(true);
    const index = Number(await tip.locator('.hs-tip-time').getAttribute('data-index'));
    const shown = Number(await tip.locator(`[data-key="disk.${disk}.wMB_s"]`).getAttribute('data-value'));
    expect(index).toBeGreaterThan(0);
    const rates = computeRates(one[index - 1], one[index], { nominalSeconds: 0.2 });
    expect(shown).toBeCloseTo(rates.disk[disk].wMB_s!, 4);
    expect(Math.abs(shown - rates.disk[disk].wMB_s!)).toBeLessThanOrEqual(1e-6 * Math.max(1, rates.disk[disk].wMB_s!));
    // The summary table's write MB/s average is the average of lib/rates' figures.
    const writes = one.slice(1).map((s, i) => computeRates(one[i], s, { nominalSeconds: 0.2 }).disk[disk].wMB_s!);
    const avg = writes.reduce((a, b) => a + b, 0) / writes.length;
    expect(avg).toBeGreaterThan(0);
    const cell = page.locator('.hs-summary-table tr[data-metric=disk_write_mb_s] td[data-stat=avg]');
    expect(Number(await cell.getAttribute('data-value'))).toBeCloseTo(avg, 9);
    expect(await cell.innerText()).toBe(avg.toFixed(2));
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: join(SHOTS, 'report-host.png'), fullPage: true });

    await page.keyboard.press('ArrowRight');
    expect(await selected(page)).toBe('hs-tab-compare');
    await page.waitForSelector('#hs-view-compare[data-rendered]');
    const cmp = await drawnCharts(page);
    expect(cmp.charts).toBe(1);
    expect(cmp.blank).toEqual([]);
    await page.screenshot({ path: join(SHOTS, 'report-compare.png'), fullPage: true });
    await page.keyboard.press('ArrowLeft');
    expect(await selected(page)).toBe('hs-tab-host');
    await page.keyboard.press('1');
    expect(await selected(page)).toBe('hs-tab-overview');
    expect(await page.locator('#hs-view-overview').isVisible()).toBe(true);

    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    await page.close();
  });

  it('two hosts, and two recordings compared: the fleet row, host keys, overlay and side by side', async () => {
    const r = cli(['report', p('two.json'), p('f.json'), '-o', p('two.html')]);
    expect(r.status, r.stderr).toBe(0);
    const { page, errors, requests } = await open(p('two.html'));
    const ov = await drawnCharts(page);
    expect(ov.charts).toBe(5 + 2 * 5 + 5); // two.json: fleet + 2 hosts; f.json: 1 host
    expect(ov.blank).toEqual([]);
    // The fleet table names the host with the higher write rate (node-b writes twice as much).
    expect(await page.locator('.hs-fleet-table tr[data-metric=disk_write_mb_s] td').nth(2).innerText()).toContain('(node-b)');
    await page.screenshot({ path: join(SHOTS, 'report-two-overview.png'), fullPage: true });

    await page.keyboard.press('2');
    await page.waitForSelector('#hs-view-host[data-rendered]');
    await page.keyboard.press(']');
    await expect.poll(() => page.locator('#hs-view-host .hs-host-title').innerText()).toContain('node-b');
    expect(await page.locator('#hs-host-select').inputValue()).toBe('1');
    expect((await drawnCharts(page)).blank).toEqual([]);

    await page.keyboard.press('3');
    await page.waitForSelector('#hs-view-compare[data-rendered]');
    // Two recordings: the first host of each, overlaid on one chart.
    expect(await page.locator('.hs-host-picks input:checked').count()).toBe(2);
    let cmp = await drawnCharts(page);
    expect(cmp.charts).toBe(1);
    expect(cmp.blank).toEqual([]);
    await page.locator('#hs-compare-metric').selectOption('disk_write_mb_s');
    await page.locator('input[name=hs-mode][value=side]').check();
    cmp = await drawnCharts(page);
    expect(cmp.charts).toBe(2);
    expect(cmp.blank).toEqual([]);
    await page.screenshot({ path: join(SHOTS, 'report-two-compare.png'), fullPage: true });
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    await page.close();
  });

  it('markers are shaded on the charts', async () => {
    const data = (await readRecording(p('f.json'))).data;
    const first = one[0].timestampNs!;
    Object.assign(data, { markers: [{ label: 'dd start', timestamp: '', timestamp_ns: first + 0.6e9 }, { label: 'dd end', timestamp: '', timestamp_ns: first + 2.2e9 }] });
    const model = buildReportModel([{ file: 'f.json', data }]);
    expect(model.meta.runs[0].markers.map((m) => m.label)).toEqual(['dd start', 'dd end']);
    writeFileSync(p('m.html'), await renderReportHtml(model));
    const { page, errors } = await open(p('m.html'));
    await page.keyboard.press('2');
    await page.waitForSelector('#hs-view-host[data-rendered]');
    // The marker's line is drawn at its time: orange pixels in that canvas column.
    const orange = await page.evaluate<number>(MARKER_PIXELS);
    expect(orange).toBeGreaterThan(50);
    await page.screenshot({ path: join(SHOTS, 'report-markers.png') });
    expect(errors).toEqual([]);
    await page.close();
  });
});

describe('report command', () => {
  it('never replaces an existing file without --force', () => {
    writeFileSync(p('run.json'), readFileSync(join(ROOT, '__test__', 'fixtures', 'mlpstorage_timeseries.json')));
    writeFileSync(p('taken.html'), 'mine');
    const r = cli(['report', p('run.json'), '-o', p('taken.html')]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('exists; give --force');
    expect(readFileSync(p('taken.html'), 'utf8')).toBe('mine');
    const f = cli(['report', p('run.json'), '-o', p('taken.html'), '--force']);
    expect(f.status, f.stderr).toBe(0);
    expect(readFileSync(p('taken.html'), 'utf8')).toMatch(/^<!doctype html>/);
    // An mlpstorage file (whole-second timestamps, several hosts) makes a page too.
    expect(readFileSync(p('taken.html'), 'utf8')).toContain('hostseries-report');
  });
});
