import type { Logger } from '../core/logger.ts';
import { backoff, type Scheduler } from '../core/scheduler.ts';
import type { Service } from '../core/service.ts';
import type { Store } from '../store/store.ts';
import type { EventLog, LogEntry } from './event-log.ts';

/** What a durable consumer does with one log entry. Throwing means "not handled: try again". */
export interface LogConsumer {
  /** Names its saved position: `mqtt-out`, `webhook:<id>`. */
  readonly id: string;
  /** Resolves `false` for an entry it has nothing to send for (another site, another event type). */
  handle(entry: LogEntry): Promise<boolean>;
  /**
   * After this many failed attempts at one entry with `retryable(err)` false, the entry is given
   * up (counted and logged) so a poison message cannot block everything behind it. Retryable
   * failures (the endpoint down, rate-limited) are retried for ever: nothing is lost.
   */
  readonly maxAttempts?: number;
  retryable?(err: unknown): boolean;
}

export interface ConsumerTiming {
  retryBaseMs: number;
  retryMaxMs: number;
  /** Failing this long marks the consumer dead in /api/health (it keeps trying, slowly). */
  deadAfterMs: number;
  /** Looks at the log this often even without a change announced (another process may write). */
  pollMs: number;
}

export const DEFAULT_TIMING: ConsumerTiming = {
  retryBaseMs: 1000,
  retryMaxMs: 5 * 60_000,
  deadAfterMs: 30 * 60_000,
  pollMs: 30_000,
};

export type ConsumerState = 'ok' | 'retrying' | 'dead';

export interface ConsumerStats {
  id: string;
  state: ConsumerState;
  position: number;
  /** Log entries not yet handled. */
  backlog: number;
  handled: number;
  /** Entries actually sent (not skipped by the consumer's filter). */
  delivered: number;
  givenUp: number;
  retries: number;
  lastError: string | null;
  failingSince: string | null;
}

/**
 * Runs one durable consumer over the event log: reads forward from its saved position, handles
 * each entry in order, saves the position after each, so delivery is at least once across
 * crashes and restarts. A failure keeps the position and retries with backoff; nothing is held
 * in memory but the page being worked on, and ticket writes never wait for a consumer.
 */
export class ConsumerRunner implements Service {
  readonly name: string;
  readonly #consumer: LogConsumer;
  readonly #eventLog: EventLog;
  readonly #store: Store;
  readonly #scheduler: Scheduler;
  readonly #log: Logger;
  readonly #timing: ConsumerTiming;
  #position = 0;
  #head = 0;
  #running = false;
  #loop: Promise<void> | undefined;
  /** Ends the current pause; `byAppend`: whether a new log entry may end it (not during a backoff). */
  #pauseEnd: { done: () => void; byAppend: boolean } | undefined;
  #unsubscribe: (() => void) | undefined;
  /** An entry was appended since the last read: an idle pause must not start. */
  #appended = false;
  #attempts = 0;
  #failingSince: number | undefined;
  #lastError: string | null = null;
  #dead = false;
  #handled = 0;
  #delivered = 0;
  #givenUp = 0;
  #retries = 0;

  constructor(deps: {
    consumer: LogConsumer;
    eventLog: EventLog;
    store: Store;
    scheduler: Scheduler;
    log: Logger;
    timing?: Partial<ConsumerTiming>;
  }) {
    this.#consumer = deps.consumer;
    this.name = `consumer ${deps.consumer.id}`;
    this.#eventLog = deps.eventLog;
    this.#store = deps.store;
    this.#scheduler = deps.scheduler;
    this.#log = deps.log;
    this.#timing = { ...DEFAULT_TIMING, ...deps.timing };
  }

