export { TimeSeriesSample, type TimeSeriesSampleInit } from './sample.js';
export { TimeSeriesData, type RunInit, type TimeSeriesDataInit } from './data.js';
