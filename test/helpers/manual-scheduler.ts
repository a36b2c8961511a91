import type { Cancel, Scheduler } from '../../src/core/scheduler.ts';
import type { Instant } from '../../src/domain/types.ts';

interface Task {
  time: Instant;
  seq: number;
  run: () => void;
  cancelled: boolean;
}

/**
 * A scheduler whose time moves only when the test says so. `advance` runs every task that falls
 * due, in time order, letting the promises they start settle between tasks, so a test observes
 * exactly what production would at those instants, without sleeping.
 */
export class ManualScheduler implements Scheduler {
  #now: Instant;
  #seq = 0;
  readonly #tasks: Task[] = [];

  constructor(now: Instant) {
    this.#now = now;
  }

  now(): Instant {
    return this.#now;
  }

  at(time: Instant, run: () => void): Cancel {
    const task: Task = { time, seq: this.#seq++, run, cancelled: false };
    this.#tasks.push(task);
    return () => {
      task.cancelled = true;
    };
  }

  /** Tasks still waiting (not cancelled). */
  get pending(): number {
    return this.#tasks.filter((t) => !t.cancelled).length;
  }

  async advance(ms: number): Promise<void> {
    await this.advanceTo(this.#now + ms);
  }

  async advanceTo(time: Instant): Promise<void> {
    await settle();
    for (;;) {
      const next = this.#next(time);
      if (!next) break;
      this.#now = Math.max(this.#now, next.time);
      next.cancelled = true;
      next.run();
      await settle();
    }
    this.#now = Math.max(this.#now, time);
    await settle();
  }

  #next(until: Instant): Task | undefined {
    let best: Task | undefined;
    for (const t of this.#tasks) {
      if (t.cancelled || t.time > until) continue;
      if (!best || t.time < best.time || (t.time === best.time && t.seq < best.seq)) best = t;
    }
    if (best) this.#tasks.splice(this.#tasks.indexOf(best), 1);
    // Drop what was cancelled, so a long test does not keep every timer it ever armed.
    for (let i = this.#tasks.length - 1; i >= 0; i--) if (this.#tasks[i]?.cancelled) this.#tasks.splice(i, 1);
    return best;
  }
}

/** Lets pending promise chains (store writes, handlers) run to completion: a macrotask turn. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}
