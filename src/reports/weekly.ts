import type { Directory } from '../config/directory.ts';
import { badRequest } from '../core/errors.ts';
import type { Instant } from '../domain/types.ts';
import type { Store } from '../store/store.ts';
import {
  faultsReport,
  type ReportData,
  type ReportFilter,
  scoreReport,
  slaReport,
  timingsReport,
} from './figures.ts';
import { isoWeek, localDate, month, type Period, weekLabel } from './period.ts';
import type { ReportLang, SlaGroup, TicketRef, WeeklyReportView } from './render/model.ts';
import { inReport } from './report-data.ts';
import type { ReportSource } from './report-source.ts';

/** The weeks the weekly report's trend shows: the report's week and the ones before it. */
export const TREND_WEEKS = 8;
const DAY_MS = 86_400_000;

export interface WeeklyReportRequest {
  /** ISO week `2026-W48`, or (exclusive) */
  week?: string;
  /** calendar month `2026-11`. */
  month?: string;
  lang?: ReportLang;
  /** The user's sites; empty or absent: every site. */
  sites?: readonly string[];
  /** Events after this are not read (default: now). */
  asOf?: Instant;
}

export interface WeeklyReportDeps {
  source: ReportSource;
  directory: Directory;
  /** Display names of maintainers. */
  store: Pick<Store, 'listUsers'>;
  /** The promised targets (config `sla`). */
  targets: { arrivalMinutes: number; repairMinutes: number };
  now(): Instant;
}

/** The period asked for: exactly one of `week` and `month`, read in the reports' time zone. */
export function reportPeriod(req: Pick<WeeklyReportRequest, 'week' | 'month'>, timeZone: string): Period {
  if ((req.week === undefined) === (req.month === undefined))
    throw badRequest(
      'invalid_period',
      'give exactly one of week (such as 2026-W48) and month (such as 2026-11)',
    );
  return req.week !== undefined ? isoWeek(req.week, timeZone) : month(req.month ?? '', timeZone);
}

/** The period before: the week before a week, the month before a month. */
function previousPeriod(period: Period, kind: 'week' | 'month'): Period {
  const tz = period.timeZone;
  if (kind === 'week') return isoWeek(weekLabel(period.from - DAY_MS / 2, tz), tz);
  const d = localDate(period.from - DAY_MS / 2, tz);
  return month(`${d.year}-${String(d.month).padStart(2, '0')}`, tz);
}

/** The trend's span: the TREND_WEEKS weeks ending with a week, or the month's own weeks. */
function trendPeriod(period: Period, kind: 'week' | 'month'): Period {
  if (kind === 'month') return period;
  const tz = period.timeZone;
  const first = isoWeek(weekLabel(period.from - (TREND_WEEKS - 1) * 7 * DAY_MS + DAY_MS / 2, tz), tz);
  return { ...period, from: first.from, label: `${first.label}/${period.label}` };
}

/** Gathers every figure of the weekly (or monthly) report from the report functions. */
export async function buildWeeklyReport(
  deps: WeeklyReportDeps,
  req: WeeklyReportRequest,
): Promise<WeeklyReportView> {
  const tz = deps.source.timeZone;
  const kind = req.week !== undefined ? 'week' : 'month';
  const period = reportPeriod(req, tz);
  const previous = previousPeriod(period, kind);
  const trend = trendPeriod(period, kind);
  const sites = req.sites ?? [];
  const asOf = req.asOf ?? deps.now();
  // One read of the store for the whole span; each figure applies its own period to it.
  const from = Math.min(previous.from, trend.from);
  const data = await deps.source.data({ period: { ...period, from, label: 'span' }, sites }, asOf);
  const filter: ReportFilter = { period, sites };
  const sla = (groupBy: 'site' | 'category' | 'maintainer' | 'none', f = filter) =>
    slaReport(data, f, groupBy);
  const overall = sla('none');
  const faults = faultsReport(data, filter);
  const names = await displayNames(deps);
  const maintainers = sla('maintainer').groups.map((g) => ({ ...g, label: names(g.key) }));
  const { weights, teams } = deps.source.config.scoring;
  const scores = scoreReport(data, filter, weights, teams);
  const scoreRows = [...scores.maintainers.map((s) => ({ ...s, label: names(s.key) })), ...scores.teams];
  const prevFilter: ReportFilter = { period: previous, sites };
  return {
    lang: req.lang ?? 'zh',
    kind,
    period,
    generatedAt: deps.now(),
    targets: deps.targets,
    siteNames: deps.directory.sites
      .filter((s) => sites.length === 0 || sites.includes(s.id))
      .map((s) => s.name),
    overall: overall.groups[0] ?? emptyGroup(),
    previous: {
      tickets: faultsReport(data, prevFilter).total,
      overall: slaReport(data, prevFilter, 'none').groups[0] ?? emptyGroup(),
      repairMeanSeconds: timingsReport(data, prevFilter).repair.meanSeconds,
    },
    sla: { bySite: sla('site').groups, byCategory: sla('category').groups, byMaintainer: maintainers },
    breaches: overall.breaches.sort((a, b) => b.overBySeconds - a.overBySeconds),
    timings: { ...timingsReport(data, filter), trend: timingsReport(data, { period: trend, sites }).trend },
    faults,
    scores: scoreRows.length > 0 ? { rows: scoreRows, weights: { ...scores.weights } } : null,
    satisfaction: satisfactionOf(data, filter),
    tickets: ticketRefs(data, deps.directory),
  };
}

const emptyGroup = (): SlaGroup => {
  const none = { total: 0, met: 0, breached: 0, compliance: null };
  return { key: 'all', label: 'all', arrival: none, repair: none };
};

async function displayNames(deps: WeeklyReportDeps): Promise<(username: string) => string> {
  const users = new Map((await deps.store.listUsers()).map((u) => [u.username, u.displayName]));
  return (username) => {
    const name = users.get(username);
    return name && name !== username ? `${name} (${username})` : username;
  };
}

/** The mean call-back score of the period's tickets that were called back, if any were. */
function satisfactionOf(data: ReportData, filter: ReportFilter): WeeklyReportView['satisfaction'] {
  if (!data.satisfaction) return null;
  const scores = data.histories
    .filter((h) => inReport(h.ticket, filter))
    .flatMap((h) => data.satisfaction?.get(h.ticket.id) ?? []);
  if (scores.length === 0) return null;
  return { responses: scores.length, mean: scores.reduce((s, x) => s + x, 0) / scores.length };
}

function ticketRefs(data: ReportData, directory: Directory): Map<number, TicketRef> {
  const refs = new Map<number, TicketRef>();
  for (const { ticket: t } of data.histories) {
    const asset = directory.asset(t.site, t.assetId);
    refs.set(t.id, {
      site: t.site,
      siteName: directory.site(t.site)?.name ?? t.site,
      assetId: t.assetId,
      assetName: asset?.name ?? t.assetId,
      location: asset?.location ?? null,
      category: t.category,
      fault: t.fault,
      detectedAt: t.detectedAt,
    });
  }
  return refs;
}
