/**
 * Every public type of hostseries, in one place (lib/index.ts lists what is exported).
 */
export { METRICS, DISKSTATS_FIELDS, NETDEV_FIELDS, CPU_FIELDS } from '../types.js';
export type {
  Counter, Metric, DiskstatsEntry, NetdevEntry, Loadavg, CpuTimes, StatInfo, SampleDict, CollectionMethod, TimeSeriesDataDict,
} from '../types.js';
export type { TimeSeriesSampleInit } from '../models/sample.js';
export type { TimeSeriesDataInit } from '../models/data.js';
export type { RunMetadata, RunSummary, Sink, SinkEntry } from '../files/sink.js';
export type { JsonlSinkOptions } from '../files/jsonl-sink.js';
export type { JsonlReadResult, ReadJsonlOptions } from '../files/jsonl-read.js';
export type { WriteJsonlOptions } from '../files/jsonl-write.js';
export type { WriteJsonOptions } from '../files/json-file.js';
export type { FloatSchema, StringifyOptions } from '../json/stringify.js';
export type { TimeSeriesCollectorOptions } from '../collector/time-series-collector.js';
export type { OverflowPolicy, Logger } from '../collector/options.js';
export type { CustomCollector } from '../collector/custom.js';
export type { Aggregate } from '../collector/aggregate.js';
export type { MultiHostTimeSeriesCollectorOptions } from '../remote/multi-collector.js';
export type { HostStatus, HostState, HostGap, HostReboot } from '../remote/host-status.js';
export type { NativeSamplerOptions, SampleOnceOptions } from '../native/sampler.js';
export type { Rates, DiskRates, NetRates, CpuRates, MemLevels, VmRates, RateInput } from '../rates/index.js';
export type { HostEntry, ParseHostsOptions } from '../hosts/parse.js';
export type { SshOptions } from '../remote/options.js';
export type { StrictHostKeyChecking, HostKeyVerdict } from '../remote/known-hosts.js';
export type { ResolvedSshConfig, SshConfigOptions } from '../remote/ssh-config.js';
export type { LifecycleCode, SshPhase } from '../errors.js';
