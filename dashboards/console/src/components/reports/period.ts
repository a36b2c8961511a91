/**
 * The report's period in the sites' time zone (reports contract: [from, to), weeks from Monday
 * 00:00 local, ISO week numbers). Pure functions, so the page and a test agree on the bounds.
 */
export const REPORT_TIME_ZONE = 'Asia/Shanghai';

export type PeriodMode = 'thisWeek' | 'lastWeek' | 'week' | 'month' | 'range';
export const PERIOD_MODES: PeriodMode[] = ['thisWeek', 'lastWeek', 'week', 'month', 'range'];

export interface PeriodChoice {
  mode: PeriodMode;
  /** `2026-W48` (mode week). */
  week?: string;
  /** `2026-11` (mode month). */
  month?: string;
  /** `2026-11-01` (mode range, both days included). */
  fromDay?: string;
  toDay?: string;
}

/** A resolved period: [from, to) in epoch ms, and the week or month the weekly report takes. */
export interface ResolvedPeriod {
  from: number;
  to: number;
  week: string | null;
  month: string | null;
}

const DAY = 86_400_000;

interface Parts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function partsIn(ms: number, timeZone: string): Parts {
  const fmt = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
  const p: Record<string, number> = {};
  for (const part of fmt.formatToParts(new Date(ms))) {
    if (part.type !== 'literal') p[part.type] = Number(part.value);
  }
  return {
    year: p.year ?? 1970,
    month: p.month ?? 1,
    day: p.day ?? 1,
    hour: (p.hour ?? 0) % 24,
    minute: p.minute ?? 0,
    second: p.second ?? 0,
  };
}

/** How far the zone's wall clock is ahead of UTC at an instant. */
function offsetAt(ms: number, timeZone: string): number {
  const p = partsIn(ms, timeZone);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(ms / 1000) * 1000;
}

/** 00:00 of a calendar day in the zone, as epoch ms. */
export function zonedMidnight(year: number, month: number, day: number, timeZone: string): number {
  const wall = Date.UTC(year, month - 1, day);
  const first = wall - offsetAt(wall, timeZone);
  return wall - offsetAt(first, timeZone);
}

/** The calendar day (as a UTC midnight) of an instant in the zone. */
function localDay(ms: number, timeZone: string): number {
  const p = partsIn(ms, timeZone);
  return Date.UTC(p.year, p.month - 1, p.day);
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** ISO 8601 week of a UTC-midnight day: `2026-W48`. */
function isoWeekOfDay(day: number): string {
  const weekday = new Date(day).getUTCDay() || 7;
  const thursday = day + (4 - weekday) * DAY;
  const year = new Date(thursday).getUTCFullYear();
  const week = Math.floor((thursday - Date.UTC(year, 0, 1)) / DAY / 7) + 1;
  return `${year}-W${pad(week)}`;
}

/** The ISO week holding an instant, in the zone. */
export function isoWeekOf(ms: number, timeZone = REPORT_TIME_ZONE): string {
  return isoWeekOfDay(localDay(ms, timeZone));
}

/** `2026-11` of an instant, in the zone. */
export function monthOf(ms: number, timeZone = REPORT_TIME_ZONE): string {
  const p = partsIn(ms, timeZone);
  return `${p.year}-${pad(p.month)}`;
}

/** `2026-11-30` of an instant, in the zone. */
export function dayOf(ms: number, timeZone = REPORT_TIME_ZONE): string {
  const p = partsIn(ms, timeZone);
  return `${p.year}-${pad(p.month)}-${pad(p.day)}`;
}

/** Monday 00:00 of an ISO week → the next Monday 00:00, in the zone; null for a malformed week. */
export function weekBounds(week: string, timeZone = REPORT_TIME_ZONE): { from: number; to: number } | null {
  const m = /^(\d{4})-W(\d{2})$/.exec(week);
  if (!m) return null;
  const year = Number(m[1]);
  const n = Number(m[2]);
  const jan4 = Date.UTC(year, 0, 4);
  const monday = jan4 - ((new Date(jan4).getUTCDay() || 7) - 1) * DAY + (n - 1) * DAY * 7;
  if (n < 1 || isoWeekOfDay(monday) !== week) return null;
  const start = new Date(monday);
  const end = new Date(monday + 7 * DAY);
  return {
    from: zonedMidnight(start.getUTCFullYear(), start.getUTCMonth() + 1, start.getUTCDate(), timeZone),
    to: zonedMidnight(end.getUTCFullYear(), end.getUTCMonth() + 1, end.getUTCDate(), timeZone),
  };
}

export function monthBounds(month: string, timeZone = REPORT_TIME_ZONE): { from: number; to: number } | null {
  const m = /^(\d{4})-(\d{2})$/.exec(month);
  if (!m) return null;
  const year = Number(m[1]);
  const mo = Number(m[2]);
  if (mo < 1 || mo > 12) return null;
  return {
    from: zonedMidnight(year, mo, 1, timeZone),
    to: mo === 12 ? zonedMidnight(year + 1, 1, 1, timeZone) : zonedMidnight(year, mo + 1, 1, timeZone),
  };
}

function dayStart(day: string, timeZone: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) return null;
  return zonedMidnight(Number(m[1]), Number(m[2]), Number(m[3]), timeZone);
}

/** The choice on the page as a period; null while it is incomplete or backwards. */
export function resolvePeriod(
  choice: PeriodChoice,
  now: number,
  timeZone = REPORT_TIME_ZONE,
): ResolvedPeriod | null {
  switch (choice.mode) {
    case 'thisWeek':
    case 'lastWeek': {
      const week = isoWeekOfDay(localDay(now, timeZone) - (choice.mode === 'lastWeek' ? 7 * DAY : 0));
      const b = weekBounds(week, timeZone);
      return b ? { ...b, week, month: null } : null;
    }
    case 'week': {
      const b = choice.week ? weekBounds(choice.week, timeZone) : null;
      return b && choice.week ? { ...b, week: choice.week, month: null } : null;
    }
    case 'month': {
      const b = choice.month ? monthBounds(choice.month, timeZone) : null;
      return b && choice.month ? { ...b, week: null, month: choice.month } : null;
    }
    case 'range': {
      const from = choice.fromDay ? dayStart(choice.fromDay, timeZone) : null;
      const last = choice.toDay ? dayStart(choice.toDay, timeZone) : null;
      if (from === null || last === null || last < from) return null;
      // Both days are included: up to the midnight after the last one.
      const next = new Date(localDay(last + DAY / 2, timeZone) + DAY);
      const to = zonedMidnight(next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate(), timeZone);
      return { from, to, week: null, month: null };
    }
  }
}
