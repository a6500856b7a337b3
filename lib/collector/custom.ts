/**
 * Custom collectors run on each tick beside the native sample. Each is bounded by a timeout;
 * a throw or a timeout lands in the sample's `errors[name]` and never stops collection.
 */
import { InvalidOptionError } from '../errors.js';
import type { CustomCollector } from '../types/collector.js';

export interface CustomResults {
  values: Record<string, unknown>;
  errors: Record<string, string>;
}

const RESERVED = new Set(['diskstats', 'vmstat', 'meminfo', 'loadavg', 'netdev', 'stat', 'ssh']);

export function checkCollectors(collectors: unknown): CustomCollector[] {
  if (collectors === undefined) return [];
  if (!Array.isArray(collectors)) throw new InvalidOptionError('collectors must be an array of { name, collect(signal) }');
  const seen = new Set<string>();
  collectors.forEach((c: unknown, i) => {
    const cc = c as Partial<CustomCollector> | null;
    if (typeof cc?.name !== 'string' || cc.name === '') throw new InvalidOptionError(`collectors[${i}].name must be a non-empty string`);
    if (typeof cc.collect !== 'function') throw new InvalidOptionError(`collectors[${i}] (${cc.name}): collect must be a function`);
    if (RESERVED.has(cc.name)) throw new InvalidOptionError(`collectors[${i}]: name ${JSON.stringify(cc.name)} is reserved for a built-in source`);
    if (seen.has(cc.name)) throw new InvalidOptionError(`collectors[${i}]: duplicate name ${JSON.stringify(cc.name)}`);
    seen.add(cc.name);
  });
  return collectors as CustomCollector[];
}

function message(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

async function runOne(c: CustomCollector, timeoutMs: number, stop: AbortSignal): Promise<{ ok: true; value: unknown } | { ok: false; error: string }> {
  const ac = new AbortController();
  const onStop = (): void => ac.abort(stop.reason);
  stop.addEventListener('abort', onStop, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const e = new Error(`timed out after ${timeoutMs} ms`);
      e.name = 'TimeoutError';
      ac.abort(e);
      reject(e);
    }, timeoutMs);
  });
  try {
    // A collector that ignores its signal is not awaited past the timeout.
    const value = await Promise.race([Promise.resolve().then(() => c.collect(ac.signal)), timeout]);
    return { ok: true, value };
  } catch (e) {
    return { ok: false, error: message(e) };
  } finally {
    clearTimeout(timer);
    stop.removeEventListener('abort', onStop);
  }
}

export async function runCollectors(collectors: readonly CustomCollector[], timeoutMs: number, stop: AbortSignal): Promise<CustomResults> {
  const out: CustomResults = { values: {}, errors: {} };
  const results = await Promise.all(collectors.map((c) => runOne(c, timeoutMs, stop)));
  results.forEach((r, i) => {
    const name = collectors[i].name;
    if (r.ok) out.values[name] = r.value;
    else out.errors[name] = r.error;
  });
  return out;
}
