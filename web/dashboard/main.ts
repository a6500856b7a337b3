/**
 * `serve`'s live dashboard: the report's UI (web/report/app.ts) over the read API (`HttpSource`),
 * with a time-range picker (last 15 min / 1 h / 24 h, or a run's from–to as /export takes it),
 * every host's online state, last-seen time and samples, and live updates: the server's event
 * stream (/api/v1/events) says when a push stored samples and the page refetches the window and
 * redraws the open view. With `--read-token` it asks for the token once (kept in sessionStorage).
 */
import { fail, start, type Started } from '../report/app';
import { h } from '../report/dom';
import { clock, dateTime, plural } from '../report/format';
import { forgetReadToken, getJson, HttpSource, NeedToken, readToken, setReadToken, type HostStatus, type ReportReply } from './api';

type Range = { kind: 'last'; seconds: number } | { kind: 'custom'; from: string; to: string };
const LAST: { seconds: number; label: string }[] = [
  { seconds: 900, label: 'last 15 min' },
  { seconds: 3600, label: 'last 1 h' },
  { seconds: 86400, label: 'last 24 h' },
];

declare global {
  interface Window {
    /** For tests: how the live part stands. */
    hostseriesDashboard?: { loads: number; samples: number; last: string | null; live: boolean; events: number; asking: boolean };
  }
}

const app = document.getElementById('app')!;
const status = { loads: 0, samples: 0, last: null as string | null, live: true, events: 0, asking: false };
window.hostseriesDashboard = status;
let range: Range = { kind: 'last', seconds: 900 };
let ui: Started | undefined;
let lastReply: ReportReply | undefined;

// The toolbar: the range picker, the live line, the hosts.
const rangeSel = h('select', { id: 'hs-range', 'aria-label': 'time range' },
  ...LAST.map((l) => h('option', { value: String(l.seconds) }, l.label)), h('option', { value: 'custom' }, 'from – to (a run\'s window)…'));
const fromIn = h('input', { id: 'hs-from', type: 'text', size: 22, 'aria-label': 'from (UTC)', placeholder: '2026-01-24T12:00:00Z', spellcheck: 'false' });
const toIn = h('input', { id: 'hs-to', type: 'text', size: 22, 'aria-label': 'to (UTC)', placeholder: 'now, or 2026-01-24T13:00:00Z', spellcheck: 'false' });
const custom = h('form', { class: 'hs-custom', hidden: true }, 'from ', fromIn, ' to ', toIn, ' ', h('button', { type: 'submit' }, 'Show'));
// Not a live region: it changes with every push, which a screen reader would read out each time.
const live = h('span', { id: 'hs-live', class: 'hs-live' }, 'loading…');
const problem = h('p', { class: 'hs-error', role: 'alert', hidden: true });
const hostList = h('ul', { class: 'hs-host-status-list', 'aria-label': 'hosts' });
const toolbar = h('div', { class: 'hs-dash' },
  h('div', { class: 'hs-dash-row' }, h('label', {}, 'time range ', rangeSel), custom, live),
  hostList, problem);

rangeSel.addEventListener('change', () => {
  if (rangeSel.value === 'custom') {
    custom.hidden = false;
    if (lastReply && !fromIn.value) {
      fromIn.value = lastReply.from.replace(/\.\d+Z$/, 'Z');
      toIn.value = lastReply.to.replace(/\.\d+Z$/, 'Z');
    }
    fromIn.focus();
    return;
  }
  custom.hidden = true;
  range = { kind: 'last', seconds: Number(rangeSel.value) };
  void refresh(true);
});
custom.addEventListener('submit', (e) => {
  e.preventDefault();
  range = { kind: 'custom', from: fromIn.value.trim(), to: toIn.value.trim() || 'now' };
  void refresh(true);
});

const query = (): string => {
  const p = range.kind === 'last' ? { from: `-${range.seconds}s`, to: 'now' } : { from: range.from, to: range.to };
  return new URLSearchParams(p).toString();
};
const isLive = (): boolean => range.kind === 'last' || range.to === 'now';

