/**
 * The lines a wrapped command writes to `HOSTSERIES_COUNTER_FD` for its application counters:
 * `steps 1` (or `steps`: one) adds to a counter, `loss=0.25` sets a gauge; blank lines and lines
 * starting with `#` are skipped. Anything else is refused with a message naming the line.
 */
export type CounterLine =
  | { kind: 'count'; name: string; n: number }
  | { kind: 'gauge'; name: string; value: number }
  | { kind: 'bad'; problem: string };

const COUNT = /^\s*([^\s=]+)(?:\s+(\S+))?\s*$/;
const GAUGE = /^\s*([^\s=]+)\s*=\s*(\S+)\s*$/;

export function parseCounterLine(line: string): CounterLine | undefined {
  const text = line.endsWith('\r') ? line.slice(0, -1) : line;
  if (text.trim() === '' || text.trimStart().startsWith('#')) return undefined;
  const shown = JSON.stringify(text.length > 80 ? text.slice(0, 80) + '…' : text);
  const gauge = GAUGE.exec(text);
  if (gauge) {
    const value = Number(gauge[2]);
    if (!Number.isFinite(value)) return { kind: 'bad', problem: `${shown}: a gauge's value must be a number` };
    return { kind: 'gauge', name: gauge[1], value };
  }
  const count = COUNT.exec(text);
  if (!count) return { kind: 'bad', problem: `${shown}: expected "NAME N" (a counter) or "NAME=V" (a gauge)` };
  const n = count[2] === undefined ? 1 : Number(count[2]);
  if (!Number.isSafeInteger(n) || n < 0) return { kind: 'bad', problem: `${shown}: a counter adds a whole number ≥ 0` };
  return { kind: 'count', name: count[1], n };
}
