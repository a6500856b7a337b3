export type { RunMetadata, RunSummary, Sink, SinkEntry } from './sink.js';
export { JsonlSink, type JsonlSinkOptions } from './jsonl-sink.js';
export { readTimeSeriesJsonl, convertJsonlToJson, type JsonlReadResult, type ReadJsonlOptions, type SkippedLine } from './jsonl-read.js';
export { writeTimeSeriesJsonl, timeSeriesJsonlChunks, type WriteJsonlOptions } from './jsonl-write.js';
export { readTimeSeriesJson, writeTimeSeriesJson, timeSeriesJsonChunks, type WriteJsonOptions } from './json-file.js';
export { readRecording, type Recording, type ReadRecordingOptions } from './read-recording.js';
export { JSONL_FORMAT, JSONL_VERSION } from './jsonl-format.js';