function ago(iso: string): string {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  return s < 90 ? `${s} s ago` : s < 5400 ? `${Math.round(s / 60)} min ago` : `${Math.round(s / 3600)} h ago`;
}

function showHosts(hosts: HostStatus[]): void {
  hostList.replaceChildren(...hosts.map((x) => h('li', {
    class: `hs-host-status ${x.online ? 'hs-online' : 'hs-offline'}`, 'data-host': x.hostname, 'data-online': String(x.online), 'data-samples': x.samples,
    title: `${x.hostname}: ${x.online ? 'online' : 'offline'}; last push ${dateTime(Date.parse(x.last_seen))}; ${plural(x.samples, 'sample')} stored${Object.keys(x.tags).length ? `; tags ${Object.entries(x.tags).map(([k, v]) => `${k}=${v}`).join(', ')}` : ''}`,
  }, h('i', { class: 'hs-dot', 'aria-hidden': 'true' }),
  h('button', { type: 'button', class: 'hs-host-open', title: `open ${x.hostname} in the Host view`, onclick: () => openHost(x.hostname) }, x.hostname),
  ` ${x.online ? 'online' : 'offline'} · last seen ${ago(x.last_seen)} · ${plural(x.samples, 'sample')} stored`)));
  if (hosts.length === 0) hostList.append(h('li', { class: 'hs-note' }, 'No agent has pushed to this server yet.'));
}

function openHost(name: string): void {
  const id = lastReply?.meta.hosts.find((x) => x.name === name)?.id;
  if (ui && id !== undefined) return ui.openHost(id);
  problem.textContent = `${name} has no samples in this window.`;
  problem.hidden = false;
}

function showLive(reply: ReportReply, hosts: HostStatus[]): void {
  const inView = new Set(reply.meta.hosts.map((x) => x.name));
  status.samples = reply.meta.hosts.reduce((n, x) => n + x.samples, 0);
  status.last = hosts.filter((x) => inView.has(x.hostname) && x.last_sample !== null).map((x) => x.last_sample!).sort().pop() ?? null;
  status.live = isLive();
  const lastMs = status.last === null ? NaN : Date.parse(status.last);
  const newest = Number.isFinite(lastMs) && (range.kind === 'last' || Date.parse(reply.to) >= lastMs) ? ` · newest sample ${clock(lastMs)} UTC` : '';
  live.textContent = `${status.live ? '● live' : '■ fixed window'} · ${plural(status.samples, 'sample')} in view${newest} · updated ${clock(Date.now())} UTC`;
  live.dataset.samples = String(status.samples);
  live.dataset.last = status.last ?? '';
  live.classList.toggle('hs-is-live', status.live);
}

function subtitle(reply: ReportReply): string {
  const what = range.kind === 'last' ? LAST.find((l) => l.seconds === (range as { seconds: number }).seconds)?.label ?? 'window' : 'from – to';
  return `${plural(reply.meta.hosts.length, 'host')} · ${what}: ${dateTime(Date.parse(reply.from))} to ${dateTime(Date.parse(reply.to))} · charts: time since the first sample in the window, and UTC clock time · hover for exact values · press ? for keys`;
}

let inflight: Promise<void> | undefined;
let again = false;
/** The next load is the user's (a new range): not held back by how long the last one took. */
let asked = false;
let lastStart = 0;
/** How long the last load took (fetch and redraw). */
let lastLoadMs = 0;
/** Ends the wait before a live load. */
let wake: (() => void) | undefined;
/**
 * Loads start at most this often: many agents pushing apart do not redraw the page for each, a
 * long window (rebuilt whole) is refetched about as often as a pixel column of it fills, and a
 * window the server takes long to answer (a big fleet) waits as long as its last load took, so
 * an open page keeps the server busy at most half the time.
 */
const minGapMs = (): number => (asked ? 0 : Math.max(1000, range.kind === 'last' ? (range.seconds * 1000) / 900 : 0, 2 * lastLoadMs));

/**
 * Fetch the window and redraw; calls while one runs are folded into one more after it. `byUser`
 * (a new range) goes as soon as the load in flight is done.
 */
