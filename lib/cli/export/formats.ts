/**
 * The text of each export format: CSV (RFC 4180), TSV, JSON Lines, long (one value a line) or
 * wide (one column per metric). Numbers are written in the shortest form that reads back to the
 * same double (a counter above 2^53 in its exact digits).
 */
import { metricName, type Value } from '../../views/metrics.js';
import type { ExportRow } from './rows.js';

export type TableFormat = 'csv' | 'tsv' | 'jsonl';

const csvCell = (s: string): string => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
const tsvCell = (s: string): string => s.replace(/[\t\r\n]/g, ' ');

export const isoTime = (ns: number): string => new Date(Math.round(ns / 1e6)).toISOString();

function line(format: 'csv' | 'tsv', cells: readonly string[]): string {
  return (format === 'csv' ? cells.map(csvCell).join(',') : cells.map(tsvCell).join('\t')) + '\n';
}

/** A value as JSON text: bigints in their digits. */
const jsonValue = (v: Value): string => (typeof v === 'bigint' ? v.toString() : Number.isFinite(v) ? String(v) : 'null');

export function longHeader(format: TableFormat): string {
  return format === 'jsonl' ? '' : line(format, ['host', 'time', 'timestamp_ns', 'metric', 'value']);
}

export function longLines(format: TableFormat, row: ExportRow): string {
  const time = isoTime(row.ns);
  let out = '';
  for (const [a, b, c, v] of row.values) {
    const m = metricName(a, b, c);
    out += format === 'jsonl'
      ? `{"host":${JSON.stringify(row.host)},"time":"${time}","timestamp_ns":${row.ns},"metric":${JSON.stringify(m)},"value":${jsonValue(v)}}\n`
      : line(format, [row.host, time, String(row.ns), m, String(v)]);
  }
  return out;
}

export function wideHeader(format: TableFormat, columns: readonly string[]): string {
  return format === 'jsonl' ? '' : line(format, ['host', 'time', 'timestamp_ns', ...columns]);
}

export function wideLine(format: TableFormat, columns: ReadonlyMap<string, number>, row: ExportRow): string {
  const time = isoTime(row.ns);
  if (format === 'jsonl') {
    const parts = row.values.map(([a, b, c, v]) => `${JSON.stringify(metricName(a, b, c))}:${jsonValue(v)}`);
    return `{"host":${JSON.stringify(row.host)},"time":"${time}","timestamp_ns":${row.ns},"metrics":{${parts.join(',')}}}\n`;
  }
  const cells = new Array<string>(columns.size).fill('');
  for (const [a, b, c, v] of row.values) {
    const i = columns.get(metricName(a, b, c));
    if (i !== undefined) cells[i] = String(v);
  }
  return line(format, [row.host, time, String(row.ns), ...cells]);
}
