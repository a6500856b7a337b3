/**
 * hostseries: time series of Linux host metrics while a benchmark runs, on one node or a
 * cluster over SSH, written as the mlpstorage TimeSeriesData JSON.
 */
export * from './errors.js';
export * from './types.js';
export {
  sampleOnce, parseDiskstats, parseVmstat, parseMeminfo, parseLoadavg, parseNetDev, parseStat,
  NativeSampler, type NativeSamplerOptions, type SampleOnceOptions,
} from './native/sampler.js';
export * from './models/index.js';
export * from './collector/index.js';
export * from './rates/index.js';
export * from './files/index.js';
export { stringifyJson, parseJson, stringifySample } from './json/index.js';
export * from './hosts/index.js';
export * from './remote/index.js';
