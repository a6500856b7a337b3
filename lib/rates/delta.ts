/** Exact counter arithmetic for rates: counters may be bigint above 2^53. */
import type { Counter } from '../types/sample.js';

/** b - a, or undefined when the counter went backwards (reset, wrap, reboot). */
export function delta(a: Counter | undefined, b: Counter | undefined): number | undefined {
  if (a === undefined || b === undefined) return undefined;
  const d = typeof a === 'bigint' || typeof b === 'bigint' ? Number(BigInt(b) - BigInt(a)) : b - a;
  return d < 0 ? undefined : d;
}

/** n / d, with a zero divisor giving 0 (as sysstat prints it). */
export function ratio(n: number, d: number): number {
  return d > 0 ? n / d : 0;
}
