import { seesSite } from '../auth/site-scope.ts';
import type { Directory } from '../config/directory.ts';
import type { Clock } from '../core/clock.ts';
import { badRequest, conflict, XiaoerError } from '../core/errors.ts';
import type { EventBus } from '../core/event-bus.ts';
import type { Logger } from '../core/logger.ts';
import {
  type AlarmTransition,
  type Instant,
  RESOLUTIONS,
  type Resolution,
  type Ticket,
} from '../domain/types.ts';
import type { Store } from '../store/store.ts';
import { AlarmHandler } from './alarm-handler.ts';
import {
  BEFORE_ARRIVAL,
  BEFORE_REPAIR,
  isOutage,
  isRunning,
  newClocks,
  OPEN_STATUSES,
  type SlaClockName,
} from './clocks.ts';
import type { TicketsConfig } from './config.ts';
import { ticketsSchema } from './config.ts';
import { Correlator } from './correlation.ts';
import { guarded, OutageResolver } from './outage-resolver.ts';
import {
  type Actor,
  SYSTEM_MAINTENANCE,
  SYSTEM_SLA,
  type TicketChange,
  TicketWriter,
} from './ticket-writer.ts';

export { isRunning, type SlaClockName } from './clocks.ts';
export type { Actor } from './ticket-writer.ts';

/** How an arrival was recorded: the maintainer's word (a button), or the asset's QR label scanned. */
export type Presence = 'unverified' | 'qr';

export interface RepairReport {
  note?: string;
  /** What was found; kept, and used when the ticket is closed. */
  resolution?: Resolution;
}

/** Why the next level is told: a deadline near or breached, or nobody on shift at the site. */
export type EscalationReason = 'near' | 'breached' | 'nobody_on_shift';

export interface ManualTicketInput {
  site: string;
  assetId: string;
  fault: string;
  category?: string;
  note?: string;
}

/**
 * The ticket lifecycle: raised → dispatched → on_site → repaired → verified → closed.
 * Alarms raise, annotate and reopen tickets (AlarmHandler); people dispatch, arrive, repair and
 * close them; the SLA scheduler verifies repairs, escalates and records breaches.
 */
export class TicketService {
  readonly #writer: TicketWriter;
  readonly #directory: Directory;
  readonly #config: TicketsConfig;
  readonly #alarms: AlarmHandler;
  readonly #outages: OutageResolver;
  readonly #log: Logger;
  readonly correlator: Correlator;

