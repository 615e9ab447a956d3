// Exponential backoff for retryable failures: base * 2^(attempt-1), capped, with +-20 % jitter so
// jobs that failed together (a destination went down) do not all come back in the same second.
export interface BackoffOptions {
  readonly baseMs: number;
  readonly maxMs: number;
  /** 0..1; 0 makes delays exact (tests). */
  readonly jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = Object.freeze({ baseMs: 1_000, maxMs: 300_000, jitter: 0.2 });

/** Delay before attempt `attempt + 1`, where `attempt` (>= 1) is the number of runs that failed so far. */
export function backoffDelay(attempt: number, opts: BackoffOptions = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const exp = opts.baseMs * 2 ** Math.max(0, attempt - 1);
  const capped = Math.min(opts.maxMs, exp);
  const spread = capped * opts.jitter * (2 * random() - 1);
  return Math.max(0, Math.round(capped + spread));
}
