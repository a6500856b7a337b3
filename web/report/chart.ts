/**
 * One time-series chart (uPlot): min/max-decimated to its width (again on zoom), time as seconds
 * since the start and as clock time, units on both axes, markers shaded, and a tooltip with the
 * exact values of the samples nearest the cursor (read from the full data, not the decimated).
 */
import uPlot from 'uplot';
import type { MarkerView } from '../../lib/report/report-data';
import { decimate, nearest } from './decimate';
import { h } from './dom';
import { clock, elapsed, exact, tick } from './format';
import type { Column } from './source';

export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];

export interface Line {
  label: string;
  unit: string;
  t: Column;
  y: Column;
  color?: string;
  /** The series key (for tests and the tooltip's data attributes). */
  key?: string;
  /** Drawn thin and light (fleet min/max). */
  faint?: boolean;
}

export interface ChartOptions {
  title?: string;
  unit: string;
  width: number;
  height: number;
  lines: Line[];
  /** The full x range (seconds since the start). */
  x: [number, number];
  /** Epoch ms of t = 0, for clock time; absent when the lines come from runs that started apart. */
  startMs?: number;
  yMax?: number;
  stacked?: boolean;
  markers?: MarkerView[];
  /** Small multiples: no title, small axes, time axis only when `showX`. */
  compact?: boolean;
  showX?: boolean;
  /** Fill between these two lines (indexes): the fleet's min-max band. */
  band?: [number, number];
  onDraw?: (u: uPlot) => void;
}

// Ticks on the time axis land on round durations.
const TIME_INCRS = [0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];

/** Stacked lines: each the sum of itself and those before it (a missing part counts 0). */
function stack(lines: Line[]): Float64Array[] {
  const out: Float64Array[] = [];
  let acc: Float64Array | undefined;
  for (const l of lines) {
    const s = new Float64Array(l.y.length);
    for (let i = 0; i < s.length; i++) {
      const v = l.y[i];
      s[i] = (acc ? acc[i] : 0) + (Number.isFinite(v) ? v : 0);
      if (!Number.isFinite(v) && (!acc || !Number.isFinite(acc[i]))) s[i] = NaN;
    }
    out.push(s);
    acc = s;
  }
  return out;
}

/** The colour lightened towards white, opaque: stacked fills paint over each other without mixing. */
function tint(hex: string, amount: number): string {
  const n = parseInt(hex.slice(1), 16);
  const mix = (c: number): number => Math.round(c + (255 - c) * amount);
  return `rgb(${mix(n >> 16)},${mix((n >> 8) & 255)},${mix(n & 255)})`;
}

