/** Small, pure statistics for the benchmark report. */

/**
 * The p-th percentile (0..100) by the nearest-rank method: the smallest sample with at least p%
 * of the samples at or below it. Always an observed value, so a p99 over 300 samples is the 3rd
 * largest rather than an interpolation between two outliers. NaN for no samples.
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  if (p <= 0) return sorted[0] as number;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(rank, sorted.length) - 1] as number;
}

export interface LatencySummary {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

export function summarizeLatencies(samples: readonly number[]): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.length ? (sorted[sorted.length - 1] as number) : Number.NaN,
  };
}

export interface RepSummary {
  median: number;
  min: number;
  max: number;
}

/** Median over repetitions (the middle one of three), with the spread. */
export function summarizeReps(values: readonly number[]): RepSummary {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN };
  const mid = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return { median, min: sorted[0] as number, max: sorted[sorted.length - 1] as number };
}

/** Rate between two counter readings taken `elapsedMs` apart. */
export function ratePerSecond(before: number, after: number, elapsedMs: number): number {
  return elapsedMs > 0 ? ((after - before) * 1000) / elapsedMs : Number.NaN;
}

/**
 * Latencies of matched events: for each key, the time it was sent and the first time it was
 * seen. Keys seen but never sent (or sent before the measured period) are left out.
 */
export function matchLatencies(
  sent: ReadonlyMap<string, number>,
  seen: ReadonlyMap<string, number>,
  toMs = 1,
): number[] {
  const out: number[] = [];
  for (const [key, at] of seen) {
    const start = sent.get(key);
    if (start !== undefined) out.push((at - start) * toMs);
  }
  return out;
}

export function formatRate(n: number): string {
  if (!Number.isFinite(n)) return '–';
  return Math.round(n).toLocaleString('en-US');
}

export function formatMs(n: number): string {
  if (!Number.isFinite(n)) return '–';
  return n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : Math.round(n).toLocaleString('en-US');
}

export function formatRatio(n: number): string {
  return Number.isFinite(n) ? n.toFixed(2) : '–';
}

const MiB = 2 ** 20;

/** Bytes as whole MiB, or a dash. */
export function formatMiB(bytes: number): string {
  return Number.isFinite(bytes) ? Math.round(bytes / MiB).toString() : '–';
}

/** A target's verdict: met, missed (bold), or nothing when it does not apply. */
export function verdict(ok: boolean | undefined): string {
  return ok === undefined ? '' : ok ? 'met' : '**missed**';
}
