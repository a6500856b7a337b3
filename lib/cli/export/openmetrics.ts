/**
 * OpenMetrics text (what `promtool tsdb create-blocks-from openmetrics` backfills), timestamps in
 * seconds. Raw counters under node_exporter's names and units (lib/prometheus/families.ts, every
 * device and field: FULL_FIDELITY), with a `host` label, so backfilled data fits the dashboards
 * written for node_exporter; rates, which node_exporter has no names for, one family per field
 * (`hostseries_rate_disk_util{host,device}`).
 * The format wants each family's lines together and a series' lines together, while a recording
 * holds them sample by sample: lines are spooled per series, to files in a private temporary
 * directory once memory holds `spillBytes`, and put together at the end (bounded memory).
 */
import { createReadStream } from 'node:fs';
import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FULL_FIDELITY, sampleFamilies } from '../../prometheus/families.js';
import type { Value } from '../../views/metrics.js';
import type { ExportRow } from './rows.js';

type Kind = 'counter' | 'gauge' | 'unknown';

/** Which raw fields are gauges (levels); everything else a raw sample holds is a counter. */
function rawKind(section: string, field: string): Kind {
  switch (section) {
    case 'diskstats': return field === 'ios_in_progress' ? 'gauge' : 'counter';
    case 'netdev': return 'counter';
    case 'stat': return ['btime', 'procs_running', 'procs_blocked'].includes(field) ? 'gauge' : 'counter';
    case 'vmstat': return field.startsWith('nr_') ? 'gauge' : 'counter';
    case 'processes': return ['cpu_user_ticks', 'cpu_system_ticks', 'minor_faults', 'major_faults', 'voluntary_ctxt_switches',
      'involuntary_ctxt_switches', 'read_bytes', 'write_bytes', 'read_chars', 'write_chars'].includes(field) ? 'counter' : 'gauge';
    default: return 'gauge';
  }
}

const ENTITY_LABEL: Record<string, string> = {
  diskstats: 'device', disk: 'device', netdev: 'interface', net: 'interface', stat: 'cpu', cpu: 'cpu', processes: 'process', proc: 'process',
};

const sanitize = (s: string): string => s.replace(/[^a-zA-Z0-9_]/g, '_');
const labelValue = (s: string): string => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const num = (v: Value): string => (typeof v === 'bigint' ? v.toString() : Number.isNaN(v) ? 'NaN' : v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : String(v));

interface Series {
  lines: string[];
  bytes: number;
  file?: string;
}

interface Family {
  kind: Kind;
  series: Map<string, Series>;
}

export class OpenMetricsSpool {
  private readonly families = new Map<string, Family>();
  private held = 0;
  private dir: string | undefined;
  private files = 0;

  constructor(private readonly rates: boolean, private readonly spillBytes = 4 << 20) {}

  async add(row: ExportRow): Promise<void> {
    const ts = (row.ns / 1e9).toFixed(3);
    const host = `host="${labelValue(row.host)}"`;
    if (!this.rates && row.sample) {
      for (const f of sampleFamilies(row.sample.toDict(), FULL_FIDELITY)) {
        // OpenMetrics names a counter family without the `_total` its samples carry.
        const family = f.type === 'counter' ? f.name.replace(/_total$/, '') : f.name;
        const kind: Kind = f.type === 'untyped' ? 'unknown' : f.type;
        for (const s of f.series) {
          const labels = host + s.labels.map(([k, v]) => `,${k}="${labelValue(v)}"`).join('');
          this.put(family, kind, labels, `${f.name}{${labels}} ${num(s.value)} ${ts}\n`);
        }
      }
    } else {
      for (const [section, entity, field, v] of row.values) {
        const kind: Kind = this.rates ? 'gauge' : rawKind(section, field);
        const family = `hostseries_${this.rates ? 'rate_' : ''}${sanitize(section)}_${sanitize(field)}`;
        const labels = host + (entity === '' ? '' : `,${ENTITY_LABEL[section] ?? 'name'}="${labelValue(entity)}"`);
        this.put(family, kind, labels, `${family}${kind === 'counter' ? '_total' : ''}{${labels}} ${num(v)} ${ts}\n`);
      }
    }
    if (this.held >= this.spillBytes) await this.spill();
  }

  private put(family: string, kind: Kind, labels: string, text: string): void {
    let f = this.families.get(family);
    if (!f) this.families.set(family, (f = { kind, series: new Map() }));
    let s = f.series.get(labels);
    if (!s) f.series.set(labels, (s = { lines: [], bytes: 0 }));
    s.lines.push(text);
    s.bytes += text.length;
    this.held += text.length;
  }

  private async spill(): Promise<void> {
    this.dir ??= await mkdtemp(join(tmpdir(), 'hostseries-export-'));
    for (const f of this.families.values()) {
      for (const s of f.series.values()) {
        if (s.lines.length === 0) continue;
        s.file ??= join(this.dir, String(this.files++));
        await appendFile(s.file, s.lines.join(''));
        s.lines = [];
        s.bytes = 0;
      }
    }
    this.held = 0;
  }

  /** The whole exposition, family by family, ending with `# EOF`; the spool files are removed after. */
  async *text(): AsyncGenerator<string> {
    try {
      for (const [name, f] of this.families) {
        yield `# TYPE ${name} ${f.kind}\n`;
        for (const s of f.series.values()) {
          if (s.file) for await (const chunk of createReadStream(s.file, { encoding: 'utf8', highWaterMark: 1 << 16 })) yield chunk as string;
          if (s.lines.length > 0) yield s.lines.join('');
        }
      }
      yield '# EOF\n';
    } finally {
      if (this.dir) await rm(this.dir, { recursive: true, force: true });
    }
  }
}
