export { TimeSeriesCollector, type TimeSeriesCollectorOptions, type OverflowPolicy, type Logger } from './local.js';
export { aggregate, summarize, series, valueAt, type Aggregate } from './aggregate.js';
export type { CustomCollector } from './custom.js';
