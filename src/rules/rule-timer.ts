import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import type { AlarmTransition } from '../domain/types.ts';
import type { RuleEngine } from './engine.ts';

// setTimeout stores its delay in a signed 32-bit integer; longer delays fire at once.
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * One timer for every rule's wake-up (duration, debounce, silence): armed for the engine's
 * earliest, re-armed after each evaluation that may have moved it.
 */
export class RuleTimer {
  readonly #engine: RuleEngine;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #onDue: (transitions: AlarmTransition[]) => Promise<void>;
  #timer: NodeJS.Timeout | undefined;
  #armedFor: number | undefined;
  #running = false;
  #firing: Promise<void> | undefined;

  constructor(deps: {
    engine: RuleEngine;
    clock: Clock;
    log: Logger;
    onDue(transitions: AlarmTransition[]): Promise<void>;
  }) {
    this.#engine = deps.engine;
    this.#clock = deps.clock;
    this.#log = deps.log;
    this.#onDue = deps.onDue;
  }

  start(): void {
    this.#running = true;
    this.poke();
  }

  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#firing;
  }

  /** Called after anything that may have scheduled an earlier wake-up. */
  poke(): void {
    if (!this.#running || this.#firing !== undefined) return;
    const next = this.#engine.nextWakeAt();
    if (next === undefined) return;
    if (this.#timer && this.#armedFor !== undefined && this.#armedFor <= next) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#armedFor = next;
    this.#timer = setTimeout(
      () => this.#fire(),
      Math.min(Math.max(next - this.#clock.now(), 0), MAX_TIMER_MS),
    );
  }

  #retryAfter(ms: number): void {
    if (!this.#running) return;
    this.#armedFor = this.#clock.now() + ms;
    this.#timer = setTimeout(() => this.#fire(), ms);
  }

  #fire(): void {
    this.#timer = undefined;
    this.#armedFor = undefined;
    const due = this.#engine.wake(this.#clock.now());
    let failed = false;
    this.#firing = (due.length > 0 ? this.#onDue(due) : Promise.resolve())
      .catch((err: unknown) => {
        failed = true;
        this.#log.error({ err }, 'could not record timed alarm changes; retrying in 1 s');
      })
      .finally(() => {
        this.#firing = undefined;
        // After a failure the reverted changes are due again at once: retry after a pause.
        if (failed) this.#retryAfter(1000);
        else this.poke();
      });
  }
}
