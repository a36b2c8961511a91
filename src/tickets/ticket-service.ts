import type { Directory } from '../config/directory.ts';
import type { Clock } from '../core/clock.ts';
import { badRequest, conflict, notFound, XiaoerError } from '../core/errors.ts';
import type { EventBus } from '../core/event-bus.ts';
import type { Logger } from '../core/logger.ts';
import type { AlarmTransition, Instant, Ticket, TicketEvent, TicketStatus } from '../domain/types.ts';
import type { NewTicketEvent, Store, TicketPatch } from '../store/store.ts';

export type SlaClockName = 'arrival' | 'repair';

export interface Actor {
  /** A user name, or `system:<component>` for automatic changes. */
  name: string;
  role?: string;
}

const SYSTEM_RULES: Actor = { name: 'system:rules' };
const SYSTEM_SLA: Actor = { name: 'system:sla' };

/** What a lifecycle step changes; `updatedAt` is stamped by `#update`. */
type TicketChange = Omit<TicketPatch, 'updatedAt'>;

const OPEN_BEFORE_ARRIVAL: readonly TicketStatus[] = ['raised', 'dispatched'];
const OPEN_BEFORE_REPAIR: readonly TicketStatus[] = ['raised', 'dispatched', 'on_site'];
const OPEN_STATUSES: readonly TicketStatus[] = ['raised', 'dispatched', 'on_site', 'repaired', 'verified'];

export interface ManualTicketInput {
  site: string;
  assetId: string;
  fault: string;
  category?: string;
  note?: string;
}

/**
 * The ticket lifecycle: alarms raise and annotate tickets; people dispatch, arrive, repair and
 * close them; the SLA scheduler marks breaches. Each change is one store transaction with its event.
 */
export class TicketService {
  readonly #store: Store;
  readonly #directory: Directory;
  readonly #clock: Clock;
  readonly #bus: EventBus;
  readonly #log: Logger;

  constructor(deps: { store: Store; directory: Directory; clock: Clock; bus: EventBus; log: Logger }) {
    this.#store = deps.store;
    this.#directory = deps.directory;
    this.#clock = deps.clock;
    this.#bus = deps.bus;
    this.#log = deps.log;
  }

