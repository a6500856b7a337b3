/** A frame of raw /proc text → a sample dict, through the same native parsers as local samples. */
import { isoSeconds, parseDiskstats, parseLoadavg, parseMeminfo, parseNetDev, parseStat, parseVmstat } from '../native.js';
import type { Metric, SampleDict } from '../types.js';
import type { SampleFrame } from './frames.js';

const PARSERS: { [M in Metric]: (text: Buffer) => NonNullable<SampleDict[M]> } = {
  diskstats: parseDiskstats,
  vmstat: parseVmstat,
  meminfo: parseMeminfo,
  loadavg: parseLoadavg,
  netdev: parseNetDev,
  stat: parseStat,
};

/** Wall-clock ns → the sample's `timestamp` and `timestamp_ns`. */
export function stamp(wallNs: bigint): Pick<SampleDict, 'timestamp' | 'timestamp_ns'> {
  return { timestamp: isoSeconds(Number(wallNs / 1_000_000n)), timestamp_ns: wallNs };
}

/**
 * `wallNs` is the collector's tick time (so samples of all hosts line up); `metrics` fixes the
 * key order. A file the remote could not read, or text the parser rejects, becomes an error entry.
 */
export function frameToSample(frame: SampleFrame, hostname: string, wallNs: bigint, metrics: readonly Metric[]): SampleDict {
  const s: SampleDict = { ...stamp(wallNs), hostname };
  let errors: Record<string, string> | undefined;
  for (const m of metrics) {
    const text = frame.sections[m];
    if (text === undefined) {
      (errors ??= {})[m] = frame.missing.includes(m) ? `cannot read ${m} on the remote host` : `${m} missing from the frame`;
      continue;
    }
    try {
      (s as unknown as Record<string, unknown>)[m] = PARSERS[m](text);
    } catch (e) {
      (errors ??= {})[m] = (e as Error).message;
    }
  }
  if (errors) s.errors = errors;
  return s;
}

/** The reference shape of a slot a host could not fill. */
export function errorSample(hostname: string, wallNs: bigint, message: string): SampleDict {
  return { ...stamp(wallNs), hostname, errors: { ssh: message } };
}
