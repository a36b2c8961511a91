/**
 * One line per ticket change, as a service-desk board would show it scrolling by.
 */
import type { TicketEventView, TicketView } from './api-client.ts';

const time = (iso: string | null | undefined) =>
  iso ? new Date(iso).toTimeString().slice(0, 8) : '--:--:--';

function what(t: TicketView, e: TicketEventView): string | undefined {
  const met = (ok: boolean | null | undefined) => (ok === false ? 'LATE' : 'on time');
  switch (e.type) {
    case 'raised':
      return `raised, on site by ${time(t.arrival.dueAt)}, repaired by ${time(t.repair.dueAt)}`;
    case 'dispatched':
      return `dispatched to ${String(e.detail.assignee ?? t.assignee ?? '?')}`;
    case 'arrived':
      return `${t.assignee ?? e.actor} on site (${met(t.arrival.met)})`;
    case 'repaired':
      return `repaired by ${e.actor} (${met(t.repair.met)})`;
    case 'sla_breached':
      return `SLA BREACHED: ${String(e.detail.clock ?? '?')} deadline passed`;
    case 'alarm_cleared':
      return 'alarm cleared by the device';
    case 'alarm_repeated':
      return undefined; // the same fault reported again: noise on a board
    case 'closed':
      return e.detail.reason ? `closed (${String(e.detail.reason)})` : 'closed';
    default:
      return e.type.replace(/_/g, ' ');
  }
}

export function formatTicketLine(t: TicketView, e: TicketEventView): string | undefined {
  const text = what(t, e);
  if (!text) return undefined;
  const id = `#${t.id}`.padEnd(6);
  return `${time(e.at)}  ${id} ${t.site.padEnd(9)} ${t.category.padEnd(9)} ${t.assetId.padEnd(28)} ${t.fault.padEnd(20)} ${text}`;
}
