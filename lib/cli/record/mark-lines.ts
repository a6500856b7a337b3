/**
 * The lines a wrapped command writes to `HOSTSERIES_MARK_FD`: `mark LABEL` puts a marker at that
 * instant (`echo "mark epoch 3" >&$HOSTSERIES_MARK_FD`); blank lines and `#` comments are
 * skipped; anything else is refused with a message naming the line.
 */
import { MAX_MARKER_LABEL } from '../../models/markers.js';

export type MarkLine = { kind: 'mark'; label: string } | { kind: 'bad'; problem: string };

export function parseMarkLine(line: string): MarkLine | undefined {
  const text = (line.endsWith('\r') ? line.slice(0, -1) : line).trim();
  if (text === '' || text.startsWith('#')) return undefined;
  const shown = JSON.stringify(text.length > 80 ? text.slice(0, 80) + '…' : text);
  const m = /^mark\s+(.+)$/.exec(text);
  if (!m) return { kind: 'bad', problem: `${shown}: expected "mark LABEL"` };
  if (m[1].length > MAX_MARKER_LABEL) return { kind: 'bad', problem: `${shown}: a label has at most ${MAX_MARKER_LABEL} characters` };
  return { kind: 'mark', label: m[1] };
}
