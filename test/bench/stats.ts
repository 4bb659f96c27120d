/**
 * The arithmetic of a bench run, kept apart so that it can be unit-tested
 * (test/unit/bench-stats.test.ts): percentiles by the nearest-rank method, throughput, and the
 * ratio of our figure to oidc-provider's.
 */

export interface Summary {
  /** Requests (or flows, or verifications) that succeeded; only these have a latency. */
  count: number;
  /** Those that failed (an unexpected status, a refused token...). */
  errors: number;
  seconds: number;
  /** Successes per second of wall time. */
  perSecond: number;
  /** Latencies in milliseconds; NaN when nothing completed. */
  p50: number;
  p99: number;
}

/**
 * The p-th percentile of ascending samples, nearest rank: the smallest sample such that at least
 * p % of the samples are at or below it (rank ceil(p/100 * n)). NaN for no samples.
 */
export function percentile(ascending: readonly number[], p: number): number {
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile must be in (0, 100], got ${p}`);
  if (ascending.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * ascending.length);
  return ascending[rank - 1]!;
}

export function summarize(latenciesMs: readonly number[], seconds: number, errors: number): Summary {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  return {
    count: sorted.length,
    errors,
    seconds,
    perSecond: seconds > 0 ? sorted.length / seconds : Number.NaN,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
  };
}

/** ours / theirs, or undefined when either side has no figure (not available, or zero). */
export function ratio(ours: number | undefined, theirs: number | undefined): number | undefined {
  if (ours === undefined || theirs === undefined) return undefined;
  if (!Number.isFinite(ours) || !Number.isFinite(theirs) || theirs === 0) return undefined;
  return ours / theirs;
}

/** The median of unsorted samples (the 50th percentile, nearest rank). */
export function median(samples: readonly number[]): number {
  return percentile([...samples].sort((a, b) => a - b), 50);
}
