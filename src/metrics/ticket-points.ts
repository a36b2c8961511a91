import type { IPoint } from 'influx';
import type { Ticket, TicketEvent } from '../domain/types.ts';
import type { LogEntry } from '../events/event-log.ts';
import { OPEN_STATUSES, type SlaClockName } from '../tickets/clocks.ts';

/** The InfluxDB measurements xiaoer writes for Grafana besides telemetry (one per metric). */
export const TICKET_MEASUREMENTS = {
  events: 'ticket_events',
  sla: 'sla',
  open: 'open_tickets',
} as const;

export type SlaOutcome = 'met' | 'breached';

/**
 * Events that are points of their own. The nanoseconds under the event's millisecond are its log
 * id (mod 10^6): two events of one millisecond with the same tags stay two points, while the same
 * event written again (at-least-once delivery) lands on the same series and time and overwrites
 * itself, as InfluxDB 1.x does for an identical timestamp and tag set.
 */
export function eventTime(event: Pick<TicketEvent, 'id' | 'at'>): string {
  return `${event.at}${String(event.id % 1_000_000).padStart(6, '0')}`;
}

/** The points for one log entry: the event itself, and an SLA outcome when this event decided one. */
export function ticketPoints({ ticket, event }: LogEntry): IPoint[] {
  const time = eventTime(event);
  const points: IPoint[] = [
    {
      measurement: TICKET_MEASUREMENTS.events,
      tags: {
        asset: ticket.assetId,
        category: ticket.category,
        severity: ticket.severity,
        site: ticket.site,
        type: event.type,
      },
      fields: { count: 1, ticket_id: ticket.id, event_id: event.id, fault: ticket.fault },
      timestamp: time,
    },
  ];
  for (const [clock, outcome] of slaOutcomes(ticket, event)) {
    const due = ticket[clock].dueAt;
    const at = outcome === 'met' ? ticket[clock].at : event.at;
    points.push({
      measurement: TICKET_MEASUREMENTS.sla,
      tags: { category: ticket.category, clock, outcome, site: ticket.site },
      fields: {
        count: 1,
        // Both as 0/1 so that one mean() is the compliance and one sum() each count.
        met: outcome === 'met' ? 1 : 0,
        breached: outcome === 'breached' ? 1 : 0,
        ticket_id: ticket.id,
        // Positive: reached this long before the deadline; a breach is recorded at the deadline.
        ...(due !== undefined && at !== undefined ? { margin_seconds: (due - at) / 1000 } : {}),
      },
      timestamp: time,
    });
  }
  return points;
}

/**
 * Which clocks this event decided, met or breached. Each clock of a ticket is decided once per
 * round (a reopened ticket's repair clock is decided again): a breach by `sla_breached`, a met
 * target by the arrival, the repair report, or an outage's recovery when nobody reported a repair.
 */
export function slaOutcomes(ticket: Ticket, event: TicketEvent): [SlaClockName, SlaOutcome][] {
  switch (event.type) {
    case 'sla_breached': {
      const clock = event.detail.clock;
      return clock === 'arrival' || clock === 'repair' ? [[clock, 'breached']] : [];
    }
    case 'arrived':
      return ticket.arrival.met === true && ticket.arrival.at === event.at ? [['arrival', 'met']] : [];
    case 'repaired':
      return ticket.repair.met === true ? [['repair', 'met']] : [];
    case 'verified': {
      const recovered =
        event.detail.by === 'recovery' ? Date.parse(String(event.detail.recoveredAt)) : Number.NaN;
      return ticket.repair.met === true && ticket.repair.at === recovered ? [['repair', 'met']] : [];
    }
    default:
      return [];
  }
}

/**
 * One `open_tickets` point per site and category, every pair the config knows, zeros included
 * (a panel showing the last value must fall to 0, not keep the last non-zero one): `count` and
 * one field per open status.
 */
export function openTicketPoints(
  open: readonly Ticket[],
  sites: readonly string[],
  categories: readonly string[],
  at: number,
): IPoint[] {
  const counts = new Map<string, Record<string, number>>();
  const key = (site: string, category: string) => `${site}\u0000${category}`;
  for (const site of sites)
    for (const category of categories)
      counts.set(
        key(site, category),
        Object.fromEntries([['count', 0], ...OPEN_STATUSES.map((s) => [s, 0])]),
      );
  for (const ticket of open) {
    const row = counts.get(key(ticket.site, ticket.category));
    if (!row || ticket.status === 'closed') continue;
    row.count = (row.count ?? 0) + 1;
    row[ticket.status] = (row[ticket.status] ?? 0) + 1;
  }
  return [...counts].map(([k, fields]) => {
    const [site = '', category = ''] = k.split('\u0000');
    return { measurement: TICKET_MEASUREMENTS.open, tags: { category, site }, fields, timestamp: at };
  });
}
