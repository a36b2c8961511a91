/** Count, mean, median and 90th percentile of durations, in seconds. */
export interface Stats {
  count: number;
  meanSeconds: number | null;
  medianSeconds: number | null;
  p90Seconds: number | null;
}

/**
 * The nearest-rank percentile: the smallest value with at least p % of the values at or below it,
 * i.e. the value at rank ⌈p/100 × n⌉ (1-based) of the sorted values. Always one of the values,
 * never interpolated; the median is the same method at p = 50 (the lower middle one for even n).
 */
export function nearestRank(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] ?? null;
}

const seconds = (ms: number) => Math.round(ms) / 1000;

/** Stats of durations given in ms. */
export function statsOf(durationsMs: readonly number[]): Stats {
  const sorted = [...durationsMs].sort((a, b) => a - b);
  if (sorted.length === 0) return { count: 0, meanSeconds: null, medianSeconds: null, p90Seconds: null };
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    count: sorted.length,
    meanSeconds: Math.round(sum / sorted.length) / 1000,
    medianSeconds: seconds(nearestRank(sorted, 50) ?? 0),
    p90Seconds: seconds(nearestRank(sorted, 90) ?? 0),
  };
}

/** A share as a fraction 0–1, null when there is nothing to divide by. */
export function ratio(part: number, whole: number): number | null {
  return whole === 0 ? null : part / whole;
}
