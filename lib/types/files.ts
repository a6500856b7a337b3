/** Options and results of the file readers and writers, and of the exact JSON text. */
import type { TimeSeriesData } from '../models/data.js';

export interface JsonlSinkOptions {
  /** Gzip the stream (default: when the path ends with `.gz`). */
  gzip?: boolean;
  gzipLevel?: number;
  /** Longest time between fsyncs, ms (default 10 000; 0: after every write; Infinity: at close only). */
  fsyncIntervalMs?: number;
  /**
   * Replace an existing regular file (default false: refuse it with a FileError, EEXIST). A
   * directory, symbolic link, device, FIFO or socket is never replaced.
   */
  overwrite?: boolean;
}

export interface ReadJsonlOptions {
  /**
   * Refuse a corrupt line (invalid JSON or invalid data followed by more lines): the first one
   * throws an InvalidDataError naming the file and the line. Default false: such lines are
   * skipped and listed in `skipped`. A torn last line, what a kill leaves, is skipped either way.
   */
  strict?: boolean;
}

/** A line the reader left out, with why. Lines count from 1. */
export interface SkippedLine {
  line: number;
  message: string;
}

export interface JsonlReadResult {
  data: TimeSeriesData;
  /** Lines left out: a torn last line (a kill) and, unless `strict`, corrupt lines. */
  skipped: SkippedLine[];
  /** `skipped.length`. */
  skippedLines: number;
  /** The footer was there: the writer closed the stream. */
  complete: boolean;
  /** What the file says that disagrees with what it holds (e.g. its `num_samples`). */
  warnings: string[];
}

export interface WriteJsonlOptions {
  /** Gzip the file (default: when the path ends with `.gz`). */
  gzip?: boolean;
  gzipLevel?: number;
  /**
   * Replace an existing regular file (default false: an existing path is refused with a
   * FileError). A directory, symbolic link, device, FIFO or socket is never replaced.
   */
  overwrite?: boolean;
}

export interface WriteJsonOptions {
  /** Gzip the file (default: when the path ends with `.gz`). */
  gzip?: boolean;
  gzipLevel?: number;
  /** Spaces per level (default 2, as mlpstorage). */
  indent?: number;
  /**
   * Replace an existing regular file (default false: an existing path is refused with a
   * FileError). A directory, symbolic link, device, FIFO or socket is never replaced.
   */
  overwrite?: boolean;
}

export interface Recording {
  data: TimeSeriesData;
  format: 'json' | 'jsonl';
  /** False for a stream whose writer did not finish (killed or still running). */
  complete: boolean;
  /** Lines of a stream left out: a torn last line, corrupt lines (see `ReadJsonlOptions.strict`). */
  skipped: SkippedLine[];
  /** `skipped.length`. */
  skippedLines: number;
  /** What the file says that disagrees with what it holds, e.g. a `num_samples` that is not the count of samples. */
  warnings: string[];
}

export type ReadRecordingOptions = ReadJsonlOptions;

/** `true` marks a float; an object maps keys (or `'*'` for any key or array index) to sub-schemas. */
export type FloatSchema = true | { readonly [key: string]: FloatSchema | undefined };

export interface StringifyOptions {
  /** Spaces per level (Python's `indent`); omit for the compact one-line form. */
  indent?: number;
  /** Nesting level the value starts at, for writing a value inside a larger document. */
  level?: number;
  /** Where floats live (default: the format's float fields, see `stringifyJson`). */
  floats?: FloatSchema;
}
