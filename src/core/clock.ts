import type { Instant } from '../domain/types.ts';

/**
 * The only source of time for domain code. Production uses the system clock;
 * tests drive it with `vi.useFakeTimers()` / `vi.setSystemTime()`, which also fake `setTimeout`.
 */
export interface Clock {
  now(): Instant;
}

export const systemClock: Clock = { now: () => Date.now() };
