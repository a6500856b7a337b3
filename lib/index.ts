/**
 * hostseries: time series of Linux host metrics while a benchmark runs, on one node or a
 * cluster over SSH, written as the mlpstorage TimeSeriesData JSON.
 *
 * The public API, listed: every name the package exports is here, by name (no `export *`), and
 * every public type lives in ./types/. __test__/exports.spec.ts snapshots this list, so an
 * export added or removed by accident shows in review.
 */

// Errors: every error thrown is a HostseriesError with a stable `code`.
export {
  HostseriesError, InvalidOptionError, LifecycleError, InvalidDataError, FileError, InvalidHostError, SshError,
  NativeError, UnsupportedPlatformError, RemoteWriteError, PromQueryError, PushError, QueueLockedError,
} from './errors.js';

// Collecting on this host, and across hosts over SSH.
export { TimeSeriesCollector } from './collector/time-series-collector.js';
export { MultiHostTimeSeriesCollector } from './remote/multi-collector.js';
export { NativeSampler, sampleOnce, setChildSubreaper } from './native/sampler.js';

// The mlpstorage data model.
export { TimeSeriesSample } from './models/sample.js';
export { TimeSeriesData } from './models/data.js';
export { METRICS, DISKSTATS_FIELDS, NETDEV_FIELDS, CPU_FIELDS } from './types/index.js';

// Derived rates and aggregates.
export { computeRates, intervalSeconds } from './rates/compute.js';
export { aggregate, summarize, series, valueAt } from './collector/aggregate.js';

// Files: the TimeSeriesData JSON, the crash-safe JSON Lines stream, and the exact JSON text.
export { readTimeSeriesJson, writeTimeSeriesJson, timeSeriesJsonChunks } from './files/json-file.js';
export { JsonlSink } from './files/jsonl-sink.js';
export { readTimeSeriesJsonl, convertJsonlToJson } from './files/jsonl-read.js';
export { writeTimeSeriesJsonl, timeSeriesJsonlChunks } from './files/jsonl-write.js';
export { JSONL_FORMAT, JSONL_VERSION } from './files/jsonl-format.js';
export { stringifyJson } from './json/stringify.js';
export { parseJson } from './json/parse.js';
export { stringifySample } from './json/sample.js';
export { readRecording } from './files/read-recording.js';

// Prometheus: node_exporter's names for a sample, the exposition formats, /metrics, remote write.
export { sampleFamilies, NODE_EXPORTER_DISK_EXCLUDE, NODE_EXPORTER_NET_EXCLUDE, NODE_EXPORTER_VMSTAT_FIELDS } from './prometheus/families.js';
export { formatExposition, mergeFamilies, TEXT_CONTENT_TYPE, OPENMETRICS_CONTENT_TYPE } from './prometheus/exposition.js';
export { startMetricsServer, metricsRoute, metricsText } from './prometheus/endpoint.js';
export { toTimeSeries, encodeWriteRequest, decodeWriteRequest, REMOTE_WRITE_HEADERS } from './prometheus/remote-write.js';
export { RemoteWriter } from './prometheus/remote-writer.js';
export { FULL_FIDELITY } from './prometheus/families.js';
export { samplesFromSeries } from './prometheus/samples.js';
export { PromQuery } from './prometheus/query.js';
export type { MetricFamily, FamilyType, FamilyOptions, Series as MetricSeries } from './prometheus/families.js';
export type { ExpositionOptions } from './prometheus/exposition.js';
export type { MetricsSource, MetricsServer } from './prometheus/endpoint.js';
export type { TimeSeries as RemoteTimeSeries, RemoteSample, Label as RemoteLabel, WriteRequestBody, MetricMetadata, SeriesOptions } from './prometheus/remote-write.js';
export type { RemoteWriterOptions, RemoteWriterStats } from './prometheus/remote-writer.js';
export type { StoredSeries } from './prometheus/samples.js';
export type { PromQueryOptions } from './prometheus/query.js';
// Push mode: a sink that pushes to `hostseries serve`, queueing on disk through outages.
export { PushSink } from './push/push-sink.js';

// The /proc parsers (the native ones the sampler uses).
export { parseDiskstats, parseVmstat, parseMeminfo, parseLoadavg, parseNetDev, parseStat } from './native/sampler.js';

// Host lists, localhost detection, SSH configuration and host keys.
export { parseHosts, parseHostfile, hostsFromSlurm, formatHost } from './hosts/parse.js';
export { isLocalhost, isLocalhostSync, resolveLocalFqdn } from './hosts/localhost.js';
export { resolveSshConfig } from './remote/ssh-config.js';
export { KnownHosts, knownHostsName, fingerprint } from './remote/known-hosts.js';

export type {
  // samples and files
  Counter, Metric, DiskstatsEntry, NetdevEntry, Loadavg, CpuTimes, StatInfo, ProcessEntry, SampleDict, CollectionMethod,
  TimeSeriesDataDict, TimeSeriesSampleInit, TimeSeriesDataInit, RunInit,
  Marker,
  RunMetadata, RunSummary, Sink, SinkEntry, JsonlSinkOptions, JsonlReadResult, ReadJsonlOptions, SkippedLine, WriteJsonlOptions,
  WriteJsonOptions, Recording, ReadRecordingOptions, FloatSchema, StringifyOptions,
  // collectors
  TimeSeriesCollectorOptions, OverflowPolicy, Logger, CustomCollector, Aggregate, WatchTarget, WatchedChild,
  MultiHostTimeSeriesCollectorOptions, HostStatus, HostState, HostGap, HostReboot,
  CmdlinePolicy, NativeSamplerCounts, NativeSamplerOptions, SampleOnceOptions,
  // rates
  Rates, DiskRates, NetRates, CpuRates, MemLevels, VmRates, ProcRates, RateInput, IntervalOptions,
  // hosts and SSH
  HostEntry, ParseHostsOptions, SshOptions, StrictHostKeyChecking, HostKeyVerdict, ResolvedSshConfig, SshConfigOptions,
  // push
  PushSinkOptions, PushLogger, PushState, PushStateChange, PushDrop, PushReply, PushQueueStatus,
  // errors
  LifecycleCode, SshPhase,
} from './types/index.js';
