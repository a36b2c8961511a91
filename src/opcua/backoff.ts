export interface BackoffRange {
  minDelayMs: number;
  maxDelayMs: number;
}

/**
 * Wait before reconnection attempt `failures + 1`: min, 2·min, 4·min... capped at max. Up to 20 %
 * is taken off at random so that xiaoer instances restarted together do not hit a recovering BMS
 * server in lock-step; the cap is never exceeded.
 */
export function reconnectDelay(
  failures: number,
  range: BackoffRange,
  random: () => number = Math.random,
): number {
  const exponent = Math.min(Math.max(failures, 0), 30);
  const base = Math.min(range.maxDelayMs, range.minDelayMs * 2 ** exponent);
  return Math.round(base * (1 - 0.2 * random()));
}