  /** A consumer seen for the first time starts at the end of the log: no flood of history. */
  async start(): Promise<void> {
    this.#head = await this.#eventLog.head();
    const saved = await this.#store.getConsumerPosition(this.#consumer.id);
    this.#position = saved ?? this.#head;
    if (saved === undefined)
      await this.#store.saveConsumerPosition(this.#consumer.id, this.#position, this.#scheduler.now());
    this.#running = true;
    this.#unsubscribe = this.#eventLog.onAppend((entry) => {
      this.#head = Math.max(this.#head, entry.event.id);
      this.#appended = true;
      if (this.#pauseEnd?.byAppend) this.#pauseEnd.done();
    });
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#unsubscribe?.();
    this.#pauseEnd?.done();
    await this.#loop;
  }

  stats(): ConsumerStats {
    return {
      id: this.#consumer.id,
      state: this.#dead ? 'dead' : this.#failingSince !== undefined ? 'retrying' : 'ok',
      position: this.#position,
      backlog: Math.max(0, this.#head - this.#position),
      handled: this.#handled,
      delivered: this.#delivered,
      givenUp: this.#givenUp,
      retries: this.#retries,
      lastError: this.#lastError,
      failingSince: this.#failingSince === undefined ? null : new Date(this.#failingSince).toISOString(),
    };
  }

  async #run(): Promise<void> {
    while (this.#running) {
      let page: LogEntry[];
      this.#appended = false;
      try {
        page = await this.#eventLog.read(this.#position, 100);
      } catch (err) {
        this.#failed(err);
        await this.#pause(backoff(this.#attempts, this.#timing.retryBaseMs, this.#timing.retryMaxMs));
        continue;
      }
      if (page.length === 0) {
        await this.#pause(this.#timing.pollMs);
        continue;
      }
      for (const entry of page) {
        if (!this.#running || !(await this.#handle(entry))) break;
      }
    }
  }

  /** One entry until handled or given up; false when stopping with it still to do. */
  async #handle(entry: LogEntry): Promise<boolean> {
    for (;;) {
      try {
        if (await this.#consumer.handle(entry)) this.#delivered++;
        this.#handled++;
        break;
      } catch (err) {
        this.#failed(err);
        const permanent = this.#consumer.retryable && !this.#consumer.retryable(err);
        if (permanent && this.#attempts >= (this.#consumer.maxAttempts ?? 1)) {
          this.#givenUp++;
          this.#log.error(
            {
              consumer: this.#consumer.id,
              eventId: entry.event.id,
              ticketId: entry.ticket.id,
              err: this.#lastError,
            },
            'log entry given up after repeated refusals',
          );
          break;
        }
        if (!this.#running) return false;
        this.#retries++;
        await this.#pause(backoff(this.#attempts, this.#timing.retryBaseMs, this.#timing.retryMaxMs));
        if (!this.#running) return false;
      }
    }
    await this.#advance(entry.event.id);
    return true;
  }

  async #advance(position: number): Promise<void> {
    this.#position = position;
    this.#head = Math.max(this.#head, position);
    if (this.#failingSince !== undefined) {
      this.#log.info({ consumer: this.#consumer.id, after: this.#lastError }, 'delivering again');
    }
    this.#attempts = 0;
    this.#failingSince = undefined;
    this.#dead = false;
    // A failure to save only means the entry may be handled again after a restart.
    await this.#store
      .saveConsumerPosition(this.#consumer.id, position, this.#scheduler.now())
      .catch((err: unknown) =>
        this.#log.error({ err, consumer: this.#consumer.id }, 'could not save the position'),
      );
  }

  #failed(err: unknown): void {
    const now = this.#scheduler.now();
    this.#attempts++;
    const text = err instanceof Error ? err.message : String(err);
    if (text !== this.#lastError)
      this.#log.warn({ consumer: this.#consumer.id, err: text }, 'delivery failed; retrying');
    this.#lastError = text.slice(0, 300);
    this.#failingSince ??= now;
    if (!this.#dead && now - this.#failingSince >= this.#timing.deadAfterMs) {
      this.#dead = true;
      this.#log.error(
        { consumer: this.#consumer.id, failingSince: new Date(this.#failingSince).toISOString() },
        'consumer dead: failing too long; its backlog waits and it keeps trying',
      );
    }
  }

  /** Waits `ms`; less if the runner stops, or (when idle, not backing off) a change is announced. */
  #pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const byAppend = this.#failingSince === undefined;
      if (!this.#running || (byAppend && this.#appended)) return resolve();
      const cancel = this.#scheduler.at(this.#scheduler.now() + ms, () => end.done());
      const end = {
        byAppend,
        done: () => {
          cancel();
          if (this.#pauseEnd === end) this.#pauseEnd = undefined;
          resolve();
        },
      };
      this.#pauseEnd = end;
    });
  }
}
