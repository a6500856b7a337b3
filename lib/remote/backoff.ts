/** Exponential backoff with jitter, so hosts that failed together do not retry in lockstep. */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  factor?: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 1000, maxMs: 30_000, factor: 2 };

/** Delay before retry number `attempt` (0-based): the capped exponential, times 0.5–1.0. */
export function backoffDelay(attempt: number, opts: BackoffOptions = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const base = Math.min(opts.maxMs, opts.initialMs * (opts.factor ?? 2) ** Math.min(attempt, 30));
  return Math.round(base * (0.5 + random() * 0.5));
}
