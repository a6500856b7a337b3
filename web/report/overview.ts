/**
 * Overview: every host of a run as a row of small charts on one shared time axis and shared y
 * scales (a slow host stands out), under the fleet's avg with its min-max band and the fleet table.
 * Rows are drawn as they scroll into view: 64 hosts × 5 charts are not all drawn at once.
 */
import type { HeadlineMeta, RunMeta } from '../../lib/report/report-data';
import { chart, PALETTE, type Line } from './chart';
import { h } from './dom';
import { dateTime, elapsed, fixed, plural } from './format';
import type { Column, ColumnSet, ReportSource } from './source';

/** The overview's columns: one headline figure, or two drawn together (read and write). */
export const OVERVIEW_COLUMNS = [
  { title: 'CPU busy', unit: '%', keys: ['cpu_busy_pct'], yMax: 100 },
  { title: 'memory used', unit: '%', keys: ['mem_used_pct'], yMax: 100 },
  { title: 'disk read / write', unit: 'MB/s', keys: ['disk_read_mb_s', 'disk_write_mb_s'] },
  { title: 'disk %util (busiest)', unit: '%', keys: ['disk_util_max_pct'], yMax: 100 },
  { title: 'net rx / tx', unit: 'MB/s', keys: ['net_rx_mb_s', 'net_tx_mb_s'] },
] as const;

function colMax(cols: (Column | undefined)[]): number {
  let m = 0;
  for (const c of cols) if (c) for (let i = 0; i < c.length; i++) if (c[i] > m) m = c[i];
  return m;
}

export interface OverviewContext {
  source: ReportSource;
  openHost: (id: number) => void;
  onFirstChart: () => void;
}

export async function renderOverview(root: HTMLElement, ctx: OverviewContext): Promise<void> {
  for (const el of [...pending.keys()]) if (!el.isConnected) {
    observer?.unobserve(el);
    pending.delete(el);
  }
  const { meta } = ctx.source;
  const label = (k: string): HeadlineMeta => meta.headline.find((m) => m.key === k)!;
  for (const run of meta.runs) {
    const fleet = await ctx.source.fleet(run.id);
    performance.mark('hs-fleet-decoded');
    const nHosts = meta.hosts.filter((hm) => hm.run === run.id).length;
    const section = h('section', { class: 'hs-run', 'aria-label': `recording ${run.file}` });
    root.append(section);
    section.append(runHeader(run, nHosts));
    const width = Math.max(700, root.clientWidth || 1200);
    const nameW = 150;
    const cw = Math.floor((width - nameW - 8) / OVERVIEW_COLUMNS.length);
    // Shared y scales: the fleet's highest value per column.
    const yMax = OVERVIEW_COLUMNS.map((c) => ('yMax' in c ? c.yMax : colMax(c.keys.map((k) => fleet[`${k}.max`]))) || 1);
    const x: [number, number] = [0, Math.max(run.durationSeconds, 1e-3)];
    // Few hosts get room; many get a dense column a slow host stands out in.
    const rowH = nHosts <= 4 ? 140 : nHosts <= 16 ? 90 : 64;

    const grid = h('div', { class: 'hs-grid', style: `grid-template-columns:${nameW}px repeat(${OVERVIEW_COLUMNS.length}, ${cw}px)` });
    section.append(grid);
    grid.append(h('div', { class: 'hs-grid-head' }, 'host'));
    for (const c of OVERVIEW_COLUMNS) {
      // Two lines in a column: which colour is which.
      const keys = c.keys.length > 1 ? c.keys.map((k, j) => h('span', {}, h('i', { class: 'hs-swatch', style: `background:${PALETTE[j]}` }), label(k).label.replace(/^(disk|net) /, ''))) : [];
      grid.append(h('div', { class: 'hs-grid-head' }, `${c.title} (${c.unit})`, ...keys));
    }

    // The fleet row: average over hosts with the min-max band (with one host, that host's row says it all).
    if (nHosts > 1) grid.append(h('div', { class: 'hs-host-name hs-fleet-name' }, h('b', {}, 'fleet'), h('br'), h('small', {}, 'avg, min–max band')));
    if (nHosts > 1) OVERVIEW_COLUMNS.forEach((c, ci) => {
      const cell = h('div', { class: 'hs-cell' });
      grid.append(cell);
      const lines: Line[] = [];
      c.keys.forEach((k, j) => {
        const color = PALETTE[j];
        lines.push({ label: `${label(k).label} avg`, unit: c.unit, t: fleet.t, y: fleet[`${k}.avg`], color, key: `fleet.${k}.avg` });
      });
      c.keys.forEach((k, j) => {
        lines.push({ label: `${label(k).label} min`, unit: c.unit, t: fleet.t, y: fleet[`${k}.min`], color: PALETTE[j], faint: true });
        lines.push({ label: `${label(k).label} max`, unit: c.unit, t: fleet.t, y: fleet[`${k}.max`], color: PALETTE[j], faint: true });
      });
      chart(cell, {
        unit: c.unit, width: cw, height: 96, lines, x, startMs: run.startMs, yMax: yMax[ci], compact: true, showX: true,
        markers: run.markers.filter((m) => m.host === undefined), band: [c.keys.length, c.keys.length + 1], onDraw: ctx.onFirstChart,
      });
    });

    // The fleet row draws (uPlot draws in a microtask) before every host's series are decoded.
    await new Promise((r) => setTimeout(r, 0));
    const hosts = await ctx.source.overview(run.id);
    performance.mark('hs-overview-decoded');
    const rows = meta.hosts.filter((hm) => hm.run === run.id);
    rows.forEach((hm, ri) => {
      const cols = hosts.get(hm.id)!;
      const s = hm.summary;
      const name = h('button', { class: 'hs-host-name hs-linkish', type: 'button', title: `open ${hm.name} in the Host view`, onclick: () => ctx.openHost(hm.id) },
        h('b', {}, hm.name), h('br'), h('small', {}, `${plural(s.samples, 'sample')}${s.gaps ? `, ${plural(s.gaps, 'gap')}` : ''}${s.errorSamples ? `, ${s.errorSamples} with errors` : ''}`));
      grid.append(name);
      const cells = OVERVIEW_COLUMNS.map(() => h('div', { class: 'hs-cell hs-pending' }));
      grid.append(...cells);
      const draw = (): void => {
        OVERVIEW_COLUMNS.forEach((c, ci) => {
          cells[ci].classList.remove('hs-pending');
          const lines: Line[] = c.keys.filter((k) => cols[k]).map((k, j) => ({ label: label(k).label, unit: c.unit, t: cols.t, y: cols[k], color: PALETTE[j], key: k }));
          if (lines.length === 0) {
            cells[ci].append(h('div', { class: 'hs-empty' }, 'no data'));
            return;
          }
          chart(cells[ci], {
            unit: c.unit, width: cw, height: rowH + (ri === rows.length - 1 ? 26 : 0), lines, x, startMs: run.startMs, yMax: yMax[ci], compact: true, showX: ri === rows.length - 1,
            markers: run.markers.filter((m) => m.host === undefined || m.host === hm.name), onDraw: ctx.onFirstChart,
          });
        });
      };
      lazily(name, draw);
    });
    if (nHosts > 1) section.append(fleetTable(run, meta.headline));
  }
}

