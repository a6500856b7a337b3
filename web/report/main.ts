/**
 * The report page: three views (Overview, Host, Compare) under a tab bar, switched by mouse or
 * keyboard (arrows on the tabs, 1/2/3 anywhere, [ and ] for the previous/next host). The first
 * chart drawn sets `performance.mark('hs-first-chart')` (the load-time benchmark reads it).
 */
import { renderCompare } from './compare';
import { clear, h } from './dom';
import { hostLabel, renderHost } from './host';
import { drawAllPending, renderOverview } from './overview';
import { InlineSource, type ReportSource } from './source';

type View = 'overview' | 'host' | 'compare';
const VIEWS: { id: View; label: string; key: string }[] = [
  { id: 'overview', label: 'Overview', key: '1' },
  { id: 'host', label: 'Host', key: '2' },
  { id: 'compare', label: 'Compare', key: '3' },
];

declare global {
  interface Window {
    /** For tests and the benchmark: the page's state. */
    hostseriesReport?: { ready: boolean; view: View; host: number; firstChartMs?: number; drawAll: () => void; error?: string };
  }
}

export function start(source: ReportSource, app: HTMLElement): void {
  const state = { ready: false, view: 'overview' as View, host: 0, firstChartMs: undefined as number | undefined, drawAll: drawAllPending };
  window.hostseriesReport = state;
  const { meta } = source;
  clear(app);
  document.title = meta.title;

  const panels = new Map<View, HTMLElement>();
  const tabs = new Map<View, HTMLButtonElement>();
  const rendered = new Set<View>();
  const tablist = h('div', { class: 'hs-tabs', role: 'tablist', 'aria-label': 'views' });
  const hostSel = h('select', { id: 'hs-host-select', 'aria-label': 'host' }, ...meta.hosts.map((hm) => h('option', { value: String(hm.id) }, hostLabel(source, hm))));
  const hostNav = h('div', { class: 'hs-host-nav', hidden: true },
    h('button', { type: 'button', title: 'previous host ([)', onclick: () => stepHost(-1) }, '◀'),
    hostSel,
    h('button', { type: 'button', title: 'next host (])', onclick: () => stepHost(1) }, '▶'));
  hostSel.addEventListener('change', () => openHost(Number(hostSel.value)));

  for (const v of VIEWS) {
    const tab = h('button', { class: 'hs-tab', role: 'tab', id: `hs-tab-${v.id}`, 'aria-controls': `hs-view-${v.id}`, type: 'button', title: `${v.label} (key ${v.key})` },
      h('kbd', {}, v.key), ` ${v.label}`);
    tab.addEventListener('click', () => show(v.id, true));
    tabs.set(v.id, tab);
    tablist.append(tab);
    panels.set(v.id, h('section', { class: 'hs-view', role: 'tabpanel', id: `hs-view-${v.id}`, 'aria-labelledby': `hs-tab-${v.id}`, tabindex: -1, hidden: true }));
  }
  tablist.addEventListener('keydown', (e) => {
    const i = VIEWS.findIndex((v) => v.id === state.view);
    let j = -1;
    if (e.key === 'ArrowRight') j = (i + 1) % VIEWS.length;
    else if (e.key === 'ArrowLeft') j = (i + VIEWS.length - 1) % VIEWS.length;
    else if (e.key === 'Home') j = 0;
    else if (e.key === 'End') j = VIEWS.length - 1;
    if (j < 0) return;
    e.preventDefault();
    show(VIEWS[j].id, true);
  });

  const help = h('p', { class: 'hs-help', hidden: true },
    'Keys: 1 Overview · 2 Host · 3 Compare · ←/→ on the tabs · [ / ] previous/next host · Tab moves between controls · drag on a chart zooms, double-click zooms out · ? shows this.');
  const hostsN = meta.hosts.length;
  app.append(
    h('header', { class: 'hs-header' },
      h('h1', {}, meta.title),
      h('p', { class: 'hs-sub' }, `${hostsN} host${hostsN === 1 ? '' : 's'} in ${meta.runs.length} recording${meta.runs.length === 1 ? '' : 's'} · times in seconds since the run started and UTC clock time · hover a chart for exact values · press ? for keys`),
      h('nav', { class: 'hs-nav' }, tablist, hostNav), help),
    ...panels.values());

  function stepHost(d: number): void {
    openHost((state.host + d + hostsN) % hostsN);
  }

  function openHost(id: number): void {
    state.host = id;
    hostSel.value = String(id);
    rendered.delete('host');
    show('host', false);
  }

  function show(v: View, focusTab: boolean): void {
    state.view = v;
    for (const [id, tab] of tabs) {
      const on = id === v;
      tab.setAttribute('aria-selected', String(on));
      tab.tabIndex = on ? 0 : -1;
      panels.get(id)!.hidden = !on;
    }
    hostNav.hidden = v !== 'host';
    if (focusTab) tabs.get(v)!.focus();
    if (!rendered.has(v)) {
      rendered.add(v);
      const panel = panels.get(v)!;
      const work = v === 'overview' ? renderOverview(panel, { source, openHost, onFirstChart: firstChart })
        : v === 'host' ? renderHost(panel, source, state.host)
        : renderCompare(panel, source);
      work.then(() => {
        panel.dataset.rendered = 'true';
        if (v === 'overview') state.ready = true;
      }).catch(fail);
    }
  }

  function firstChart(): void {
    if (state.firstChartMs !== undefined) return;
    state.firstChartMs = performance.now();
    performance.mark('hs-first-chart');
  }

  document.addEventListener('keydown', (e) => {
    const t = e.target as HTMLElement | null;
    if (e.ctrlKey || e.metaKey || e.altKey || (t && /^(INPUT|SELECT|TEXTAREA)$/.test(t.tagName) && (t as HTMLInputElement).type !== 'checkbox' && (t as HTMLInputElement).type !== 'radio')) return;
    const v = VIEWS.find((x) => x.key === e.key);
    if (v) {
      e.preventDefault();
      show(v.id, true);
    } else if (e.key === '[' || e.key === ']') {
      e.preventDefault();
      stepHost(e.key === '[' ? -1 : 1);
    } else if (e.key === '?') {
      help.hidden = !help.hidden;
    }
  });

  show('overview', false);
}

function fail(e: unknown): void {
  const msg = e instanceof Error ? e.message : String(e);
  if (window.hostseriesReport) window.hostseriesReport.error = msg;
  document.getElementById('app')?.prepend(h('p', { class: 'hs-error', role: 'alert' }, `The report could not be shown: ${msg}`));
  console.error(e);
}

performance.mark('hs-script');
try {
  start(new InlineSource(document), document.getElementById('app')!);
} catch (e) {
  fail(e);
}
