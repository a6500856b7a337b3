/**
 * A timeout of any length. JS timers take at most 2^31 - 1 ms (24.8 days); a longer one fires at
 * once with a TimeoutOverflowWarning, which made `record -d 1000h` stop after 1 ms. Chained
 * timers of at most that each reach any deadline.
 */
import { MAX_TIMEOUT_MS } from '../../collector/options.js';

/** Call `fn` once `ms` milliseconds have passed; returns the function that cancels it. */
export function longTimeout(ms: number, fn: () => void): () => void {
  const deadline = Date.now() + ms;
  let timer: NodeJS.Timeout | undefined;
  const arm = (left: number): void => {
    timer = setTimeout(() => {
      const rest = deadline - Date.now();
      if (rest > 0) arm(rest);
      else fn();
    }, Math.min(Math.max(left, 0), MAX_TIMEOUT_MS));
  };
  arm(ms);
  return () => clearTimeout(timer);
}
