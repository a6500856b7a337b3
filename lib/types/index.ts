/**
 * Every public type of hostseries, in one place: the sample and file shapes (sample.ts), the
 * options and results of collectors (collector.ts, native.ts, host-status.ts), files and sinks
 * (files.ts, sink.ts), rates (rates.ts), hosts and SSH (hosts.ts), error details (errors.ts).
 * lib/index.ts lists what the package exports.
 */
export { METRICS, DISKSTATS_FIELDS, NETDEV_FIELDS, CPU_FIELDS } from './sample.js';
export type {
  Counter, Metric, DiskstatsEntry, NetdevEntry, Loadavg, CpuTimes, StatInfo, ProcessEntry, SampleDict, CollectionMethod, TimeSeriesDataDict,
  TimeSeriesSampleInit, TimeSeriesDataInit, RunInit,
} from './sample.js';
export type { RunMetadata, RunSummary, Sink, SinkEntry } from './sink.js';
export type { Marker } from './markers.js';
export type {
  JsonlSinkOptions, ReadJsonlOptions, SkippedLine, JsonlReadResult, WriteJsonlOptions, WriteJsonOptions, Recording,
  ReadRecordingOptions, FloatSchema, StringifyOptions,
} from './files.js';
export type {
  OverflowPolicy, Logger, CommonOptions, BaseOptions, TimeSeriesCollectorOptions, CustomCollector, Aggregate, WatchTarget, WatchedChild,
  MultiHostTimeSeriesCollectorOptions,
} from './collector.js';
export type { HostStatus, HostState, HostGap, HostReboot } from './host-status.js';
export type { CmdlinePolicy, NativeSamplerCounts, NativeSamplerOptions, SampleOnceOptions } from './native.js';
export type { Rates, DiskRates, NetRates, CpuRates, MemLevels, VmRates, ProcRates, RateInput, IntervalOptions } from './rates.js';
export type {
  HostEntry, ParseHostsOptions, SshOptions, StrictHostKeyChecking, HostKeyVerdict, ResolvedSshConfig, SshConfigOptions,
} from './hosts.js';
export type { PushSinkOptions, PushLogger, PushState, PushStateChange, PushDrop, PushReply, PushQueueStatus } from './push.js';
export type { LifecycleCode, SshPhase } from './errors.js';
