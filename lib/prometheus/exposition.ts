/**
 * Metric families as the Prometheus text exposition format (0.0.4, what node_exporter serves by
 * default) or OpenMetrics 1.0 (when a scraper's Accept header asks for it), and families of
 * several hosts merged into one exposition under a `host` label (serve's /metrics).
 */
import type { MetricFamily, Series } from './families.js';

export const TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

/** Whether an Accept header prefers OpenMetrics (Prometheus sends it first when it can parse it). */
export function wantsOpenMetrics(accept: string | undefined): boolean {
  return accept !== undefined && /application\/openmetrics-text/.test(accept);
}

const escapeHelp = (s: string): string => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const escapeLabel = (s: string): string => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** A value as Prometheus' parsers read it (integers as digits, no exponent below 1e21). */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function labelsText(labels: Series['labels']): string {
  if (labels.length === 0) return '';
  return `{${labels.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`;
}

export interface ExpositionOptions {
  openMetrics?: boolean;
  /** Milliseconds since the epoch written after each value (default: none, the scrape's time). */
  timestampMs?: number;
}

export function formatExposition(families: readonly MetricFamily[], o: ExpositionOptions = {}): string {
  const out: string[] = [];
  const stamp = (ms: number | undefined): string => (ms === undefined ? '' : o.openMetrics ? ` ${formatValue(ms / 1000)}` : ` ${Math.round(ms)}`);
  for (const f of families) {
    // OpenMetrics names a counter family without its `_total`, which each sample carries.
    const family = o.openMetrics && f.type === 'counter' && f.name.endsWith('_total') ? f.name.slice(0, -'_total'.length) : f.name;
    const type = o.openMetrics && f.type === 'untyped' ? 'unknown' : f.type;
    out.push(`# HELP ${family} ${escapeHelp(f.help)}`, `# TYPE ${family} ${type}`);
    for (const s of f.series) out.push(`${f.name}${labelsText(s.labels)} ${formatValue(s.value)}${stamp(s.timestampMs ?? o.timestampMs)}`);
  }
  if (o.openMetrics) out.push('# EOF');
  return out.join('\n') + '\n';
}

/**
 * Families of several sources (hosts) as one list: a family appears once, with every source's
 * series, each led by the source's labels (e.g. `instance`) and stamped with the source's time
 * when given. A name whose type differs between sources keeps the first type.
 */
export function mergeFamilies(sets: readonly { labels: Series['labels']; families: readonly MetricFamily[]; timestampMs?: number }[]): MetricFamily[] {
  const byName = new Map<string, MetricFamily>();
  for (const { labels, families, timestampMs } of sets) {
    for (const f of families) {
      let m = byName.get(f.name);
      if (!m) byName.set(f.name, (m = { name: f.name, help: f.help, type: f.type, series: [] }));
      for (const s of f.series) m.series.push({ labels: [...labels, ...s.labels], value: s.value, timestampMs: s.timestampMs ?? timestampMs });
    }
  }
  return [...byName.values()];
}
