import { backoff } from '../core/scheduler.ts';

export interface BackoffRange {
  minDelayMs: number;
  maxDelayMs: number;
}

/**
 * Wait before reconnection attempt `failures + 1`: min, 2·min, 4·min... capped at max, up to 20 %
 * off at random so that xiaoer instances restarted together do not hit a recovering BMS server in
 * lock-step (the shared backoff of src/core/scheduler.ts).
 */
export function reconnectDelay(
  failures: number,
  range: BackoffRange,
  random: () => number = Math.random,
): number {
  return backoff(Math.max(failures, 0) + 1, range.minDelayMs, range.maxDelayMs, 0.2, random);
}
