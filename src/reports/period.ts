import { badRequest } from '../core/errors.ts';
import type { Instant } from '../domain/types.ts';

/** A report's period: [from, to) in epoch ms, with the time zone its days and weeks are read in. */
export interface Period {
  from: Instant;
  to: Instant;
  timeZone: string;
  /** `2026-W48`, `2026-11`, or `2026-11-01/2026-12-01`. */
  label: string;
}

const DAY_MS = 86_400_000;
const WEEK = /^(\d{4})-W(\d{2})$/;
const MONTH = /^(\d{4})-(\d{2})$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

interface LocalDate {
  year: number;
  month: number;
  day: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      throw badRequest('invalid_time_zone', `unknown time zone "${timeZone}"`);
    }
    // Bounded by the zones configured and asked for; an unknown zone throws above and is not kept.
    if (formatters.size < 64) formatters.set(timeZone, f);
  }
  return f;
}

/** The zone's offset from UTC at `at`, in ms (Asia/Shanghai: +8 h). */
function offsetAt(at: Instant, timeZone: string): number {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(at))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  const wall = Date.UTC(
    parts.year ?? 0,
    (parts.month ?? 1) - 1,
    parts.day ?? 1,
    parts.hour ?? 0,
    parts.minute ?? 0,
    parts.second ?? 0,
  );
  // The parts have whole seconds: compare with the instant's whole second.
  return wall - Math.floor(at / 1000) * 1000;
}

/** The instant of local midnight starting the day, in the zone (twice checked: an offset may change that day). */
export function startOfLocalDay(date: LocalDate, timeZone: string): Instant {
  const wall = Date.UTC(date.year, date.month - 1, date.day);
  const guess = wall - offsetAt(wall, timeZone);
  return wall - offsetAt(guess, timeZone);
}

/** The local calendar date of an instant in the zone. */
export function localDate(at: Instant, timeZone: string): LocalDate {
  const d = new Date(at + offsetAt(at, timeZone));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** ISO 8601 week-numbering year and week of a calendar date (weeks start on Monday; week 1 holds 4 January). */
function isoWeekOfDate(date: LocalDate): { year: number; week: number } {
  const utc = Date.UTC(date.year, date.month - 1, date.day);
  const weekday = (new Date(utc).getUTCDay() + 6) % 7; // Monday 0
  const thursday = new Date(utc + (3 - weekday) * DAY_MS);
  const year = thursday.getUTCFullYear();
  const week = Math.floor((thursday.getTime() - Date.UTC(year, 0, 1)) / (7 * DAY_MS)) + 1;
  return { year, week };
}

/** The Monday of ISO week `week` of `year`, as a calendar date. */
function mondayOf(year: number, week: number): LocalDate {
  const jan4 = Date.UTC(year, 0, 4);
  const jan4Weekday = (new Date(jan4).getUTCDay() + 6) % 7;
  const monday = new Date(jan4 - jan4Weekday * DAY_MS + (week - 1) * 7 * DAY_MS);
  return { year: monday.getUTCFullYear(), month: monday.getUTCMonth() + 1, day: monday.getUTCDate() };
}

function weeksInYear(year: number): number {
  return isoWeekOfDate({ year, month: 12, day: 28 }).week;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** The ISO week label (`2026-W48`) of the local day an instant falls on. */
export function weekLabel(at: Instant, timeZone: string): string {
  const { year, week } = isoWeekOfDate(localDate(at, timeZone));
  return `${year}-W${pad(week)}`;
}

/** ISO week `2026-W48`: Monday 00:00 local → the next Monday 00:00 local. */
export function isoWeek(label: string, timeZone: string): Period {
  const m = WEEK.exec(label);
  const year = Number(m?.[1]);
  const week = Number(m?.[2]);
  if (!m || week < 1 || week > weeksInYear(year))
    throw badRequest('invalid_week', `"${label}" is not an ISO week such as 2026-W48`);
  const monday = mondayOf(year, week);
  const next = mondayOf(year, week + 1);
  return {
    from: startOfLocalDay(monday, timeZone),
    to: startOfLocalDay(next, timeZone),
    timeZone,
    label: `${year}-W${pad(week)}`,
  };
}

/** Calendar month `2026-11`: the 1st 00:00 local → the next month's 1st 00:00 local. */
export function month(label: string, timeZone: string): Period {
  const m = MONTH.exec(label);
  const year = Number(m?.[1]);
  const mon = Number(m?.[2]);
  if (!m || mon < 1 || mon > 12)
    throw badRequest('invalid_month', `"${label}" is not a month such as 2026-11`);
  const next = mon === 12 ? { year: year + 1, month: 1, day: 1 } : { year, month: mon + 1, day: 1 };
  return {
    from: startOfLocalDay({ year, month: mon, day: 1 }, timeZone),
    to: startOfLocalDay(next, timeZone),
    timeZone,
    label: `${year}-${pad(mon)}`,
  };
}

/**
 * [from, to): each a date (`2026-11-01`, local midnight in the zone) or an ISO 8601 instant with
 * its offset (`2026-11-01T08:00:00+08:00`). `to` is exclusive: all of November is
 * `2026-11-01` to `2026-12-01`.
 */
export function range(fromIso: string, toIso: string, timeZone: string): Period {
  const from = parseBound(fromIso, 'from', timeZone);
  const to = parseBound(toIso, 'to', timeZone);
  if (!(to > from)) throw badRequest('invalid_period', `"to" (${toIso}) must be after "from" (${fromIso})`);
  return { from, to, timeZone, label: `${fromIso}/${toIso}` };
}

function parseBound(text: string, name: string, timeZone: string): Instant {
  const d = DATE.exec(text);
  if (d) {
    const date = { year: Number(d[1]), month: Number(d[2]), day: Number(d[3]) };
    const check = new Date(Date.UTC(date.year, date.month - 1, date.day));
    if (check.getUTCMonth() + 1 === date.month && check.getUTCDate() === date.day)
      return startOfLocalDay(date, timeZone);
  } else if (/^\d{4}-\d{2}-\d{2}T.*(Z|[+-]\d{2}:?\d{2})$/.test(text)) {
    const at = Date.parse(text);
    if (Number.isFinite(at)) return at;
  }
  throw badRequest(
    'invalid_period',
    `"${name}" (${text}) is neither a date such as 2026-11-01 nor an instant with its offset such as 2026-11-01T08:00:00+08:00`,
  );
}

/** The ISO weeks an instant range touches, in order (labels of the weeks the period's days fall in). */
export function weeksOf(period: Period): string[] {
  const labels: string[] = [];
  let day = localDate(period.from, period.timeZone);
  for (;;) {
    const start = startOfLocalDay(day, period.timeZone);
    if (start >= period.to) break;
    const label = weekLabel(Math.max(start, period.from), period.timeZone);
    if (labels.at(-1) !== label) labels.push(label);
    const next = new Date(Date.UTC(day.year, day.month - 1, day.day) + DAY_MS);
    day = { year: next.getUTCFullYear(), month: next.getUTCMonth() + 1, day: next.getUTCDate() };
    if (labels.length > 600) break; // a range of more than ten years is not a report
  }
  return labels;
}
