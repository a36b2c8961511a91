import type { EventBus } from '../core/event-bus.ts';
import type { LogEntry, Store } from '../store/store.ts';

export type { LogEntry } from '../store/store.ts';

const PAGE = 500;

/**
 * The ticket event log: every ticket change, in commit order, with the ticket as it was then
 * (written in the same transaction as the change, src/store). It is what everything downstream
 * reads: durable consumers from their saved position (src/events/consumer.ts), the live feed from
 * a client's `Last-Event-ID`, the SLA scheduler from its start.
 */
export class EventLog {
  readonly #store: Store;
  readonly #bus: EventBus;
  readonly #shared: boolean;
  readonly #listeners = new Set<(entry: LogEntry) => void>();
  readonly #onListenerError: (err: unknown) => void;

  /**
   * `shared`: several instances write the log (PostgreSQL). Entries are then announced by
   * `announce()`, called in id order by whatever reads the shared log (src/cluster/log-follower.ts),
   * this instance's own changes included, rather than by this instance's bus.
   */
  constructor(deps: {
    store: Store;
    bus: EventBus;
    shared?: boolean;
    onListenerError?: (err: unknown) => void;
  }) {
    this.#store = deps.store;
    this.#bus = deps.bus;
    this.#shared = deps.shared ?? false;
    this.#onListenerError = deps.onListenerError ?? (() => {});
  }

  /** A shared log's next entry, in id order (each once). A listener that throws stops no other. */
  announce(entry: LogEntry): void {
    for (const listener of this.#listeners) {
      try {
        listener(entry);
      } catch (err) {
        this.#onListenerError(err);
      }
    }
  }

  read(after: number, limit = PAGE): Promise<LogEntry[]> {
    return this.#store.readTicketLog(after, limit);
  }

  head(): Promise<number> {
    return this.#store.lastTicketEventId();
  }

  /** Called after each change is committed (in commit order), with its entry. */
  onAppend(listener: (entry: LogEntry) => void): () => void {
    if (!this.#shared) return this.#bus.on('ticketChanged', (ticket, event) => listener({ event, ticket }));
    const own = (entry: LogEntry) => listener(entry);
    this.#listeners.add(own);
    return () => this.#listeners.delete(own);
  }

  /**
   * Every entry after `after`, then every new one as it is appended, each exactly once and in
   * order: new entries are held while the backlog is read from the store, then those not already
   * read are passed on. Returns a function that stops following.
   */
  follow(after: number, onEntry: (entry: LogEntry) => void): { caughtUp: Promise<void>; stop(): void } {
    let last = after;
    let live = false;
    let stopped = false;
    const held: LogEntry[] = [];
    const deliver = (entry: LogEntry) => {
      if (stopped || entry.event.id <= last) return;
      last = entry.event.id;
      onEntry(entry);
    };
    const unsubscribe = this.onAppend((entry) => {
      if (live) deliver(entry);
      else held.push(entry);
    });
    const caughtUp = (async () => {
      for (;;) {
        const page = await this.read(last);
        for (const entry of page) deliver(entry);
        if (page.length < PAGE || stopped) break;
      }
      for (const entry of held.splice(0)) deliver(entry);
      live = true;
    })();
    return {
      caughtUp,
      stop: () => {
        stopped = true;
        unsubscribe();
      },
    };
  }
}
