/**
 * The series a sample path (`meminfo.MemAvailable`, `diskstats.sda.time_doing_ios_ms`,
 * `stat.cpu.idle`) is rebuilt from (samples.ts), so that `serve --prometheus` reads only those
 * instead of whole sections: names as families.ts writes them, with the labels that pick one
 * device, interface, CPU, process or counter. The samples rebuilt from these series give each path
 * the value the samples rebuilt from all of them give (__test__/serve-prometheus.spec holds the
 * two equal), with one condition the reader checks (`cpuAllModes`).
 */
import { CPU_FIELDS } from '../types/sample.js';
import { DISK, memName, NET } from './families.js';
import { LOAD_NAMES, STAT_NAMES } from './samples.js';

/** The aggregate CPU line's series (families.ts `aggregateCpu`). */
export const CPU_ALL = 'hostseries_cpu_all_seconds_total';

/** The series to read for some paths: per set of label matchers, the names (regular expressions). */
export interface PathSeries {
  /** Label matchers beside name and instance (`device="sda"`, '' for none) → name patterns. */
  groups: Map<string, Set<string>>;
  /**
   * Modes of `hostseries_cpu_all_seconds_total` every sample read must have: a path of the
   * aggregate line or a scalar of /proc/stat is read from that series, where a sample without it
   * would take its `stat` from every CPU's (samples.ts `sumCpus`). A reader that finds a sample
   * without them reads the whole section instead.
   */
  cpuAllModes: Set<string>;
}

/** `s` matched literally inside a regular expression (RE2, as PromQL's `=~`). */
export const literal = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const quote = (s: string): string => JSON.stringify(s);

const DISK_NAME = new Map(DISK.map(([field, name]) => [field, name]));
const NET_NAME = new Map(NET.map(([field, stat]) => [field, `node_network_${stat}_total`]));
const STAT_NAME = new Map([...STAT_NAMES].map(([name, field]) => [field, name]));
const LOAD_NAME = new Map([...LOAD_NAMES].map(([name, field]) => [field, name]));

/**
 * The series `paths` are rebuilt from, `always` (a name every sample has) among them; undefined
 * where a path is not a sample value this can narrow (`collectors.`, a bare section).
 */
export function seriesOfPaths(paths: readonly string[], always: string): PathSeries | undefined {
  const groups = new Map<string, Set<string>>();
  const cpuAllModes = new Set<string>();
  const cpus = new Set<string>();
  const add = (matchers: string, ...names: string[]): void => {
    let g = groups.get(matchers);
    if (!g) groups.set(matchers, (g = new Set()));
    for (const n of names) g.add(n);
  };
  add('', literal(always));
  for (const path of paths) {
    const [section, ...rest] = path.split('.');
    const key = rest.join('.');
    // A list's entry is named by what lies between the section and the field (`eth0.100`).
    const entry = rest.slice(0, -1).join('.');
    const field = rest[rest.length - 1];
    if (rest.length === 0) return undefined;
    switch (section) {
      case 'meminfo': {
        // `Active(anon)` is written `node_memory_Active_anon_bytes`; the huge page counts without `_bytes`.
        const bare = literal(`node_memory_${memName(key)}`);
        add('', bare, `${bare}_bytes`);
        break;
      }
      case 'vmstat':
        add('', literal(`node_vmstat_${key}`));
        break;
      case 'loadavg': {
        // A sample has its loadavg where it has the 1-minute load (samples.ts).
        const name = LOAD_NAME.get(key);
        if (name) add('', literal(name), 'node_load1');
        break;
      }
      case 'app':
        add(`name=${quote(key)}`, 'hostseries_app_value');
        break;
      case 'diskstats': {
        const name = rest.length > 1 ? DISK_NAME.get(field) : undefined;
        if (name) add(`device=${quote(entry)}`, literal(name));
        break;
      }
      case 'netdev': {
        const name = rest.length > 1 ? NET_NAME.get(field) : undefined;
        if (name) add(`device=${quote(entry)}`, literal(name));
        break;
      }
      case 'processes':
        if (rest.length > 1) add(`process=${quote(entry)}`, 'hostseries_process_.+');
        break;
      case 'stat':
        if (rest[0] === 'cpu') {
          if (rest.length === 2 && (CPU_FIELDS as readonly string[]).includes(field)) cpuAllModes.add(field);
        } else if (rest[0] === 'cpus') {
          if (rest.length === 3 && rest[1].startsWith('cpu')) cpus.add(rest[1].slice(3));
        } else {
          const name = STAT_NAME.get(key);
          // A sample has its `stat` where it has a CPU line: the aggregate one, here.
          if (name) {
            add('', literal(name));
            cpuAllModes.add('user');
          }
        }
        break;
      default:
        return undefined;
    }
  }
  if (cpuAllModes.size) add(`mode=~${quote([...cpuAllModes].map(literal).join('|'))}`, CPU_ALL);
  if (cpus.size) add(`cpu=~${quote([...cpus].map(literal).join('|'))}`, 'node_cpu_seconds_total', 'node_cpu_guest_seconds_total');
  return { groups, cpuAllModes };
}
