import type { Instant, Ticket, TicketEvent } from '../domain/types.ts';
import { NOISE_RESOLUTIONS, type Resolution } from '../domain/types.ts';

/** One ticket and its events (oldest first), as the store and the event log give them. */
export interface TicketHistory {
  ticket: Ticket;
  events: readonly TicketEvent[];
}

/** How one SLA clock ended, as the lifecycle judged it by `asOf`. */
export interface ClockOutcome {
  /** `pending`: still running (or paused) at `asOf`; `none`: no target, or stopped unmet (closed unrepaired). */
  result: 'met' | 'breached' | 'pending' | 'none';
  dueAt?: Instant;
  /** When the target was reached (arrival, repair), if it was by `asOf`. */
  at?: Instant;
}

/**
 * What a ticket's events say about it at `asOf` (events after it are not read). Durations are net
 * of SLA pauses, the way the lifecycle moves deadlines (src/tickets/ticket-service.ts resumeSla):
 * a pause counts only if it was resumed (`sla_resumed`) before the step it delays; one still on
 * when the step happened, or ended by a reopen or close, moved no deadline and is not deducted.
 */
export interface TicketFacts {
  ticket: Ticket;
  detectedAt: Instant;
  /** The first dispatch, the first arrival, the first repair (see `repair`), its verification. */
  dispatchedAt?: Instant;
  arrivedAt?: Instant;
  repairedAt?: Instant;
  verifiedAt?: Instant;
  /** Net ms from detection (verify: from the repair), paused time deducted. */
  dispatchMs?: number;
  arriveMs?: number;
  repairMs?: number;
  verifyMs?: number;
  arrival: ClockOutcome;
  /** The first repair cycle: from detection to the repair that ended it (see docs/architecture.md). */
  repair: ClockOutcome;
  reopenCount: number;
  flapping: boolean;
  /** The maintainer the ticket was with at `asOf`: the last dispatch, else who arrived. */
  maintainer?: string;
  closed: boolean;
  resolution?: Resolution;
  /** The rule behind the ticket at `asOf` (a hotline ticket a sensor confirms follows that rule). */
  ruleId: string;
}