function refresh(byUser = false): Promise<void> {
  asked ||= byUser;
  if (inflight) {
    again = true;
    // A wait for the next live load ends now for the user's.
    if (byUser) wake?.();
    return inflight;
  }
  inflight = (async () => {
    do {
      again = false;
      const wait = lastStart + minGapMs() - Date.now();
      asked = false;
      if (wait > 0) {
        await new Promise<void>((r) => {
          const timer = setTimeout(r, wait);
          wake = () => {
            clearTimeout(timer);
            r();
          };
        });
        wake = undefined;
      }
      lastStart = Date.now();
      await loadOnce();
    } while (again);
  })().finally(() => (inflight = undefined));
  return inflight;
}

async function loadOnce(): Promise<void> {
  for (;;) {
    const started = Date.now();
    try {
      const [reply, hosts] = await Promise.all([getJson<ReportReply>(`/api/v1/report?${query()}`), getJson<{ hosts: HostStatus[] }>('/api/v1/hosts')]);
      problem.hidden = true;
      lastReply = reply;
      const source = new HttpSource(reply);
      showHosts(hosts.hosts);
      if (ui) await ui.reload(source);
      else ui = start(source, app, { toolbar, subtitle: subtitle(reply) });
      document.querySelector('.hs-header .hs-sub')!.textContent = subtitle(reply);
      // Last: the live line says what the page shows, once it shows it.
      showLive(reply, hosts.hosts);
      // The time a token was being typed in is not the load's.
      lastLoadMs = Date.now() - started;
      status.loads++;
      listen();
      return;
    } catch (e) {
      if (!(e instanceof NeedToken)) {
        problem.textContent = `Could not load: ${e instanceof Error ? e.message : String(e)}`;
        problem.hidden = false;
        if (!ui) app.replaceChildren(h('h1', {}, 'hostseries dashboard'), problem);
        return;
      }
      if (e.refused) forgetReadToken();
      await askToken(e.refused);
    }
  }
}

/** The read-token form; resolves once a token is entered (kept for this browser session). */
function askToken(refused: boolean): Promise<void> {
  status.asking = true;
  return new Promise((resolve) => {
    const input = h('input', { id: 'hs-token', type: 'password', autocomplete: 'current-password', size: 40, required: true, 'aria-describedby': 'hs-token-help' });
    const form = h('form', { id: 'hs-token-form', class: 'hs-token-form' },
      h('h2', {}, 'Read token'),
      h('p', { id: 'hs-token-help' }, refused ? 'The server refused that token. Enter the read token again.'
        : 'This server asks for its read token (serve --read-token) to show its data. It is kept for this browser tab\'s session only.'),
      h('label', {}, 'token ', input), ' ', h('button', { type: 'submit' }, 'Show the dashboard'));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      setReadToken(input.value.trim());
      form.remove();
      status.asking = false;
      resolve();
    });
    if (!ui) app.replaceChildren(h('h1', {}, 'hostseries dashboard'), form);
    else document.body.prepend(form);
    input.focus();
  });
}

let events: EventSource | undefined;
let eventsToken: string | null = null;

/** The server's event stream (reopened when the token changed); a push → a refresh while live. */
function listen(): void {
  const token = readToken();
  if (events && events.readyState !== EventSource.CLOSED && token === eventsToken) return;
  events?.close();
  eventsToken = token;
  events = new EventSource(`/api/v1/events${token ? `?${new URLSearchParams({ token }).toString()}` : ''}`);
  events.addEventListener('samples', () => {
    status.events++;
    if (isLive()) void refresh();
  });
  events.addEventListener('open', () => live.classList.remove('hs-reconnecting'));
  events.addEventListener('error', () => live.classList.add('hs-reconnecting'));
}

// Online/offline changes without a push (a host that went quiet): the host list every 10 s.
setInterval(() => {
  if (status.asking) return;
  getJson<{ hosts: HostStatus[] }>('/api/v1/hosts').then((r) => {
    showHosts(r.hosts);
    if (lastReply) showLive(lastReply, r.hosts);
  }).catch(() => undefined);
}, 10_000);

refresh().catch(fail);
