/**
 * The shape of the data a report page reads: the one contract between the Node side that prepares
 * it (lib/report/) and the browser UI (web/report/), which imports these types. Pure types, no
 * imports, so the browser bundle takes nothing else from lib/.
 *
 * Series are columnar: each is a typed array of numbers inside a packed blob (gzip, base64 in the
 * page), one value per sample, NaN where there is none (the first sample's rates, a counter that
 * went backwards, an error sample). Time is seconds since the run started (f64); clock time is
 * `run.startMs` plus that.
 */

/** Where a column lives in its blob's (gunzipped) bytes. */
export interface ColumnRef {
  /** Byte offset (a multiple of 8). */
  offset: number;
  length: number;
  type: 'f32' | 'f64';
}

/** One plotted series. `key` is stable (`cpu.usr`, `disk.vda.wMB_s`) and names its column. */
export interface SeriesMeta {
  key: string;
  label: string;
  /** The axis unit, as shown: `%`, `MB/s`, `IOPS`, `ms`, `GiB`. */
  unit: string;
}

/** One chart of the host view: a title, the unit of its y axis, its series. */
export interface ChartMeta {
  id: string;
  title: string;
  unit: string;
  series: SeriesMeta[];
  /** Series drawn stacked (CPU). */
  stacked?: boolean;
  /** A fixed y range (percentages: 0 to 100). */
  yMax?: number;
  /** A group heading the chart is shown under (`disk vda`, `eth0`). */
  group: string;
}

/** A headline metric of the overview and compare views (one series per host). */
export interface HeadlineMeta {
  key: string;
  label: string;
  unit: string;
  digits: number;
  yMax?: number;
}

export interface AggregateView {
  avg: number | null;
  min: number | null;
  max: number | null;
  p95: number | null;
  count: number;
}

export interface ProcessView {
  key: string;
  name: string;
  cpuAvg: number | null;
  cpuP95: number | null;
  cpuMax: number | null;
  peakRssMiB: number;
  readMiB: number | null;
  writtenMiB: number | null;
  restarts: number;
}

/** The per-host summary table (the `summary` command's figures). */
export interface HostSummaryView {
  samples: number;
  spanSeconds: number;
  intervalSeconds: number | null;
  gaps: number;
  longestGapSeconds: number;
  errorSamples: number;
  errors: { source: string; count: number; first: string }[];
  disks: string[];
  otherDevices: string[];
  metrics: Record<string, AggregateView>;
  processes: ProcessView[];
  app: { name: string; first: number; last: number; perSecond: number | null }[];
}

export interface HostMeta {
  /** Index into the page's hosts across every run (`run:host` would be ambiguous). */
  id: number;
  run: number;
  name: string;
  samples: number;
  /** The overview blob's columns for this host: `t` and one per headline key. */
  overview: Record<string, ColumnRef>;
  /** The host's own blob (detail series), decoded when its view opens. */
  detailBlob: string;
  detail: Record<string, ColumnRef>;
  charts: ChartMeta[];
  summary: HostSummaryView;
  /** Interfaces left out of the charts: no byte moved during the run. */
  idleInterfaces: string[];
}

export interface MarkerView {
  label: string;
  /** Seconds since the run started. */
  t: number;
  /** Only on this host's charts (all hosts when absent). */
  host?: string;
}

export interface RunMeta {
  id: number;
  /** The file it came from, as given. */
  file: string;
  /** Epoch ms of the run's start (the earliest sample), for clock time. */
  startMs: number;
  /** Seconds from the start to the last sample of any host. */
  durationSeconds: number;
  intervalSeconds: number;
  collectionMethod: string;
  overviewBlob: string;
  /** A blob of its own, small, so the fleet row draws before every host's series are decoded. */
  fleetBlob: string;
  /** Fleet series over hosts on a common grid: `t`, and `<key>.avg|min|max` per headline key. */
  fleet: Record<string, ColumnRef>;
  /** Fleet figures per headline key over every sample of every host. */
  fleetSummary: Record<string, { avg: number | null; minHost: string | null; minAvg: number | null; maxHost: string | null; maxAvg: number | null }>;
  markers: MarkerView[];
  warnings: string[];
}

export interface ReportMeta {
  format: 'hostseries-report';
  version: 1;
  title: string;
  generatedAt: string;
  headline: HeadlineMeta[];
  runs: RunMeta[];
  hosts: HostMeta[];
}
