export { TimeSeriesCollector, type TimeSeriesCollectorOptions, type OverflowPolicy, type Logger } from './time-series-collector.js';
export { aggregate, summarize, series, valueAt, type Aggregate } from './aggregate.js';
export type { CustomCollector } from './custom.js';
export { MIN_INTERVAL_SECONDS, MAX_INTERVAL_SECONDS } from './options.js';
