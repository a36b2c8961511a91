import type { Instant } from '../domain/types.ts';
import type { Period } from './period.ts';
import {
  categoryLabel,
  factsInReport,
  type ReportData,
  type ReportFilter,
  siteLabel,
  workOrderOf,
} from './report-data.ts';
import { isNoise, type TicketFacts } from './ticket-facts.ts';

/** A part of the whole: `share` is count / total (0–1). */
export interface Share {
  key: string;
  label: string;
  count: number;
  share: number;
}

export interface FaultsReport {
  period: Period;
  asOf: Instant;
  total: number;
  byCategory: Share[];
  byFault: Share[];
  bySite: { site: string; label: string; total: number; byCategory: Share[] }[];
  topAssets: { site: string; assetId: string; name: string; count: number }[];
  topRooms: { site: string; location: string; count: number }[];
  reopened: { ticketId: number; workOrder: string | null; reopenCount: number }[];
  flapping: { ticketId: number; workOrder: string | null }[];
  /** Per rule, the share of its closed tickets closed as no fault found or sensor fault. */
  noise: { ruleId: string; score: number; tickets: number }[];
}

const TOP = 10;

/** Most first, then by key (a stable order for equal counts). */
function countBy<T>(items: readonly T[], keyOf: (item: T) => string | undefined): [string, number][] {
  const counts = new Map<string, number>();
  for (const item of items) {
    const key = keyOf(item);
    if (key !== undefined) counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts.entries()].sort(([ka, a], [kb, b]) => b - a || (ka < kb ? -1 : ka > kb ? 1 : 0));
}

function shares(
  facts: readonly TicketFacts[],
  keyOf: (f: TicketFacts) => string,
  label: (k: string) => string,
) {
  return countBy(facts, keyOf).map(([key, count]) => ({
    key,
    label: label(key),
    count,
    share: count / facts.length,
  }));
}

const SEP = '\u0000';

/**
 * The fault mix: every ticket detected in the period counts once (an outage and each device
 * ticket it took are separate tickets), per category, fault code and site; the assets and rooms
 * (an asset's configured location) with most tickets; reopened and flapping tickets; noise per rule.
 */
export function faultsReport(data: ReportData, filter: ReportFilter): FaultsReport {
  const facts = factsInReport(data, filter);
  const category = (k: string) => categoryLabel(data, k);
  const bySite = countBy(facts, (f) => f.ticket.site).map(([site, total]) => ({
    site,
    label: siteLabel(data, site),
    total,
    byCategory: shares(
      facts.filter((f) => f.ticket.site === site),
      (f) => f.ticket.category,
      category,
    ),
  }));
  const location = (f: TicketFacts) => data.directory.asset(f.ticket.site, f.ticket.assetId)?.location;
  const noisy = countBy(
    facts.filter((f) => f.closed),
    (f) => f.ruleId,
  ).map(([ruleId, tickets]) => {
    const noise = facts.filter((f) => f.closed && f.ruleId === ruleId && isNoise(f)).length;
    return { ruleId, score: noise / tickets, tickets };
  });
  return {
    period: filter.period,
    asOf: data.asOf,
    total: facts.length,
    byCategory: shares(facts, (f) => f.ticket.category, category),
    byFault: shares(
      facts,
      (f) => f.ticket.fault,
      (k) => k,
    ),
    bySite,
    topAssets: countBy(facts, (f) => f.ticket.site + SEP + f.ticket.assetId)
      .slice(0, TOP)
      .map(([key, count]) => {
        const [site = '', assetId = ''] = key.split(SEP);
        return { site, assetId, name: data.directory.asset(site, assetId)?.name ?? assetId, count };
      }),
    topRooms: countBy(facts, (f) => {
      const where = location(f);
      return where === undefined ? undefined : f.ticket.site + SEP + where;
    })
      .slice(0, TOP)
      .map(([key, count]) => {
        const [site = '', where = ''] = key.split(SEP);
        return { site, location: where, count };
      }),
    reopened: facts
      .filter((f) => f.reopenCount > 0)
      .map((f) => ({ ticketId: f.ticket.id, workOrder: workOrderOf(f.ticket), reopenCount: f.reopenCount })),
    flapping: facts
      .filter((f) => f.flapping)
      .map((f) => ({ ticketId: f.ticket.id, workOrder: workOrderOf(f.ticket) })),
    noise: noisy.sort((a, b) => b.score - a.score || (a.ruleId < b.ruleId ? -1 : 1)),
  };
}
