/**
 * A host's tags as Prometheus labels, the one rule for every remote write (the agent's own
 * `--remote-write`, `serve --prometheus`): a key made a label name (`[a-zA-Z_][a-zA-Z0-9_]*`:
 * `role-x` → `role_x`; a receiver refuses the request otherwise), and `tag_` before one the TSDB,
 * the families or serve use, so a tag never stands for a host's `instance` or a disk's `device`.
 */

/** Label names a tag cannot take: the TSDB's, the families' and ours. */
const RESERVED = new Set(['instance', 'job', 'agent', 'device', 'cpu', 'mode', 'process', 'name', 'kind']);

/** A tag's key as a label name. */
export function tagLabel(key: string): string {
  let name = key.replace(/[^a-zA-Z0-9_]/g, '_');
  if (/^[0-9]/.test(name) || name === '') name = `_${name}`;
  return RESERVED.has(name) || name.startsWith('__') ? `tag_${name}` : name;
}

/** Tags as labels (`tagLabel` of each key; the values as they are). */
export function tagLabels(tags: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(tags).map(([k, v]) => [tagLabel(k), v]));
}