  /** Records one alarm transition. Idempotent for a repeated raise: one open ticket per asset+fault. */
  async applyAlarm(t: AlarmTransition, attempt = 0): Promise<void> {
    const { alarm } = t;
    const open = await this.#store.findOpenTicket(alarm);
    const detail = { ruleId: alarm.ruleId, cause: alarm.cause ?? null };
    try {
      if (t.type === 'cleared') {
        if (!open) return;
        const at = alarm.clearedAt;
        await this.#update(
          open,
          { alarmActive: false },
          'alarm_cleared',
          SYSTEM_RULES,
          detail,
          at,
          OPEN_STATUSES,
        );
        return;
      }
      if (open) {
        // The ticket follows the rule now reporting its fault (e.g. a hotline ticket the sensor
        // confirms), so that after a restart the right rule is re-armed from it.
        const change: TicketChange = { alarmActive: true, ruleId: alarm.ruleId };
        await this.#update(
          open,
          change,
          'alarm_repeated',
          SYSTEM_RULES,
          detail,
          alarm.raisedAt,
          OPEN_STATUSES,
        );
        return;
      }
      await this.#raise({
        site: alarm.site,
        assetId: alarm.assetId,
        category: alarm.category,
        fault: alarm.fault,
        severity: alarm.severity,
        ruleId: alarm.ruleId,
        detectedAt: alarm.raisedAt,
        alarmActive: true,
        actor: SYSTEM_RULES,
        detail,
      });
    } catch (err) {
      // Another writer got there between our read and our write: a ticket was created, or the
      // open one was closed. Read again and redo the decision (bounded, it cannot loop forever).
      const raced =
        err instanceof XiaoerError && (err.code === 'ticket_exists' || err.code === 'ticket_conflict');
      if (raced && attempt < 3) return this.applyAlarm(t, attempt + 1);
      throw err;
    }
  }

  /** A fault reported by phone or in person: same SLA clocks, so statistics cover every repair. */
  async raiseManual(input: ManualTicketInput, actor: Actor): Promise<Ticket> {
    if (!this.#directory.site(input.site))
      throw badRequest('unknown_site', `site ${input.site} is not configured`);
    const asset = this.#directory.asset(input.site, input.assetId);
    const category = input.category ?? asset?.category;
    if (!category || !this.#directory.categoryExists(category)) {
      throw badRequest('unknown_category', `category ${category ?? '(none)'} is not configured`, {
        known: this.#directory.categoryIds(),
      });
    }
    const existing = await this.#store.findOpenTicket(input);
    if (existing) throw conflict('ticket_exists', `ticket ${existing.id} is already open for this fault`);
    return this.#raise({
      ...input,
      category,
      severity: 'major',
      ruleId: 'manual',
      detectedAt: this.#clock.now(),
      alarmActive: false,
      actor,
      detail: { note: input.note ?? null },
    });
  }

  async dispatch(id: number, assignee: string, actor: Actor): Promise<Ticket> {
    const user = await this.#store.findUser(assignee);
    if (!user || (user.role !== 'maintainer' && user.role !== 'admin')) {
      throw badRequest('unknown_maintainer', `${assignee} is not a maintainer's user name`);
    }
    const ticket = await this.get(id);
    return this.#update(
      ticket,
      { status: 'dispatched', assignee },
      'dispatched',
      actor,
      { assignee },
      undefined,
      ['raised', 'dispatched'],
    );
  }

  /** The maintainer is on site: stops the arrival clock. */
  async arrive(id: number, actor: Actor): Promise<Ticket> {
    const ticket = await this.get(id);
    assertMayWork(ticket, actor);
    if (!OPEN_BEFORE_ARRIVAL.includes(ticket.status)) {
      throw conflict(
        'ticket_conflict',
        `ticket ${id} is ${ticket.status}; arrival can only be acknowledged once`,
      );
    }
    const at = this.#clock.now();
    const met = at <= ticket.arrival.dueAt;
    const patch: TicketChange = { status: 'on_site', arrivalAt: at, arrivalMet: met };
    if (!ticket.assignee) patch.assignee = actor.name;
    return this.#update(
      ticket,
      patch,
      'arrived',
      actor,
      { met, dueAt: ticket.arrival.dueAt },
      at,
      OPEN_BEFORE_ARRIVAL,
    );
  }

  /** The maintainer reports the repair done: stops the repair clock (sensor verification comes later). */
  async repaired(id: number, actor: Actor, note?: string): Promise<Ticket> {
    const ticket = await this.get(id);
    assertMayWork(ticket, actor);
    if (ticket.status !== 'on_site') {
      throw conflict(
        'ticket_conflict',
        `ticket ${id} is ${ticket.status}; acknowledge arrival on site first`,
      );
    }
    const at = this.#clock.now();
    const met = at <= ticket.repair.dueAt;
    return this.#update(
      ticket,
      { status: 'repaired', repairAt: at, repairMet: met },
      'repaired',
      actor,
      { met, dueAt: ticket.repair.dueAt, note: note ?? null },
      at,
      ['on_site'],
    );
  }

  /** Closing before a repair needs a reason (false alarm, duplicate...), kept in the audit trail. */
  async close(id: number, actor: Actor, reason?: string): Promise<Ticket> {
    const ticket = await this.get(id);
    if (ticket.status === 'closed') throw conflict('ticket_conflict', `ticket ${id} is already closed`);
    const repaired = ticket.status === 'repaired' || ticket.status === 'verified';
    if (!repaired && !reason) {
      throw badRequest(
        'reason_required',
        `ticket ${id} is ${ticket.status}; closing it unrepaired needs a reason`,
      );
    }
    const at = this.#clock.now();
    return this.#update(
      ticket,
      { status: 'closed', closedAt: at },
      'closed',
      actor,
      { reason: reason ?? null },
      at,
      [ticket.status],
    );
  }

  /** Called by the SLA scheduler when a deadline passes; records the breach at the deadline itself. */
  async markBreached(id: number, clock: SlaClockName, dueAt: Instant): Promise<Ticket | undefined> {
    const ticket = await this.#store.getTicket(id);
    if (!ticket || !isRunning(ticket, clock) || ticket[clock].dueAt !== dueAt) return undefined;
    const patch: TicketChange =
      clock === 'arrival'
        ? { arrivalBreachedAt: dueAt, arrivalMet: false }
        : { repairBreachedAt: dueAt, repairMet: false };
    // Only while the clock is still running: an arrival or repair committed meanwhile wins.
    const running = clock === 'arrival' ? OPEN_BEFORE_ARRIVAL : OPEN_BEFORE_REPAIR;
    let updated: Ticket;
    try {
      updated = await this.#update(
        ticket,
        patch,
        'sla_breached',
        SYSTEM_SLA,
        { clock, dueAt },
        dueAt,
        running,
      );
    } catch (err) {
      if (err instanceof XiaoerError && err.code === 'ticket_conflict') return undefined;
      throw err;
    }
    this.#log.warn({ ticketId: id, clock, dueAt: new Date(dueAt).toISOString() }, 'SLA target breached');
    return updated;
  }

  async get(id: number): Promise<Ticket> {
    const ticket = await this.#store.getTicket(id);
    if (!ticket) throw notFound('ticket', id);
    return ticket;
  }

  async #raise(input: {
    site: string;
    assetId: string;
    category: string;
    fault: string;
    severity: Ticket['severity'];
    ruleId: string;
    detectedAt: Instant;
    alarmActive: boolean;
    actor: Actor;
    detail: Record<string, unknown>;
  }): Promise<Ticket> {
    const now = this.#clock.now();
    const sla = this.#directory.slaFor(input.category);
    const { ticket, event } = await this.#store.createTicket(
      {
        site: input.site,
        assetId: input.assetId,
        category: input.category,
        fault: input.fault,
        severity: input.severity,
        ruleId: input.ruleId,
        status: 'raised',
        alarmActive: input.alarmActive,
        raisedAt: now,
        detectedAt: input.detectedAt,
        arrival: { dueAt: input.detectedAt + sla.arrivalMs },
        repair: { dueAt: input.detectedAt + sla.repairMs },
        updatedAt: now,
      },
      { at: now, actor: input.actor.name, type: 'raised', detail: input.detail },
    );
    this.#log.info(
      { ticketId: ticket.id, site: ticket.site, assetId: ticket.assetId, fault: ticket.fault },
      'ticket raised',
    );
    this.#bus.emit('ticketChanged', ticket, event);
    return ticket;
  }

  async #update(
    ticket: Ticket,
    patch: TicketChange,
    type: string,
    actor: Actor,
    detail: Record<string, unknown>,
    at?: Instant,
    expectStatus?: readonly TicketStatus[],
  ): Promise<Ticket> {
    const now = this.#clock.now();
    const event: NewTicketEvent = { at: at ?? now, actor: actor.name, type, detail };
    const result = await this.#store.updateTicket(
      ticket.id,
      { ...patch, updatedAt: now },
      event,
      expectStatus,
    );
    this.#bus.emit('ticketChanged', result.ticket, result.event);
    return result.ticket;
  }
}

/**
 * A maintainer stops the SLA clocks only on tickets dispatched to them, or not yet dispatched
 * (the first to arrive takes it). Admins may record for anyone.
 */
function assertMayWork(ticket: Ticket, actor: Actor): void {
  if (actor.role !== 'maintainer' || !ticket.assignee || ticket.assignee === actor.name) return;
  throw new XiaoerError('not_assignee', `ticket ${ticket.id} is dispatched to ${ticket.assignee}`, {
    httpStatus: 403,
  });
}

/** Whether an SLA clock is still counting down (not reached, not already breached, ticket open). */
export function isRunning(ticket: Ticket, clock: SlaClockName): boolean {
  if (ticket.status === 'closed') return false;
  const c = ticket[clock];
  return c.at === undefined && c.breachedAt === undefined;
}

export type { TicketEvent };
