/**
 * Compare: pick hosts (of one recording or several) and a metric; see them overlaid on one chart
 * or side by side on the same scales. Time is seconds since each run started, so two recordings
 * line up from their starts.
 */
import { chart, destroyCharts, PALETTE, type Line } from './chart';
import { clear, h } from './dom';
import { hostLabel, runLabel } from './host';
import type { ColumnSet, ReportSource } from './source';

interface CompareState {
  selected: Set<number>;
  metric: string;
  mode: 'overlay' | 'side';
}

let state: CompareState | undefined;

function defaults(source: ReportSource): CompareState {
  const { runs, hosts } = source.meta;
  // Two recordings: the first host of each; one: its first four hosts.
  const pick = runs.length > 1 ? runs.map((r) => hosts.find((x) => x.run === r.id)?.id).filter((x): x is number => x !== undefined) : hosts.slice(0, 4).map((x) => x.id);
  return { selected: new Set(pick), metric: 'cpu_busy_pct', mode: 'overlay' };
}

export async function renderCompare(root: HTMLElement, source: ReportSource): Promise<void> {
  state ??= defaults(source);
  const st = state;
  const { meta } = source;
  // Hosts a newer window no longer has (the dashboard reloads with each push).
  for (const id of st.selected) if (!meta.hosts[id]) st.selected.delete(id);
  clear(root);
  const overviews = new Map<number, ColumnSet>();
  for (const r of meta.runs) for (const [id, cols] of await source.overview(r.id)) overviews.set(id, cols);

  const controls = h('form', { class: 'hs-compare-controls', onsubmit: (e) => e.preventDefault() });
  const metricSel = h('select', { id: 'hs-compare-metric', 'aria-label': 'metric' }, ...meta.headline.map((m) => h('option', { value: m.key, selected: m.key === st.metric }, `${m.label} (${m.unit})`)));
  metricSel.addEventListener('change', () => {
    st.metric = metricSel.value;
    draw();
  });
  const mode = (v: CompareState['mode'], text: string): HTMLElement => {
    const input = h('input', { type: 'radio', name: 'hs-mode', value: v, checked: st.mode === v });
    input.addEventListener('change', () => {
      st.mode = v;
      draw();
    });
    return h('label', {}, input, ` ${text}`);
  };
  controls.append(h('label', {}, 'metric ', metricSel), h('fieldset', { class: 'hs-mode' }, h('legend', {}, 'show'), mode('overlay', 'overlaid'), mode('side', 'side by side')));
  const list = h('fieldset', { class: 'hs-host-picks' }, h('legend', {}, 'hosts'));
  for (const r of meta.runs) {
    if (meta.runs.length > 1) list.append(h('div', { class: 'hs-pick-run', title: r.file }, runLabel(source, r.id)));
    for (const hm of meta.hosts.filter((x) => x.run === r.id)) {
      const box = h('input', { type: 'checkbox', value: String(hm.id), checked: st.selected.has(hm.id), 'data-host': hm.name });
      box.addEventListener('change', () => {
        if (box.checked) st.selected.add(hm.id);
        else st.selected.delete(hm.id);
        draw();
      });
      list.append(h('label', { class: 'hs-pick' }, box, ` ${hm.name}`));
    }
  }
  controls.append(list);
  const out = h('div', { class: 'hs-compare-charts' });
  root.append(h('div', { class: 'hs-compare' }, controls, out));

  const draw = (): void => {
    destroyCharts(out);
    clear(out);
    const m = meta.headline.find((x) => x.key === st.metric)!;
    const ids = [...st.selected].sort((a, b) => a - b);
    if (ids.length === 0) {
      out.append(h('p', { class: 'hs-note' }, 'Pick one or more hosts.'));
      return;
    }
    const runsUsed = new Set(ids.map((id) => meta.hosts[id].run));
    const startMs = runsUsed.size === 1 ? meta.runs[[...runsUsed][0]].startMs : undefined;
    const x: [number, number] = [0, Math.max(...[...runsUsed].map((r) => meta.runs[r].durationSeconds), 1e-3)];
    const markers = runsUsed.size === 1 ? meta.runs[[...runsUsed][0]].markers.filter((mk) => mk.host === undefined) : [];
    const lines: Line[] = ids.map((id, i) => ({
      label: hostLabel(source, meta.hosts[id]), unit: m.unit, t: overviews.get(id)!.t, y: overviews.get(id)![m.key] ?? new Float32Array(overviews.get(id)!.t.length).fill(NaN),
      color: PALETTE[i % PALETTE.length], key: `${meta.hosts[id].name}.${m.key}`,
    }));
    const width = Math.max(500, out.clientWidth || 900);
    if (st.mode === 'overlay') {
      chart(out, { title: `${m.label} (${m.unit})`, unit: m.unit, width, height: 320, lines, x, startMs, yMax: m.yMax, markers });
    } else {
      let yMax = m.yMax ?? 0;
      if (m.yMax === undefined) for (const l of lines) for (let i = 0; i < l.y.length; i++) if (l.y[i] > yMax) yMax = l.y[i];
      const grid = h('div', { class: 'hs-charts' });
      out.append(grid);
      const cw = lines.length > 1 && width >= 900 ? Math.floor((width - 24) / 2) : width;
      for (const l of lines) chart(grid, { title: `${l.label}: ${m.label}`, unit: m.unit, width: cw, height: 200, lines: [l], x, startMs, yMax: yMax || 1, markers });
    }
  };
  draw();
}
