import type { ClockName } from '../../desk-types';
import type { Ticket } from '../../types';

/**
 * What a countdown shows: `ok` (green), `near` (amber: at most 20 % of the time left, or the next
 * level already told), `breached` (red, counting the time over), or a decided or stopped clock.
 */
export type ClockDisplay =
  | 'ok'
  | 'near'
  | 'breached'
  | 'met'
  | 'missed'
  | 'paused'
  | 'outage'
  | 'stopped'
  | 'none';

export interface ClockView {
  state: ClockDisplay;
  /** Seconds to the deadline (negative: over it); null when nothing counts. */
  seconds: number | null;
}

/** Share of the target left at which a clock turns amber. */
export const NEAR_SHARE = 0.2;

/**
 * A ticket's clock at `now` (client time). Running clocks count against `dueAt`, so every
 * screen counts the same way between two updates; a paused one shows the time it froze with.
 */
export function clockView(ticket: Ticket, name: ClockName, now: number): ClockView {
  const clock = ticket[name];
  const due = clock.dueAt ? Date.parse(clock.dueAt) : null;
  switch (clock.state) {
    case 'none':
      return { state: 'none', seconds: null };
    case 'met':
      return { state: 'met', seconds: null };
    case 'paused':
      return { state: 'paused', seconds: clock.remainingSeconds };
    case 'outage':
      return { state: 'outage', seconds: null };
    case 'stopped':
      return { state: 'stopped', seconds: null };
    case 'missed': {
      // Still open: the clock keeps counting the time over the deadline.
      const open = clock.at === null && ticket.status !== 'closed' && due !== null;
      return open ? { state: 'breached', seconds: (due - now) / 1000 } : { state: 'missed', seconds: null };
    }
    case 'running': {
      if (due === null) return { state: 'none', seconds: null };
      const seconds = (due - now) / 1000;
      if (seconds <= 0) return { state: 'breached', seconds };
      const total = (due - Date.parse(ticket.detectedAt)) / 1000;
      const near = seconds <= total * NEAR_SHARE || ticket.escalation[name] >= 1;
      return { state: near ? 'near' : 'ok', seconds };
    }
  }
}

/** Whether a clock is counting down or over (the board sorts these first). */
export const isCounting = (v: ClockView) => v.state === 'ok' || v.state === 'near' || v.state === 'breached';

/**
 * The board's order: tickets with a counting clock first, nearest deadline first (overdue ones
 * before all), then the rest by their earliest deadline, then the oldest first.
 */
export function byDeadline(now: number) {
  const key = (t: Ticket) => {
    const views = (['arrival', 'repair'] as const).map((n) => ({ n, v: clockView(t, n, now) }));
    const counting = views.filter(({ v }) => isCounting(v));
    const dues = (counting.length ? counting : views)
      .map(({ n }) => t[n].dueAt)
      .filter((d): d is string => d !== null)
      .map((d) => Date.parse(d));
    return { counting: counting.length > 0, due: dues.length ? Math.min(...dues) : Number.POSITIVE_INFINITY };
  };
  return (a: Ticket, b: Ticket): number => {
    const ka = key(a);
    const kb = key(b);
    if (ka.counting !== kb.counting) return ka.counting ? -1 : 1;
    if (ka.due !== kb.due) return ka.due - kb.due;
    return a.id - b.id;
  };
}