  constructor(deps: {
    store: Store;
    directory: Directory;
    clock: Clock;
    bus: EventBus;
    log: Logger;
    config?: TicketsConfig;
  }) {
    this.#writer = new TicketWriter(deps);
    this.#directory = deps.directory;
    this.#config = deps.config ?? ticketsSchema.parse({});
    this.#log = deps.log;
    this.correlator = new Correlator({
      config: this.#config.correlation,
      directory: deps.directory,
      writer: this.#writer,
    });
    this.#outages = new OutageResolver({ writer: this.#writer, correlator: this.correlator });
    this.#alarms = new AlarmHandler({
      writer: this.#writer,
      directory: deps.directory,
      config: this.#config,
      correlator: this.correlator,
    });
  }

  get config(): TicketsConfig {
    return this.#config;
  }

  applyAlarm(t: AlarmTransition): Promise<void> {
    return this.#alarms.apply(t);
  }

  get(id: number): Promise<Ticket> {
    return this.#writer.get(id);
  }

  /** A fault reported by phone or in person: same SLA clocks, so statistics cover every repair. */
  async raiseManual(input: ManualTicketInput, actor: Actor): Promise<Ticket> {
    if (!this.#directory.site(input.site))
      throw badRequest('unknown_site', `site ${input.site} is not configured`);
    const category = input.category ?? this.#directory.asset(input.site, input.assetId)?.category;
    if (!category || !this.#directory.categoryExists(category)) {
      throw badRequest('unknown_category', `category ${category ?? '(none)'} is not configured`, {
        known: this.#directory.categoryIds(),
      });
    }
    const existing = await this.#writer.store.findOpenTicket(input);
    if (existing) throw conflict('ticket_exists', `ticket ${existing.id} is already open for this fault`);
    const now = this.#writer.now();
    return this.#writer.create(
      {
        site: input.site,
        assetId: input.assetId,
        category,
        fault: input.fault,
        meaning: 'reported',
        severity: 'major',
        ruleId: 'manual',
        alarmActive: false,
        detectedAt: now,
        ...newClocks(now, this.#directory.slaFor(category)),
      },
      actor,
      { note: input.note ?? null },
    );
  }

  async dispatch(id: number, assignee: string, actor: Actor): Promise<Ticket> {
    const user = await this.#writer.store.findUser(assignee);
    if (!user || (user.role !== 'maintainer' && user.role !== 'admin')) {
      throw badRequest('unknown_maintainer', `${assignee} is not a maintainer's user name`);
    }
    const ticket = await this.get(id);
    if (!seesSite(user, ticket.site)) {
      throw conflict(
        'assignee_not_at_site',
        `${assignee} works at ${user.sites.join(', ')}, not at ${ticket.site}`,
        { sites: user.sites },
      );
    }
    if (ticket.parentId !== undefined) {
      throw conflict(
        'part_of_outage',
        `ticket ${id} is part of outage ticket ${ticket.parentId}; dispatch that one`,
      );
    }
    return this.#writer.update(
      ticket,
      { status: 'dispatched', assignee },
      'dispatched',
      actor,
      { assignee },
      {
        expect: BEFORE_ARRIVAL,
      },
    );
  }

  /**
   * The maintainer is on site: stops the arrival clock (only the first time, after a reopen).
   * `presence` says how: `qr` when the asset's signed label was scanned, else `unverified`.
   */
  async arrive(id: number, actor: Actor, presence: Presence = 'unverified'): Promise<Ticket> {
    const ticket = await this.get(id);
    assertMayWork(ticket, actor);
    if (!BEFORE_ARRIVAL.includes(ticket.status)) {
      throw conflict(
        'ticket_conflict',
        `ticket ${id} is ${ticket.status}; arrival can only be acknowledged once`,
      );
    }
    const change: TicketChange = { status: 'on_site' };
    if (!ticket.assignee) change.assignee = actor.name;
    if (ticket.arrival.at !== undefined) {
      return this.#writer.update(
        ticket,
        change,
        'arrived',
        actor,
        { again: true, presence },
        { expect: BEFORE_ARRIVAL },
      );
    }
    const at = this.#writer.now();
    const due = ticket.arrival.dueAt;
    // Without an arrival target the arrival is recorded, but neither met nor missed.
    const met = due === undefined ? undefined : at <= due;
    Object.assign(change, met === undefined ? { arrivalAt: at } : { arrivalAt: at, arrivalMet: met });
    return this.#writer.update(
      ticket,
      change,
      'arrived',
      actor,
      { met: met ?? null, dueAt: due ?? null, presence },
      {
        at,
        expect: BEFORE_ARRIVAL,
      },
    );
  }

  /**
   * Arrival by the asset's QR label: on the asset's open ticket waiting for arrival that is
   * dispatched to the actor, or not dispatched yet (the caller checks the actor works at the site).
   * A ticket the actor is already on site for is returned as it is (the label scanned again).
   * 404 `no_open_ticket` when nothing waits there; 403 `not_assignee` when it is someone else's.
   */
  async arriveAt(site: string, assetId: string, actor: Actor): Promise<Ticket> {
    // Oldest first: the fault reported first is the one the maintainer came for.
    const open = (await this.#writer.store.listTickets({ site, assetId, open: true })).reverse();
    const mine = (t: Ticket) => t.assignee === actor.name;
    const waiting = open.filter((t) => BEFORE_ARRIVAL.includes(t.status));
    const target =
      waiting.find(mine) ??
      waiting.find((t) => !t.assignee) ??
      (actor.role === 'admin' ? waiting[0] : undefined);
    if (target) return this.arrive(target.id, actor, 'qr');
    const here = open.find((t) => t.status === 'on_site' && mine(t));
    if (here) return here;
    const others = waiting[0];
    if (others) {
      throw new XiaoerError('not_assignee', `ticket ${others.id} is dispatched to ${others.assignee}`, {
        httpStatus: 403,
      });
    }
    throw new XiaoerError('no_open_ticket', `no open ticket waits for arrival at ${site}/${assetId}`, {
      httpStatus: 404,
    });
  }

  /**
   * The maintainer reports the repair done. With a sensor behind the ticket this stops the repair
   * clock tentatively: the sensor verifies it once the alarm has stayed clear. A manual ticket
   * with no sensor is verified on the maintainer's word.
   */
  async repaired(id: number, actor: Actor, report: RepairReport = {}): Promise<Ticket> {
    const { note, resolution } = report;
    const ticket = await this.get(id);
    assertMayWork(ticket, actor);
    if (ticket.status !== 'on_site') {
      throw conflict(
        'ticket_conflict',
        `ticket ${id} is ${ticket.status}; acknowledge arrival on site first`,
      );
    }
    const at = this.#writer.now();
    const met = at <= ticket.repair.dueAt;
    const sensor = ticket.ruleId !== 'manual';
    const change: TicketChange = { status: sensor ? 'repaired' : 'verified', repairAt: at, repairMet: met };
    if (resolution) change.resolution = resolution;
    if (!sensor) change.repairVerifiedAt = at;
    // An outage already recovering keeps its recovery time: the gateway being back is the proof.
    else if (!ticket.alarmActive && !(isOutage(ticket) && ticket.verifyDueAt !== undefined))
      change.verifyDueAt = at + this.#config.verifyMinutes * 60_000;
    const verification = sensor
      ? ticket.alarmActive
        ? 'waiting for the alarm to clear'
        : 'by the sensor'
      : 'manual';
    return this.#writer.update(
      ticket,
      change,
      'repaired',
      actor,
      { met, dueAt: ticket.repair.dueAt, note: note ?? null, resolution: resolution ?? null, verification },
      { at, expect: ['on_site'] },
    );
  }

  /**
   * Closing takes a resolution: what was found. A repair the sensor verified was a real fault
   * unless said otherwise; an unverified ticket needs the resolution (no fault found, sensor at
   * fault, duplicate...) and a reason in words, both kept in the audit trail. A resolution the
   * maintainer gave with the repair counts when none is given here. The resolutions make each
   * rule's noise score.
   */
  async close(
    id: number,
    actor: Actor,
    opts: { reason?: string; resolution?: Resolution } = {},
  ): Promise<Ticket> {
    const { reason } = opts;
    const ticket = await this.get(id);
    if (ticket.status === 'closed') throw conflict('ticket_conflict', `ticket ${id} is already closed`);
    const verified = ticket.status === 'verified';
    if (!verified && !reason) {
      throw badRequest(
        'reason_required',
        `ticket ${id} is ${ticket.status}, not verified; closing it needs a reason`,
      );
    }
    const resolution = opts.resolution ?? ticket.resolution ?? (verified ? 'real_fault' : undefined);
    if (!resolution) {
      throw badRequest(
        'resolution_required',
        `ticket ${id} is ${ticket.status}, not verified; closing it needs a resolution: ${RESOLUTIONS.join(', ')}`,
      );
    }
    const at = this.#writer.now();
    const closed = await this.#writer.update(
      ticket,
      { status: 'closed', closedAt: at, slaPausedAt: null, resolution },
      'closed',
      actor,
      { reason: reason ?? null, resolution },
      { at, expect: [ticket.status] },
    );
    // Children whose own alarm is still active stand alone; the others are resolved with it.
    if (isOutage(closed)) await this.#outages.releaseChildren(closed, actor, at);
    return closed;
  }

  /** An outage's cause has stayed gone for the recovery time (SLA scheduler). */
  recoverOutage(id: number, dueAt: Instant): Promise<Ticket | undefined> {
    return this.#outages.recover(id, dueAt);
  }

  /** The sensor kept the alarm clear since the repair: the repair is verified (SLA scheduler). */
  async verify(id: number, dueAt: Instant): Promise<Ticket | undefined> {
    const ticket = await this.#writer.store.getTicket(id);
    if (ticket?.status !== 'repaired' || ticket.verifyDueAt !== dueAt || ticket.alarmActive) return undefined;
    return guarded(() =>
      this.#writer.update(
        ticket,
        { status: 'verified', repairVerifiedAt: dueAt, verifyDueAt: null },
        'verified',
        { name: 'system:sensor' },
        { clearFor: this.#config.verifyMinutes * 60_000 },
        { at: dueAt, expect: ['repaired'], guard: { verifyDueAt: dueAt } },
      ),
    );
  }

  /** Called by the SLA scheduler when a deadline passes; records the breach at the deadline itself. */
  async markBreached(id: number, clock: SlaClockName, dueAt: Instant): Promise<Ticket | undefined> {
    const ticket = await this.#writer.store.getTicket(id);
    if (!ticket || !isRunning(ticket, clock) || ticket[clock].dueAt !== dueAt) return undefined;
    const change: TicketChange =
      clock === 'arrival'
        ? { arrivalBreachedAt: dueAt, arrivalMet: false }
        : { repairBreachedAt: dueAt, repairMet: false };
    // Only while the clock is still running: an arrival or repair committed meanwhile wins.
    const running = clock === 'arrival' ? BEFORE_ARRIVAL : BEFORE_REPAIR;
    const updated = await guarded(() =>
      this.#writer.update(
        ticket,
        change,
        'sla_breached',
        SYSTEM_SLA,
        { clock, dueAt },
        { at: dueAt, expect: running, guard: { slaPaused: false, notBreached: clock } },
      ),
    );
    if (updated)
      this.#log.warn({ ticketId: id, clock, dueAt: new Date(dueAt).toISOString() }, 'SLA target breached');
    return updated;
  }

  /**
   * Tells the next level once: 1 when the deadline is near (or, `nobody_on_shift`, at once when
   * nobody is checked in at the site), 2 when it is breached.
   */
  async escalate(
    id: number,
    clock: SlaClockName,
    level: 1 | 2,
    at: Instant,
    clockDueAt: Instant,
    reason: EscalationReason = level === 1 ? 'near' : 'breached',
  ): Promise<Ticket | undefined> {
    const ticket = await this.#writer.store.getTicket(id);
    if (
      !ticket ||
      ticket.status === 'closed' ||
      ticket.escalation[clock] >= level ||
      ticket.slaPausedAt !== undefined
    ) {
      return undefined;
    }
    // The deadline this was computed for must still be the clock's (a pause or reopen moves it).
    if (ticket[clock].dueAt !== clockDueAt) return undefined;
    if (level === 1 && !isRunning(ticket, clock)) return undefined;
    if (level === 2 && ticket[clock].breachedAt === undefined) return undefined;
    const to = this.#config.escalation.levels[level - 1];
    const change: TicketChange =
      clock === 'arrival' ? { arrivalEscalation: level } : { repairEscalation: level };
    const detail = {
      clock,
      level,
      to: to?.name,
      contacts: to?.contacts ?? [],
      reason,
    };
    return guarded(() =>
      this.#writer.update(ticket, change, 'escalated', SYSTEM_SLA, detail, {
        at,
        expect: OPEN_STATUSES,
        guard: { escalationBelow: { clock, level } },
      }),
    );
  }

  /** Planned work on the asset: its SLA clocks stop counting until the window ends. */
  async pauseSla(id: number, at: Instant, windowId: number): Promise<Ticket | undefined> {
    const ticket = await this.#writer.store.getTicket(id);
    if (!ticket || ticket.status === 'closed' || ticket.slaPausedAt !== undefined) return undefined;
    return guarded(() =>
      this.#writer.update(
        ticket,
        { slaPausedAt: at },
        'sla_paused',
        SYSTEM_MAINTENANCE,
        { windowId },
        { at, expect: OPEN_STATUSES, guard: { slaPaused: false } },
      ),
    );
  }

  /** The window ended: running deadlines move out by the time paused. */
  async resumeSla(id: number, at: Instant, windowId: number): Promise<Ticket | undefined> {
    const ticket = await this.#writer.store.getTicket(id);
    if (!ticket || ticket.slaPausedAt === undefined) return undefined;
    const pausedMs = Math.max(0, at - ticket.slaPausedAt);
    const change: TicketChange = { slaPausedAt: null };
    const unpaused: Ticket = { ...ticket, slaPausedAt: undefined };
    const arrivalDue = ticket.arrival.dueAt;
    if (arrivalDue !== undefined && isRunning(unpaused, 'arrival'))
      change.arrivalDueAt = arrivalDue + pausedMs;
    if (isRunning(unpaused, 'repair')) change.repairDueAt = ticket.repair.dueAt + pausedMs;
    return guarded(() =>
      this.#writer.update(
        ticket,
        change,
        'sla_resumed',
        SYSTEM_MAINTENANCE,
        { windowId, pausedMs },
        {
          at,
          guard: { slaPaused: true },
        },
      ),
    );
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
