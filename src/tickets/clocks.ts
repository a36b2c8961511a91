import type { SlaTargets } from '../config/directory.ts';
import type { Alarm, AlarmTrigger, Instant, Ticket, TicketStatus } from '../domain/types.ts';

export type SlaClockName = 'arrival' | 'repair';

export const OPEN_STATUSES: readonly TicketStatus[] = [
  'raised',
  'dispatched',
  'on_site',
  'repaired',
  'verified',
];
export const BEFORE_ARRIVAL: readonly TicketStatus[] = ['raised', 'dispatched'];
export const BEFORE_REPAIR: readonly TicketStatus[] = ['raised', 'dispatched', 'on_site'];

/** Both SLA clocks start at detection; a category without an arrival target has no arrival deadline. */
export function newClocks(detectedAt: Instant, sla: SlaTargets): Pick<Ticket, 'arrival' | 'repair'> {
  return {
    arrival: sla.arrivalMs === null ? {} : { dueAt: detectedAt + sla.arrivalMs },
    repair: { dueAt: detectedAt + sla.repairMs },
  };
}

/**
 * Whether an SLA clock is still counting down: it has a deadline, is neither reached nor breached
 * nor paused, the ticket is in a status before that step, and it is not part of an outage (the
 * outage ticket carries the clocks for all its devices).
 */
export function isRunning(ticket: Ticket, clock: SlaClockName): boolean {
  if (ticket.slaPausedAt !== undefined || ticket.parentId !== undefined) return false;
  if (!(clock === 'arrival' ? BEFORE_ARRIVAL : BEFORE_REPAIR).includes(ticket.status)) return false;
  const c = ticket[clock];
  return c.dueAt !== undefined && c.at === undefined && c.breachedAt === undefined;
}

export function isOutage(ticket: Pick<Ticket, 'meaning'>): boolean {
  return ticket.meaning === 'outage';
}

/** A device not heard from (offline, silent): what an outage takes as its children. */
export function isUnavailable(ticket: Pick<Ticket, 'meaning'>): boolean {
  return ticket.meaning === 'availability';
}

/** The reading or event behind an alarm and the rule's limit, as the ticket keeps it. */
export function triggerOf(alarm: Alarm): AlarmTrigger | undefined {
  const cause = alarm.cause;
  if (!cause) return undefined;
  const trigger: AlarmTrigger = { at: cause.ts };
  if ('metric' in cause) {
    trigger.metric = cause.metric;
    trigger.value = cause.value;
    if (cause.unit) trigger.unit = cause.unit;
  } else trigger.code = cause.code;
  if (alarm.limit) trigger.limit = alarm.limit;
  return trigger;
}
