/**
 * The report's UI over any `ReportSource`: three views (Overview, Host, Compare) under a tab bar,
 * switched by mouse or keyboard (arrows on the tabs, 1/2/3 anywhere, [ and ] for the previous/next
 * host). The first chart drawn sets `performance.mark('hs-first-chart')` (the load-time benchmark
 * reads it). `hostseries report` starts it over the page's inlined data (main.ts), `serve`'s
 * dashboard over its read API (web/dashboard/), which `reload()`s it with each new window.
 */
import { renderCompare } from './compare';
import { destroyCharts } from './chart';
import { clear, h } from './dom';
import { plural } from './format';
import { hostLabel, renderHost } from './host';
import { drawAllPending, renderOverview } from './overview';
import type { ReportSource } from './source';

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

export interface StartOptions {
  /** Controls shown in the header under the title (the dashboard's host status and time range). */
  toolbar?: HTMLElement;
  /** The line under the title (default: hosts, recordings and how to read the page). */
  subtitle?: string;
}

export interface Started {
  /** Shows `next` (the same kind of data, a newer window) in the open view, keeping the view and host. */
  reload(next: ReportSource): Promise<void>;
  /** Opens host `id` (an index into `meta.hosts`) in the Host view. */
  openHost(id: number): void;
}

export function start(initial: ReportSource, app: HTMLElement, opts: StartOptions = {}): Started {
  let source = initial;
  const state = { ready: false, view: 'overview' as View, host: 0, firstChartMs: undefined as number | undefined, drawAll: drawAllPending };
  window.hostseriesReport = state;
  clear(app);
  document.title = source.meta.title;

  const panels = new Map<View, HTMLElement>();
  const tabs = new Map<View, HTMLButtonElement>();
  const rendered = new Set<View>();
  const tablist = h('div', { class: 'hs-tabs', role: 'tablist', 'aria-label': 'views' });
  const hostSel = h('select', { id: 'hs-host-select', 'aria-label': 'host' });
  const hostOptions = (): void => hostSel.replaceChildren(...source.meta.hosts.map((hm) => h('option', { value: String(hm.id) }, hostLabel(source, hm))));
  hostOptions();
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
  const hostsN = (): number => source.meta.hosts.length;
  const sub = (): string => opts.subtitle ?? `${plural(hostsN(), 'host')} in ${plural(source.meta.runs.length, 'recording')} · times in seconds since the run started and UTC clock time · hover a chart for exact values · press ? for keys`;
  const subLine = h('p', { class: 'hs-sub' }, sub());
  app.append(
    h('header', { class: 'hs-header' },
      h('h1', {}, source.meta.title),
      subLine, opts.toolbar,
      h('nav', { class: 'hs-nav' }, tablist, hostNav), help),
    ...panels.values());

  function stepHost(d: number): void {
    const n = hostsN();
    if (n > 0) openHost((state.host + d + n) % n);
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
      destroyCharts(panel);
      panel.replaceChildren();
      drawing = render(v, panel);
    }
  }

  function render(v: View, panel: HTMLElement): Promise<void> {
    delete panel.dataset.rendered;
    const work = (v === 'host' && hostsN() === 0) ? Promise.resolve(panel.replaceChildren(h('p', { class: 'hs-note' }, 'No host has samples in this window.')))
      : v === 'overview' ? renderOverview(panel, { source, openHost, onFirstChart: firstChart })
      : v === 'host' ? renderHost(panel, source, state.host)
      : renderCompare(panel, source);
    return work.then(() => {
      panel.dataset.rendered = 'true';
      if (v === 'overview') state.ready = true;
    }).catch(fail);
  }
  /** The render in progress (a reload waits for it: two renders into one panel would mix). */
  let drawing: Promise<void> = Promise.resolve();

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

  return {
    openHost: (id: number): void => {
      openHost(id);
      tabs.get('host')!.focus();
    },
    async reload(next: ReportSource): Promise<void> {
      source = next;
      hostOptions();
      if (state.host >= hostsN()) state.host = 0;
      hostSel.value = String(state.host);
      subLine.textContent = sub();
      await drawing;
      rendered.clear();
      const v = state.view;
      rendered.add(v);
      // The open view drawn anew out of sight, over the old one (same place and width, so the
      // overview's rows in view draw), then swapped in: no flicker, no jump.
      const old = panels.get(v)!;
      const fresh = old.cloneNode(false) as HTMLElement;
      fresh.removeAttribute('id');
      fresh.style.cssText = `position:absolute;visibility:hidden;left:${old.offsetLeft}px;top:${old.offsetTop}px;width:${old.offsetWidth}px`;
      old.after(fresh);
      drawing = render(v, fresh);
      await drawing;
      fresh.style.cssText = '';
      fresh.hidden = state.view !== v;
      old.replaceWith(fresh);
      fresh.id = old.id;
      panels.set(v, fresh);
      destroyCharts(old);
    },
  };
}

export function fail(e: unknown): void {
  const msg = e instanceof Error ? e.message : String(e);
  if (window.hostseriesReport) window.hostseriesReport.error = msg;
  document.getElementById('app')?.prepend(h('p', { class: 'hs-error', role: 'alert' }, `The report could not be shown: ${msg}`));
  console.error(e);
}

