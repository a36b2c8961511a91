import type { Logger } from '../core/logger.ts';
import { type Scheduler, WakeUp } from '../core/scheduler.ts';
import type { AlarmTransition } from '../domain/types.ts';
import type { RuleEngine } from './engine.ts';

/** After a failure to record, the reverted changes are due again at once: wait this long first. */
const RETRY_MS = 1000;

/**
 * One wake-up for every rule's timing (duration, debounce, silence): armed for the engine's
 * earliest, moved after each evaluation that may have brought it forward.
 */
export class RuleTimer {
  readonly #engine: RuleEngine;
  readonly #scheduler: Scheduler;
  readonly #log: Logger;
  readonly #onDue: (transitions: AlarmTransition[]) => Promise<void>;
  readonly #wake: WakeUp;
  #running = false;
  #firing: Promise<void> | undefined;

  constructor(deps: {
    engine: RuleEngine;
    scheduler: Scheduler;
    log: Logger;
    onDue(transitions: AlarmTransition[]): Promise<void>;
  }) {
    this.#engine = deps.engine;
    this.#scheduler = deps.scheduler;
    this.#log = deps.log;
    this.#onDue = deps.onDue;
    this.#wake = new WakeUp(deps.scheduler, () => this.#fire());
  }

  start(): void {
    this.#running = true;
    this.poke();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#wake.cancel();
    await this.#firing;
  }

  /** Called after anything that may have scheduled an earlier wake-up. */
  poke(): void {
    if (!this.#running || this.#firing !== undefined) return;
    const next = this.#engine.nextWakeAt();
    if (next !== undefined) this.#wake.armFor(next);
  }

  #fire(): void {
    const due = this.#engine.wake(this.#scheduler.now());
    let failed = false;
    this.#firing = (due.length > 0 ? this.#onDue(due) : Promise.resolve())
      .catch((err: unknown) => {
        failed = true;
        this.#log.error({ err }, 'could not record timed alarm changes; retrying in 1 s');
      })
      .finally(() => {
        this.#firing = undefined;
        if (!this.#running) return;
        if (failed) this.#wake.armFor(this.#scheduler.now() + RETRY_MS);
        else this.poke();
      });
  }
}
