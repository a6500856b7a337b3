export { TimeSeriesSample, type TimeSeriesSampleInit } from './sample.js';
export { TimeSeriesData, type TimeSeriesDataInit } from './data.js';
