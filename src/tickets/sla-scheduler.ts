import type { Directory } from '../config/directory.ts';
import type { Logger } from '../core/logger.ts';
import { MinHeap } from '../core/min-heap.ts';
import { type Scheduler, WakeUp } from '../core/scheduler.ts';
import type { Service } from '../core/service.ts';
import type { Instant, Ticket, TicketEventType } from '../domain/types.ts';
import type { EventLog } from '../events/event-log.ts';
import type { Store } from '../store/store.ts';
import { isOutage, isRunning, type SlaClockName } from './clocks.ts';
import type { TicketService } from './ticket-service.ts';

type Action = 'breach' | 'near' | 'unstaffed' | 'verify' | 'recover';

interface Deadline {
  dueAt: Instant;
  ticketId: number;
  action: Action;
  clock: SlaClockName;
  /** The clock's deadline this entry was computed from (a near warning is void once it moves). */
  clockDueAt: Instant;
}

const keyOf = (d: Deadline) => `${d.ticketId}:${d.action}:${d.clock}:${d.dueAt}`;

export interface SlaSchedulerDeps {
  store: Store;
  tickets: TicketService;
  directory: Directory;
  scheduler: Scheduler;
  eventLog: EventLog;
  log: Logger;
  /**
   * Whether anybody is checked in at a site. Given, a ticket raised at a site where nobody is
   * escalates its arrival clock at once instead of when the deadline is near.
   */
  staffed?: (site: string) => boolean;
}

/** A deadline that could not be acted on (the store failed) is tried again after this. */
const RETRY_MS = 1000;
/** Deadlines acted on side by side: enough to share commits, few enough to leave the loop its turns. */
const FIRE_BATCH = 500;

/** Ticket events after which a ticket may have new deadlines to watch. */
const RESCHEDULING_EVENTS: ReadonlySet<TicketEventType> = new Set<TicketEventType>([
  'raised',
  'reopened',
  'sla_resumed',
  'repaired',
  'alarm_cleared',
  'detached',
]);

/**
 * One timer for every ticket deadline: a min-heap ordered by due time, armed for the earliest.
 * It records SLA breaches at their true time, tells the next level when a deadline is near and
 * when it is breached, and verifies repairs the sensor has confirmed. Deadlines are absolute
 * instants from the store, so a restart re-arms them, and one that passed while xiaoer was down
 * is acted on as soon as it starts. Entries are never removed early: when one fires, the ticket
 * is re-read, and an action no longer due (clock stopped, ticket closed) is skipped.
 */
export class SlaScheduler implements Service {
  readonly name = 'sla-scheduler';
  readonly #heap = new MinHeap<Deadline>((a, b) => a.dueAt < b.dueAt);
  /** Entries in the heap, so that re-tracking a ticket after each event adds nothing twice. */
  readonly #queued = new Set<string>();
  readonly #deps: SlaSchedulerDeps;
  readonly #wake: WakeUp;
  #running = false;
  #firing: Promise<void> | undefined;
  #unsubscribe: (() => void) | undefined;