function shade(hex: string, alpha: number): string {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${n >> 16},${(n >> 8) & 255},${n & 255},${alpha})`;
}

/** Marker pairs (`x start` … `x end`) shade the span between them. */
function spans(markers: MarkerView[]): [number, number][] {
  const out: [number, number][] = [];
  const open = new Map<string, number>();
  for (const m of markers) {
    const s = /^(.*?)[\s:_-]*(start|started|begin)$/i.exec(m.label);
    const e = /^(.*?)[\s:_-]*(end|ended|stop|exit|exited|done)$/i.exec(m.label);
    if (s) open.set(s[1].toLowerCase(), m.t);
    else if (e && open.has(e[1].toLowerCase())) {
      out.push([open.get(e[1].toLowerCase())!, m.t]);
      open.delete(e[1].toLowerCase());
    }
  }
  return out;
}

export interface Chart {
  plot: uPlot;
  el: HTMLElement;
  destroy(): void;
}

/** Every chart not destroyed, so a view drawn again can let go of the old one's (uPlot listens on window). */
const alive = new Set<Chart>();

/** Destroys the charts inside `root`. */
let measurer: CanvasRenderingContext2D | null | undefined;

/**
 * A y axis as wide as its longest tick label needs, at least `least` px: at a fixed width, labels
 * such as "0.0012" or "-1234" were cut at the chart's left edge. uPlot calls it again while the
 * ticks settle; from its third call on it keeps the last answer, as uPlot asks, so it ends.
 */
function widthOfLabels(least: number, font: string, labelSize: number): uPlot.Axis.Size {
  let last = least;
  return (_u, values, _axis, cycle) => {
    if (cycle > 1) return last;
    measurer ??= document.createElement('canvas').getContext('2d');
    const m = measurer;
    if (!m || !values) return last;
    m.font = font;
    const widest = Math.max(0, ...values.map((v) => Math.max(...String(v).split('\n').map((line) => m.measureText(line).width))));
    // Tick marks (10 px), the gap to the labels (5), the axis label, and a pixel to spare.
    last = Math.max(least, Math.ceil(widest + 10 + 5 + labelSize + 1));
    return last;
  };
}

export function destroyCharts(root: Element): void {
  for (const c of alive) if (root.contains(c.el)) c.destroy();
}

export function chart(parent: HTMLElement, o: ChartOptions): Chart {
  const lines = o.lines.map((l, i) => ({ ...l, color: l.color ?? PALETTE[i % PALETTE.length] }));
  // Stacked: drawn top first so each lower part paints over the one above it.
  const drawn = o.stacked ? stack(lines).map((y, i) => ({ ...lines[i], y })).reverse() : lines;
  const shared = drawn.every((l) => l.t === drawn[0].t);
  let view: [number, number] = [...o.x];
  const px = (): number => Math.max(10, o.width - (o.compact ? 50 : 70));

  const build = (x0: number, x1: number): uPlot.AlignedData => {
    if (drawn.length === 0) return [[]];
    if (shared) return decimate(drawn[0].t, drawn.map((l) => l.y), x0, x1, px());
    const tables = drawn.map((l) => decimate(l.t, [l.y], x0, x1, px()) as uPlot.AlignedData);
    return uPlot.join(tables);
  };

  const wrap = h('div', { class: `hs-chart${o.compact ? ' hs-compact' : ''}` });
  if (o.title && !o.compact) {
    // The legend, in the lines' order (a stacked chart's first part is its lowest).
    const legend = lines.filter((l) => !l.faint).map((l) => h('span', { class: 'hs-key' }, h('i', { class: 'hs-swatch', style: `background:${l.color}` }), l.label));
    wrap.append(h('div', { class: 'hs-chart-title' }, h('b', {}, o.title), ' ', ...legend));
  }
  const tip = h('div', { class: 'hs-tip', role: 'status', hidden: true });
  const plotEl = h('div', { class: 'hs-plot' });
  wrap.append(plotEl, tip);
  parent.append(wrap);

  const showX = !o.compact || o.showX === true;
  const markers = o.markers ?? [];
  const markerSpans = spans(markers);
  const axisFont = o.compact ? '10px system-ui, sans-serif' : '11px system-ui, sans-serif';
  let updating = false;

  const opts: uPlot.Options = {
    width: o.width,
    height: o.height,
    legend: { show: false },
    padding: [8, o.compact ? 12 : 28, showX ? 0 : 7, 0],
    cursor: {
      drag: { x: !o.compact, y: false, setScale: !o.compact },
      points: { show: !o.compact, size: 6 },
      bind: {
        dblclick: (u) => () => {
          view = [...o.x];
          u.setScale('x', { min: o.x[0], max: o.x[1] });
          return null;
        },
      },
    },
    scales: {
      // uPlot ranges x through this both when it auto-ranges (min/max are the data's ends: keep
      // the view, fixed for small multiples sharing an axis) and when a drag set it (take that).
      x: {
        time: false,
        range: (u, min, max) => {
          const xs = u.data[0];
          const auto = xs.length === 0 || (min === xs[0] && max === xs[xs.length - 1]);
          return auto || min === null || max === null ? [view[0], view[1]] : [min, max];
        },
      },
      y: {
        range: (_u, _min, max) => (o.yMax !== undefined ? [0, Math.max(o.yMax, max ?? 0)] : [0, max !== null && max > 0 ? max * 1.08 : 1]),
      },
    },
    axes: [
      {
        show: showX,
        font: axisFont,
        labelFont: axisFont,
        size: o.compact ? 26 : 52,
        space: o.compact ? 60 : 90,
        incrs: TIME_INCRS,
        label: o.compact ? undefined : o.startMs !== undefined ? 'time since start, clock time (UTC)' : 'time since each run started',
        labelSize: 14,
        values: (_u, splits) => splits.map((s) => (o.compact || o.startMs === undefined ? elapsed(s) : `${elapsed(s)}\n${clock(o.startMs + s * 1000)}`)),
      },
      {
        font: axisFont,
        labelFont: axisFont,
        size: widthOfLabels(o.compact ? 34 : 50, axisFont, o.compact ? 12 : 16),
        labelSize: o.compact ? 12 : 16,
        label: o.unit,
        space: o.compact ? 18 : 30,
        values: (_u, splits) => splits.map((v) => tick(v)),
      },
    ],
    series: [
      {},
      ...drawn.map((l) => ({
        label: l.label,
        stroke: l.faint ? shade(l.color, 0.35) : l.color,
        width: l.faint ? 1 : 1.5,
        fill: o.stacked ? tint(l.color, 0.45) : undefined,
        points: { show: false },
        spanGaps: false,
        scale: 'y',
      })),
    ],
    bands: o.band ? [{ series: [o.band[1] + 1, o.band[0] + 1], fill: shade(lines[o.band[0]].color, 0.12) }] : undefined,
    hooks: {
      drawClear: [
        (u) => {
          // Under the series: the spans between paired markers.
          const ctx = u.ctx;
          const { left, top, width, height } = u.bbox;
          ctx.save();
          ctx.beginPath();
          ctx.rect(left, top, width, height);
          ctx.clip();
          ctx.fillStyle = 'rgba(255, 193, 7, 0.13)';
          for (const [a, b] of markerSpans) {
            const xa = u.valToPos(a, 'x', true);
            const xb = u.valToPos(b, 'x', true);
            ctx.fillRect(xa, top, Math.max(1, xb - xa), height);
          }
          ctx.restore();
        },
      ],
      draw: [
        (u) => {
          const ctx = u.ctx;
          const { left, top, width, height } = u.bbox;
          ctx.save();
          ctx.beginPath();
          ctx.rect(left, top, width, height);
          ctx.clip();
          const dpr = devicePixelRatio || 1;
          ctx.font = `${10 * dpr}px system-ui, sans-serif`;
          // uPlot leaves its axes' alignment set (its y labels: right-aligned, which cut a label
          // at the plot's left edge to its last letters).
          ctx.textBaseline = 'alphabetic';
          for (const m of markers) {
            const x = u.valToPos(m.t, 'x', true);
            if (x < left - 1 || x > left + width + 1) continue;
            ctx.fillStyle = 'rgba(230, 140, 0, 0.30)';
            ctx.fillRect(x - 3 * dpr, top, 6 * dpr, height);
            ctx.fillStyle = 'rgba(200, 110, 0, 0.95)';
            ctx.fillRect(x - 0.5 * dpr, top, 1 * dpr, height);
            if (!o.compact && m.label) {
              // Right of the marker, or left of it where the plot ends first.
              const room = left + width - (x + 4 * dpr);
              const after = ctx.measureText(m.label).width <= room;
              ctx.textAlign = after ? 'left' : 'right';
              ctx.fillText(m.label, after ? x + 4 * dpr : x - 4 * dpr, top + 11 * dpr);
            }
          }
          ctx.restore();
          o.onDraw?.(u);
        },
      ],
      setScale: [
        (u, key) => {
          if (key !== 'x' || updating) return;
          const { min, max } = u.scales.x;
          if (min === undefined || max === undefined || (min === view[0] && max === view[1] && u.data[0].length > 0)) return;
          view = [min, max];
          updating = true;
          // Rescaled too (the x range function keeps `view`): y fits what is in view.
          u.setData(build(min, max), true);
          updating = false;
        },
      ],
      setCursor: [(u) => showTip(u)],
    },
  };

  const showTip = (u: uPlot): void => {
    const left = u.cursor.left ?? -1;
    if (left < 0 || lines.length === 0) {
      tip.hidden = true;
      return;
    }
    const x = u.posToVal(left, 'x');
    const first = lines[0];
    const i0 = nearest(first.t, x);
    if (i0 < 0) {
      tip.hidden = true;
      return;
    }
    const t = first.t[i0];
    const when = o.startMs !== undefined ? `${elapsed(t)} · ${clock(o.startMs + t * 1000, true)} UTC` : elapsed(t);
    const rows = lines.map((l) => {
      const i = l.t === first.t ? i0 : nearest(l.t, x);
      const v = i < 0 ? NaN : l.y[i];
      return h('div', { class: 'hs-tip-row', 'data-key': l.key ?? l.label, 'data-value': Number.isFinite(v) ? String(v) : '', 'data-index': i },
        h('i', { class: 'hs-swatch', style: `background:${l.color}` }), `${l.label} `, h('b', {}, Number.isFinite(v) ? `${exact(v)} ${l.unit}` : '–'));
    });
    tip.replaceChildren(h('div', { class: 'hs-tip-time', 'data-t': String(t), 'data-index': i0 }, when), ...rows);
    tip.hidden = false;
    const w = tip.offsetWidth;
    const plotLeft = u.over.offsetLeft;
    let xPos = plotLeft + left + 14;
    if (xPos + w > o.width) xPos = Math.max(0, plotLeft + left - w - 14);
    tip.style.left = `${xPos}px`;
    tip.style.top = `${(o.compact ? 0 : 24) + (u.cursor.top ?? 0) > o.height / 2 ? 4 : o.height / 3}px`;
  };

  const plot = new uPlot(opts, build(view[0], view[1]), plotEl);
  plot.over.addEventListener('mouseleave', () => (tip.hidden = true));
  const made: Chart = {
    plot, el: wrap, destroy: () => {
      alive.delete(made);
      plot.destroy();
    },
  };
  alive.add(made);
  return made;
}
