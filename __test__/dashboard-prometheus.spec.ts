/**
 * `serve --prometheus`'s live dashboard in a real browser: real agents push through a real
 * `hostseries serve --prometheus` into VictoriaMetrics (run as docs/prometheus.md advises,
 * `-search.latencyOffset=1s`) and into Prometheus 2.42, on loopback; Debian's Chromium driven by
 * playwright-core (__test__/support/browser.ts, as dashboard.spec.ts over SQLite). Every chart is
 * drawn with data (pixels read back), the hosts are online, the page's sample count equals the
 * TSDB's own `count_over_time`, its summary equals `/aggregate`, a push shows up without a reload,
 * nothing logs an error. Screenshots: .hostseries-test/dashboard-prometheus-*.png.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWeb, CHROMIUM, drawnCharts, LIVE, openPage, pageReady, SELECTED_TAB, type Live } from './support/browser.js';
import { cliWorkdir, ENV, ROOT, start, type Started } from './support/cli.js';
import { startServe, type Server } from './support/serve.js';
import { missingTsdb, startPrometheus, startVictoria, type Service } from './support/tsdb.js';
import { until } from './support/until.js';

const TOKEN = 'dashboard-prom-write-token-0123';
const SHOTS = join(ROOT, '.hostseries-test');
const noChromium = !existsSync(CHROMIUM);
const missing = missingTsdb();
if (missing && process.env.CI) throw new Error(`the dashboard over --prometheus needs ${missing}`);

let dir = '';
cliWorkdir('hostseries-dashboard-prom-', (d) => (dir = d));

interface HostJson {
  hostname: string;
  online: boolean;
  tags: Record<string, string>;
  samples: number;
  first_sample: string | null;
  last_sample: string | null;
}

async function apiHosts(url: string): Promise<HostJson[]> {
  const r = await fetch(`${url}/api/v1/hosts`);
  expect(r.status).toBe(200);
  return ((await r.json()) as { hosts: HostJson[] }).hosts;
}

/** An instant query straight to the TSDB: per `instance`, the value. */
async function tsdbVector(db: Service, query: string): Promise<Map<string, number>> {
  const r = await fetch(`${db.url}/api/v1/query?query=${encodeURIComponent(query)}`);
  const body = (await r.json()) as { status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
  expect(body.status, query).toBe('success');
  return new Map(body.data.result.map((x) => [x.metric.instance, Number(x.value[1])]));
}

beforeAll(buildWeb, 60_000);

describe.skipIf((noChromium || missing !== undefined) && !process.env.CI)('serve --prometheus: the dashboard in Chromium', () => {
  let browser: Browser;
  const agents: Started[] = [];
  const servers: Server[] = [];
  const services: Service[] = [];

  beforeAll(async () => {
    if (noChromium) throw new Error(`${CHROMIUM} is missing: run scripts/install-test-deps.sh (in CI the browser tests never skip)`);
    mkdirSync(SHOTS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM });
  }, 60_000);

  afterAll(async () => {
    for (const a of agents) if (a.child.exitCode === null) a.child.kill('SIGKILL');
    for (const s of servers) if (s.child.exitCode === null) s.child.kill('SIGKILL');
    await browser?.close();
    await Promise.all(services.map((s) => s.dispose()));
  });

  function agent(url: string, host: string): Started {
    const a = start(['agent', '--server', url, '-i', '0.5', '--push-interval', '0.5', '--hostname', host, '--tag', 'rack=r1', '--tag', 'role-x=web',
      '--queue-dir', join(dir, `q-${host}`)], { cwd: dir, env: { ...ENV, HOSTSERIES_TOKEN: TOKEN } });
    agents.push(a);
    return a;
  }

  /** Stop an agent; the samples it delivered (its last line says). */
  async function stopAgent(a: Started): Promise<number> {
    a.child.kill('SIGTERM');
    const r = await a.done;
    expect(r.status, r.stderr).toBe(0);
    const m = /stopped: .*, (\d+) delivered, 0 dropped, 0 left queued/.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    return Number(m![1]);
  }

  for (const which of ['VictoriaMetrics', 'Prometheus'] as const) {
    it(`${which}: every chart drawn with data, hosts online, live on a push, the page's figures the TSDB's`, async () => {
      const db = which === 'VictoriaMetrics' ? await startVictoria({ latencyOffset: '1s' }) : await startPrometheus();
      services.push(db);
      const server = await startServe(['--prometheus', db.url], dir, { HOSTSERIES_TOKEN: TOKEN });
      servers.push(server);
      const slug = which.toLowerCase();
      const [n1, n2] = [`${slug}-1`, `${slug}-2`];
      const a1 = agent(server.url, n1);
      const a2 = agent(server.url, n2);
      await until("both agents' samples in the TSDB", async () => {
        const hosts = await apiHosts(server.url);
        return hosts.length === 2 && hosts.every((x) => x.samples >= 4);
      }, 30_000);

      const { page, errors } = await openPage(browser, `${server.url}/`);
      await pageReady(page);
      const ov = await drawnCharts(page);
      expect(ov.charts).toBe(5 + 2 * 5); // the fleet row and both hosts
      expect(ov.blank).toEqual([]);
      for (const host of [n1, n2]) expect(await page.locator(`.hs-host-status[data-host=${host}]`).getAttribute('data-online')).toBe('true');
      await page.screenshot({ path: join(SHOTS, `dashboard-prometheus-${slug}-overview.png`), fullPage: true });

      // Live: a sample the API shows (the TSDB has it searchable) is on the page soon after, no reload.
      await page.evaluate('window.__hsSameDocument = true');
      const before = await page.evaluate<Live>(LIVE);
      const stored = await until(`a newer sample of ${n1} in the API`, async () =>
        (await apiHosts(server.url)).find((x) => x.hostname === n1 && x.last_sample! > before.last)?.last_sample ?? undefined, 15_000);
      const seenAt = Date.now();
      // Loads of a slow (loaded) server are spaced by their own time: up to 20 s here.
      await until(`the page to show ${stored}`, async () => (await page.evaluate<Live>(LIVE)).last >= stored, 20_000);
      console.log(`${which}: the page showed ${stored} ${Date.now() - seenAt} ms after the API did`);
      expect(await page.evaluate<boolean>('window.__hsSameDocument === true')).toBe(true);
      await until('the redraw counted', async () => (await page.evaluate<Live>(LIVE)).loads > before.loads, 10_000);

      // The host view of the first host: its charts drawn.
      await page.keyboard.press('2');
      expect(await page.evaluate<string | null>(SELECTED_TAB)).toBe('hs-tab-host');
      await page.waitForSelector('#hs-view-host[data-rendered]');
      const hostView = await drawnCharts(page);
      expect(hostView.charts).toBeGreaterThanOrEqual(3);
      expect(hostView.blank).toEqual([]);
      await page.evaluate('window.scrollTo(0, 0)');
      await page.screenshot({ path: join(SHOTS, `dashboard-prometheus-${slug}-host.png`), fullPage: true });

      // The agents stop; once the TSDB has every sample, the page's figures are the TSDB's own.
      const delivered = await Promise.all([stopAgent(a1), stopAgent(a2)]);
      const counts = await until('every delivered sample in the TSDB, and the API to say so', async () => {
        if (which === 'VictoriaMetrics') await fetch(`${db.url}/internal/force_flush`);
        const inTsdb = await tsdbVector(db, 'sum by (instance) (count_over_time(hostseries_sample_timestamp_seconds[1h]))');
        const api = await apiHosts(server.url);
        return inTsdb.get(n1) === delivered[0] && inTsdb.get(n2) === delivered[1] && api.length === 2 && api.every((h) => inTsdb.get(h.hostname) === h.samples) && inTsdb;
      }, 15_000);
      const total = counts.get(n1)! + counts.get(n2)!;
      // The agents' last pushes: their redraw may have come before the TSDB made them searchable
      // (docs/prometheus.md), so the page is asked again as a user would: a fixed window, the run's.
      const api = await apiHosts(server.url);
      const second = (iso: string, up: number): string => new Date(Math.floor(Date.parse(iso) / 1000) * 1000 + up).toISOString().replace('.000Z', 'Z');
      const from = second(api.map((x) => x.first_sample!).sort()[0], 0);
      const to = second(api.map((x) => x.last_sample!).sort().pop()!, 1000);
      await page.locator('#hs-range').selectOption('custom');
      await page.locator('#hs-from').fill(from);
      await page.locator('#hs-to').fill(to);
      await page.locator('#hs-to').press('Enter');
      await expect.poll(() => page.locator('#hs-live').innerText(), { timeout: 15_000 }).toMatch(new RegExp(`^■ fixed window · ${total} samples in view`));
      await page.waitForSelector('#hs-view-host[data-rendered]');
      expect(await page.locator('#hs-view-host .hs-host-title').innerText()).toBe(n1);
      expect(Number(await page.locator(`.hs-host-status[data-host=${n1}]`).getAttribute('data-samples'))).toBe(counts.get(n1));
      // The summary table against /api/v1/aggregate over the same window, which reads the same TSDB.
      for (const stat of ['avg', 'min', 'max'] as const) {
        const r = await fetch(`${server.url}/api/v1/aggregate?host=${n1}&path=rates.cpu.all.busy&from=${from}&to=${to}`);
        const want = (await r.json()) as Record<typeof stat, number>;
        // The view in place (#hs-view-host): a reload draws the next one beside it, hidden, until it swaps.
        const cell = page.locator(`#hs-view-host .hs-summary-table tr[data-metric=cpu_busy_pct] td[data-stat=${stat}]`);
        expect(Number(await cell.getAttribute('data-value')), `cpu_busy_pct ${stat}`).toBeCloseTo(want[stat], 6);
      }
      await page.screenshot({ path: join(SHOTS, `dashboard-prometheus-${slug}-window.png`) });
      // The tags as the TSDB labels them: `role-x` made a label name.
      expect((await apiHosts(server.url)).find((h) => h.hostname === n1)!.tags).toEqual({ rack: 'r1', role_x: 'web' });
      await page.evaluate('document.activeElement?.blur()'); // out of the window's field: keys are the page's again
      await page.keyboard.press('1');
      expect(await page.evaluate<string | null>(SELECTED_TAB)).toBe('hs-tab-overview');
      expect((await drawnCharts(page)).blank).toEqual([]);
      expect(errors).toEqual([]);
      await page.close();
      const stopped = await server.stop();
      expect(stopped.status, stopped.stderr).toBe(0);
    }, 120_000);
  }
});