  constructor(deps: SlaSchedulerDeps) {
    this.#deps = deps;
    this.#wake = new WakeUp(deps.scheduler, () => {
      this.#firing = this.#fireDue().finally(() => {
        this.#firing = undefined;
        this.#arm();
      });
    });
  }

  async start(): Promise<void> {
    this.#running = true;
    // The log from now on; what came before is re-armed from the store just below.
    this.#unsubscribe = this.#deps.eventLog.onAppend(({ ticket, event }) => {
      if (event.type === 'raised') this.#checkStaffed(ticket);
      if (RESCHEDULING_EVENTS.has(event.type)) this.track(ticket);
    });
    const open = await this.#deps.store.listTickets({ open: true });
    for (const ticket of open) this.track(ticket);
    this.#deps.log.info({ openTickets: open.length, deadlines: this.#heap.size }, 'SLA clocks re-armed');
    this.#arm();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#unsubscribe?.();
    this.#wake.cancel();
    await this.#firing;
    this.#heap.clear();
    this.#queued.clear();
  }

  /**
   * Adds what is still due on a ticket: breaches and near-deadline warnings, verification of a
   * repair, and the recovery of an outage whose cause is gone.
   */
  track(ticket: Ticket): void {
    const { nearFraction } = this.#deps.tickets.config.escalation;
    const sla = this.#deps.directory.slaFor(ticket.category);
    const now = this.#deps.scheduler.now();
    for (const clock of ['arrival', 'repair'] as const) {
      const dueAt = ticket[clock].dueAt;
      if (dueAt === undefined || !isRunning(ticket, clock)) continue;
      this.#push({ dueAt, ticketId: ticket.id, action: 'breach', clock, clockDueAt: dueAt });
      const span = clock === 'arrival' ? sla.arrivalMs : sla.repairMs;
      // A deadline already past (a device left its outage late) is told once, as a breach.
      if (ticket.escalation[clock] < 1 && span !== null && dueAt > now) {
        this.#push({
          dueAt: dueAt - (1 - nearFraction) * span,
          ticketId: ticket.id,
          action: 'near',
          clock,
          clockDueAt: dueAt,
        });
      }
    }
    const verifyDueAt = ticket.verifyDueAt;
    if (verifyDueAt !== undefined && ticket.status !== 'closed') {
      const recovering = isOutage(ticket) && !ticket.alarmActive;
      if (recovering || ticket.status === 'repaired') {
        const action = recovering ? 'recover' : 'verify';
        this.#push({
          dueAt: verifyDueAt,
          ticketId: ticket.id,
          action,
          clock: 'repair',
          clockDueAt: verifyDueAt,
        });
      }
    }
    this.#arm();
  }

  /**
   * Nobody on shift at the ticket's site: waiting for 80 % of the arrival target would only tell
   * the next level when it is nearly too late, so it is told now, dated at the raise.
   */
  #checkStaffed(ticket: Ticket): void {
    const { staffed } = this.#deps;
    const dueAt = ticket.arrival.dueAt;
    if (!staffed || dueAt === undefined || !isRunning(ticket, 'arrival') || ticket.escalation.arrival > 0)
      return;
    if (staffed(ticket.site)) return;
    this.#push({
      dueAt: ticket.raisedAt,
      ticketId: ticket.id,
      action: 'unstaffed',
      clock: 'arrival',
      clockDueAt: dueAt,
    });
    this.#arm();
  }

  get pending(): number {
    return this.#heap.size;
  }

  #push(d: Deadline): void {
    const key = keyOf(d);
    if (this.#queued.has(key)) return;
    this.#queued.add(key);
    this.#heap.push(d);
  }

  #arm(): void {
    if (!this.#running || this.#firing !== undefined) return;
    const next = this.#heap.peek();
    if (next) this.#wake.armFor(next.dueAt);
  }

  /**
   * Acts on what is due: up to FIRE_BATCH deadlines at a time, tickets side by side (so that
   * their writes share the store's commits: a minute with thousands of deadlines would otherwise
   * wait on the disk once per event), each ticket's own deadlines in order. A deadline whose act
   * fails is kept and tried again shortly, with those after it on the same ticket.
   */
  async #fireDue(): Promise<void> {
    for (;;) {
      const now = this.#deps.scheduler.now();
      const byTicket = new Map<number, Deadline[]>();
      let taken = 0;
      for (let next = this.#heap.peek(); next && next.dueAt <= now; next = this.#heap.peek()) {
        if (!this.#running || taken === FIRE_BATCH) break;
        this.#heap.pop();
        this.#queued.delete(keyOf(next));
        const list = byTicket.get(next.ticketId);
        if (list) list.push(next);
        else byTicket.set(next.ticketId, [next]);
        taken++;
      }
      if (taken === 0) return;
      const failed = (await Promise.all([...byTicket.values()].map((ds) => this.#actInOrder(ds)))).flat();
      if (failed.length > 0) {
        for (const d of failed) this.#push(d);
        this.#wake.armFor(this.#deps.scheduler.now() + RETRY_MS);
        return;
      }
    }
  }

  /** One ticket's due deadlines in order; returns those not done (the failed one and the rest). */
  async #actInOrder(deadlines: readonly Deadline[]): Promise<Deadline[]> {
    for (const [i, d] of deadlines.entries()) {
      try {
        await this.#act(d);
      } catch (err) {
        // Keep the deadline: the store may be briefly unavailable; try again shortly.
        this.#deps.log.error({ err, ticketId: d.ticketId, action: d.action }, 'could not act on a deadline');
        return deadlines.slice(i);
      }
    }
    return [];
  }

  async #act(d: Deadline): Promise<void> {
    const { tickets } = this.#deps;
    if (d.action === 'verify') {
      await tickets.verify(d.ticketId, d.dueAt);
    } else if (d.action === 'recover') {
      await tickets.recoverOutage(d.ticketId, d.dueAt);
    } else if (d.action === 'near') {
      await tickets.escalate(d.ticketId, d.clock, 1, d.dueAt, d.clockDueAt);
    } else if (d.action === 'unstaffed') {
      await tickets.escalate(d.ticketId, d.clock, 1, d.dueAt, d.clockDueAt, 'nobody_on_shift');
    } else {
      await tickets.markBreached(d.ticketId, d.clock, d.dueAt);
      // Also when the breach was recorded by an earlier attempt that failed before escalating.
      await tickets.escalate(d.ticketId, d.clock, 2, d.dueAt, d.clockDueAt);
    }
  }
}