const observer = typeof IntersectionObserver === 'undefined' ? undefined : new IntersectionObserver((entries) => {
  for (const e of entries) {
    if (!e.isIntersecting) continue;
    observer!.unobserve(e.target);
    pending.get(e.target)?.();
    pending.delete(e.target);
  }
}, { rootMargin: '400px 0px' });
const pending = new Map<Element, () => void>();

/** Runs `draw` once `el` comes near the viewport. */
function lazily(el: Element, draw: () => void): void {
  if (!observer) return draw();
  pending.set(el, draw);
  observer.observe(el);
}

/** Draws every row not drawn yet (the page's tests and screenshots want them all). */
export function drawAllPending(): void {
  for (const [el, draw] of pending) {
    observer?.unobserve(el);
    draw();
  }
  pending.clear();
}

function runHeader(run: RunMeta, hosts: number): HTMLElement {
  return h('div', { class: 'hs-run-head' },
    h('h2', { title: run.file }, run.file.slice(run.file.lastIndexOf('/') + 1)),
    h('p', {}, `${plural(hosts, 'host')} · started ${dateTime(run.startMs)} · ${elapsed(run.durationSeconds)} · every ${run.intervalSeconds} s · ${run.collectionMethod === 'ssh' ? 'collected over SSH' : run.collectionMethod === 'push' ? 'pushed by agents' : 'collected locally'}${run.markers.length ? ` · ${plural(run.markers.length, 'marker')} (orange)` : ''}`),
    ...run.warnings.map((w) => h('p', { class: 'hs-warning' }, `⚠ ${w}`)));
}

function fleetTable(run: RunMeta, headline: HeadlineMeta[]): HTMLElement {
  const t = h('table', { class: 'hs-table hs-fleet-table' },
    h('caption', {}, 'Fleet: every sample of every host; hosts compared by their own average'),
    h('thead', {}, h('tr', {}, h('th', {}, 'metric'), h('th', {}, 'fleet avg'), h('th', {}, 'lowest host avg'), h('th', {}, 'highest host avg'))));
  const body = h('tbody');
  for (const m of headline) {
    const f = run.fleetSummary[m.key];
    body.append(h('tr', { 'data-metric': m.key },
      h('th', {}, `${m.label} (${m.unit})`),
      h('td', {}, fixed(f.avg, m.digits)),
      h('td', {}, f.minHost === null ? '–' : `${fixed(f.minAvg, m.digits)} (${f.minHost})`),
      h('td', {}, f.maxHost === null ? '–' : `${fixed(f.maxAvg, m.digits)} (${f.maxHost})`)));
  }
  t.append(body);
  return t;
}

export type { ColumnSet };
