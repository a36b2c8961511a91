import type { Clock } from '../core/clock.ts';
import type { EventBus } from '../core/event-bus.ts';
import type { Logger } from '../core/logger.ts';
import type { Service } from '../core/service.ts';
import type { Instant, Ticket } from '../domain/types.ts';
import type { Store } from '../store/store.ts';
import { MinHeap } from '../core/min-heap.ts';
import { isRunning, type SlaClockName, type TicketService } from './ticket-service.ts';

interface Deadline {
  dueAt: Instant;
  ticketId: number;
  clock: SlaClockName;
}

// setTimeout stores its delay in a signed 32-bit integer; longer delays fire at once.
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * One timer for all SLA deadlines: a min-heap ordered by due time, armed for the earliest.
 * Deadlines are absolute instants from the store, so a restart re-arms them, and one that passed
 * while xiaoer was down is recorded as breached at its true time as soon as it starts.
 * Entries are never removed early: when one fires, the ticket is re-read and a clock that has
 * stopped (arrival acknowledged, repair done, ticket closed) is skipped.
 */
export class SlaScheduler implements Service {
  readonly name = 'sla-scheduler';
  readonly #heap = new MinHeap<Deadline>((a, b) => a.dueAt < b.dueAt);
  readonly #deps: { store: Store; tickets: TicketService; clock: Clock; bus: EventBus; log: Logger };
  #timer: NodeJS.Timeout | undefined;
  #armedFor: Instant | undefined;
  #running = false;
  #firing: Promise<void> | undefined;
  #unsubscribe: (() => void) | undefined;

  constructor(deps: { store: Store; tickets: TicketService; clock: Clock; bus: EventBus; log: Logger }) {
    this.#deps = deps;
  }

  async start(): Promise<void> {
    this.#running = true;
    this.#unsubscribe = this.#deps.bus.on('ticketChanged', (ticket, event) => {
      if (event.type === 'raised') this.track(ticket);
    });
    const open = await this.#deps.store.listTickets({ open: true });
    for (const ticket of open) this.track(ticket);
    this.#deps.log.info({ openTickets: open.length, deadlines: this.#heap.size }, 'SLA clocks re-armed');
    this.#arm();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#unsubscribe?.();
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#firing;
    this.#heap.clear();
  }

  /** Adds the running clocks of a ticket. */
  track(ticket: Ticket): void {
    for (const clock of ['arrival', 'repair'] as const) {
      if (isRunning(ticket, clock))
        this.#heap.push({ dueAt: ticket[clock].dueAt, ticketId: ticket.id, clock });
    }
    this.#arm();
  }

  get pending(): number {
    return this.#heap.size;
  }

  #arm(): void {
    if (!this.#running || this.#firing !== undefined) return;
    const next = this.#heap.peek();
    if (!next) return;
    if (this.#timer && this.#armedFor !== undefined && this.#armedFor <= next.dueAt) return;
    if (this.#timer) clearTimeout(this.#timer);
    const delay = Math.min(Math.max(next.dueAt - this.#deps.clock.now(), 0), MAX_TIMER_MS);
    this.#armedFor = next.dueAt;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#armedFor = undefined;
      this.#firing = this.#fireDue().finally(() => {
        this.#firing = undefined;
        this.#arm();
      });
    }, delay);
  }

  async #fireDue(): Promise<void> {
    for (;;) {
      const next = this.#heap.peek();
      if (!this.#running || !next || next.dueAt > this.#deps.clock.now()) return;
      this.#heap.pop();
      try {
        await this.#deps.tickets.markBreached(next.ticketId, next.clock, next.dueAt);
      } catch (err) {
        // Keep the deadline: the store may be briefly unavailable; try again shortly.
        this.#deps.log.error(
          { err, ticketId: next.ticketId, clock: next.clock },
          'could not record SLA breach',
        );
        this.#heap.push({ ...next, dueAt: next.dueAt });
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }
}
