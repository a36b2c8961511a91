import type { Instant } from '../domain/types.ts';
import type { Clock } from './clock.ts';

/** Cancels a scheduled task; calling it after the task ran (or twice) does nothing. */
export type Cancel = () => void;

/**
 * Time for everything in xiaoer that waits: rule wake-ups, SLA deadlines, maintenance windows,
 * gateway grace periods, retries. Production uses the system's clock and timers; tests drive a
 * manual one (test/helpers/manual-scheduler.ts) and never sleep.
 */
export interface Scheduler extends Clock {
  /** Runs `task` at `time` (at once if that has passed). */
  at(time: Instant, task: () => void): Cancel;
}

// setTimeout keeps its delay in a signed 32-bit integer; a longer one would fire at once.
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The system clock and timers; a far deadline is reached in steps of at most ~24.8 days. */
export const systemScheduler: Scheduler = {
  now: () => Date.now(),
  at(time, task) {
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      const delay = time - Date.now();
      if (delay > MAX_TIMER_MS) timer = setTimeout(arm, MAX_TIMER_MS);
      else timer = setTimeout(task, Math.max(0, delay));
    };
    arm();
    return () => clearTimeout(timer);
  },
};

/** `after(ms)`: the same, relative to now. */
export function after(scheduler: Scheduler, ms: number, task: () => void): Cancel {
  return scheduler.at(scheduler.now() + ms, task);
}

/** A promise resolved at `time` (e.g. a pause between retries), cancelled with the signal. */
export function sleepUntil(scheduler: Scheduler, time: Instant, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const cancel = scheduler.at(time, resolve);
    signal?.addEventListener(
      'abort',
      () => {
        cancel();
        resolve();
      },
      { once: true },
    );
  });
}

/**
 * Exponential backoff: `base`, doubling per attempt, capped at `max`. Attempt 1 is the first
 * retry. One helper for every retry in xiaoer (log consumers and webhooks, OPC UA reconnects).
 * `jitter` takes up to that share off at random, so clients restarted together do not retry in
 * lock-step; the cap is never exceeded.
 */
export function backoff(
  attempt: number,
  baseMs: number,
  maxMs: number,
  jitter = 0,
  random: () => number = Math.random,
): number {
  const delay = Math.min(maxMs, baseMs * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
  return jitter > 0 ? Math.round(delay * (1 - jitter * random())) : delay;
}

/**
 * One pending wake-up for a component with many deadlines (a heap of them): armed for the
 * earliest, moved only when an earlier one comes. Firing clears it; the owner re-arms.
 */
export class WakeUp {
  readonly #scheduler: Scheduler;
  readonly #fire: () => void;
  #cancel: Cancel | undefined;
  #armedFor: Instant | undefined;

  constructor(scheduler: Scheduler, fire: () => void) {
    this.#scheduler = scheduler;
    this.#fire = fire;
  }

  /** Wakes at `time` unless already armed for that or earlier. */
  armFor(time: Instant): void {
    if (this.#armedFor !== undefined && this.#armedFor <= time) return;
    this.#cancel?.();
    this.#armedFor = time;
    this.#cancel = this.#scheduler.at(time, () => {
      this.#cancel = undefined;
      this.#armedFor = undefined;
      this.#fire();
    });
  }

  cancel(): void {
    this.#cancel?.();
    this.#cancel = undefined;
    this.#armedFor = undefined;
  }
}