interface Pause {
  from: Instant;
  to: Instant;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Paused ms of pauses resumed by `end` (and begun at or after `start`). */
function pausedWithin(pauses: readonly Pause[], start: Instant, end: Instant): number {
  let ms = 0;
  for (const p of pauses) if (p.from >= start && p.to <= end) ms += p.to - p.from;
  return ms;
}

function pausesOf(events: readonly TicketEvent[]): Pause[] {
  const pauses: Pause[] = [];
  let open: Instant | undefined;
  for (const e of events) {
    if (e.type === 'sla_paused') open = e.at;
    else if (e.type === 'sla_resumed' && open !== undefined) {
      pauses.push({ from: open, to: e.at });
      open = undefined;
    } else if (e.type === 'reopened' || e.type === 'closed') open = undefined;
  }
  return pauses;
}

/**
 * The ticket's first repair cycle, from detection. A repair undone by a reopen before the sensor
 * verified it "never happened" (the lifecycle keeps its clock running from detection), so the
 * cycle goes on; a reopen after verification (or after closing) ends it: that is a recurrence,
 * counted in `reopenCount`, with a new repair clock that the figures do not judge again.
 */
function firstRepairCycle(events: readonly TicketEvent[]) {
  let repairedAt: Instant | undefined;
  let met: boolean | undefined;
  let manual = false;
  let breachDueAt: Instant | undefined;
  let dueAt: Instant | undefined;
  let verifiedAt: Instant | undefined;
  for (const e of events) {
    if (e.type === 'reopened') {
      if (e.detail.previousStatus !== 'repaired') break;
      repairedAt = undefined;
      met = undefined;
    } else if (e.type === 'repaired') {
      repairedAt = e.at;
      met = e.detail.met === true;
      manual = e.detail.verification === 'manual';
      if (typeof e.detail.dueAt === 'number') dueAt = e.detail.dueAt;
      if (manual) verifiedAt = e.at;
    } else if (e.type === 'sla_breached' && e.detail.clock === 'repair') {
      breachDueAt = typeof e.detail.dueAt === 'number' ? e.detail.dueAt : undefined;
    } else if (e.type === 'verified' && verifiedAt === undefined) {
      // An outage is verified by its recovery, which stands for the repair when none was reported.
      if (repairedAt === undefined) {
        const recovered = Date.parse(str(e.detail.recoveredAt) ?? '');
        repairedAt = Number.isFinite(recovered) ? recovered : e.at;
        met = undefined;
      }
      verifiedAt = e.at;
      break;
    }
  }
  return { repairedAt, met, manual, breachDueAt, dueAt: breachDueAt ?? dueAt, verifiedAt };
}

function arrivalOutcome(ticket: Ticket, events: readonly TicketEvent[], arrived?: TicketEvent): ClockOutcome {
  const breach = events.find((e) => e.type === 'sla_breached' && e.detail.clock === 'arrival');
  const arrivedDue = typeof arrived?.detail.dueAt === 'number' ? arrived.detail.dueAt : undefined;
  const dueAt = typeof breach?.detail.dueAt === 'number' ? breach.detail.dueAt : arrivedDue;
  const at = arrived?.at;
  const base = { ...(dueAt !== undefined ? { dueAt } : {}), ...(at !== undefined ? { at } : {}) };
  if (breach || arrived?.detail.met === false) return { result: 'breached', ...base };
  if (arrived?.detail.met === true) return { result: 'met', ...base };
  // No target (a request nobody goes on site for), or an arrival recorded without one.
  if (ticket.arrival.dueAt === undefined || arrived) return { result: 'none', ...base };
  return { result: isClosed(events) ? 'none' : 'pending', ...base };
}

/** Closed at the end of these events (a ticket closed and later reopened is open again). */
function isClosed(events: readonly TicketEvent[]): boolean {
  let closed = false;
  for (const e of events) {
    if (e.type === 'closed') closed = true;
    else if (e.type === 'reopened') closed = false;
  }
  return closed;
}

/** The facts of one ticket from its events up to `asOf`; undefined if it was not raised by then. */
export function ticketFacts(history: TicketHistory, asOf: Instant): TicketFacts | undefined {
  const { ticket } = history;
  const events = history.events.filter((e) => e.at <= asOf);
  if (!events.some((e) => e.type === 'raised')) return undefined;
  const detectedAt = ticket.detectedAt;
  const pauses = pausesOf(events);
  const net = (end: Instant | undefined, start = detectedAt) =>
    end === undefined ? undefined : Math.max(0, end - start - pausedWithin(pauses, start, end));

  const dispatched = events.find((e) => e.type === 'dispatched');
  const arrived = events.find((e) => e.type === 'arrived' && e.detail.again !== true);
  const cycle = firstRepairCycle(events);
  const repair = repairOutcome(cycle, events, ticket);

  let maintainer: string | undefined;
  for (const e of events) {
    if (e.type === 'dispatched') maintainer = str(e.detail.assignee) ?? maintainer;
    else if (e.type === 'arrived' && maintainer === undefined) maintainer = e.actor;
  }
  const closedEvent = isClosed(events) ? [...events].reverse().find((e) => e.type === 'closed') : undefined;
  const resolution = str(closedEvent?.detail.resolution) as Resolution | undefined;
  const flappingEvent = events.some((e) => e.type === 'flapping');
  // Raised flapping: the flag is never cleared, and no `flapping` event was written for it.
  const raisedFlapping = ticket.flapping && !history.events.some((e) => e.type === 'flapping');
  let ruleId = ticket.meaning === 'outage' ? ticket.ruleId : 'manual';
  if (ticket.meaning !== 'outage') for (const e of events) ruleId = str(e.detail.ruleId) ?? ruleId;

  const facts: TicketFacts = {
    ticket,
    detectedAt,
    arrival: arrivalOutcome(ticket, events, arrived),
    repair,
    reopenCount: events.filter((e) => e.type === 'reopened').length,
    flapping: flappingEvent || raisedFlapping,
    closed: closedEvent !== undefined,
    ruleId,
  };
  if (dispatched) Object.assign(facts, { dispatchedAt: dispatched.at, dispatchMs: net(dispatched.at) });
  if (arrived) Object.assign(facts, { arrivedAt: arrived.at, arriveMs: net(arrived.at) });
  if (cycle.repairedAt !== undefined)
    Object.assign(facts, { repairedAt: cycle.repairedAt, repairMs: net(cycle.repairedAt) });
  if (cycle.verifiedAt !== undefined && cycle.repairedAt !== undefined && !cycle.manual)
    Object.assign(facts, {
      verifiedAt: cycle.verifiedAt,
      verifyMs: net(cycle.verifiedAt, cycle.repairedAt),
    });
  if (maintainer !== undefined) facts.maintainer = maintainer;
  if (resolution !== undefined) facts.resolution = resolution;
  return facts;
}

function repairOutcome(
  cycle: ReturnType<typeof firstRepairCycle>,
  events: readonly TicketEvent[],
  ticket: Ticket,
): ClockOutcome {
  const dueAt = cycle.dueAt ?? (cycle.repairedAt === undefined ? undefined : ticket.repair.dueAt);
  const base = {
    ...(dueAt !== undefined ? { dueAt } : {}),
    ...(cycle.repairedAt !== undefined ? { at: cycle.repairedAt } : {}),
  };
  if (cycle.breachDueAt !== undefined || cycle.met === false) return { result: 'breached', ...base };
  if (cycle.met === true) return { result: 'met', ...base };
  if (cycle.repairedAt !== undefined)
    // An outage recovered with no repair reported: judged against its deadline at the recovery.
    return { result: dueAt !== undefined && cycle.repairedAt <= dueAt ? 'met' : 'breached', ...base };
  return { result: isClosed(events) ? 'none' : 'pending', ...base };
}

/** Whether the ticket was closed as noise for its rule (nothing found, or the sensor at fault). */
export function isNoise(facts: TicketFacts): boolean {
  return facts.resolution !== undefined && NOISE_RESOLUTIONS.includes(facts.resolution);
}
