import type { Directory } from '../config/directory.ts';
import type { Instant, Ticket } from '../domain/types.ts';
import type { Period } from './period.ts';
import { weekLabel } from './period.ts';
import { type TicketFacts, type TicketHistory, ticketFacts } from './ticket-facts.ts';

/** What the figures are computed from: tickets with their events, read up to `asOf`. */
export interface ReportData {
  histories: readonly TicketHistory[];
  /** Events after this instant are not read (default in the API: now). */
  asOf: Instant;
  /** Names of sites, categories and assets (the config). */
  directory: Pick<Directory, 'site' | 'category' | 'asset'>;
  /** Call-back satisfaction (1–5) by ticket id, when call-backs are recorded. */
  satisfaction?: ReadonlyMap<number, number>;
}

export interface ReportFilter {
  period: Period;
  site?: string;
  category?: string;
  /** The user's scope: undefined or [] = every site. */
  sites?: readonly string[];
}

export type GroupBy = 'site' | 'category' | 'kind' | 'maintainer' | 'week' | 'none';
export const GROUP_BYS = ['site', 'category', 'kind', 'maintainer', 'week', 'none'] as const;

/** Whether a ticket is in the report: detected in the period, at the site/category, in the user's scope. */
export function inReport(ticket: Ticket, filter: ReportFilter): boolean {
  const { period, site, category, sites } = filter;
  if (ticket.detectedAt < period.from || ticket.detectedAt >= period.to) return false;
  if (site !== undefined && ticket.site !== site) return false;
  if (category !== undefined && ticket.category !== category) return false;
  return sites === undefined || sites.length === 0 || sites.includes(ticket.site);
}

/** The facts of the tickets in the report, each read from its events up to `asOf`. */
export function factsInReport(data: ReportData, filter: ReportFilter): TicketFacts[] {
  const out: TicketFacts[] = [];
  for (const h of data.histories) {
    if (!inReport(h.ticket, filter)) continue;
    const facts = ticketFacts(h, data.asOf);
    if (facts) out.push(facts);
  }
  return out.sort((a, b) => a.detectedAt - b.detectedAt || a.ticket.id - b.ticket.id);
}

/** The ticket's work-order number once tickets carry one (issue 13, migration 009), else null. */
export function workOrderOf(ticket: Ticket): string | null {
  const wo = (ticket as { workOrder?: unknown }).workOrder;
  return typeof wo === 'string' ? wo : null;
}

export function siteLabel(data: ReportData, site: string): string {
  return data.directory.site(site)?.name ?? site;
}

export function categoryLabel(data: ReportData, category: string): string {
  return data.directory.category(category)?.name ?? category;
}

/** The group a ticket falls in, and its label. */
export function groupOf(
  facts: TicketFacts,
  by: GroupBy,
  data: ReportData,
  timeZone: string,
): { key: string; label: string } {
  const t = facts.ticket;
  switch (by) {
    case 'site':
      return { key: t.site, label: siteLabel(data, t.site) };
    case 'category':
      return { key: t.category, label: categoryLabel(data, t.category) };
    case 'kind': {
      const kind = data.directory.asset(t.site, t.assetId)?.kind ?? 'unknown';
      return { key: kind, label: kind };
    }
    case 'maintainer': {
      const who = facts.maintainer ?? '(none)';
      return { key: who, label: who };
    }
    case 'week': {
      const week = weekLabel(t.detectedAt, timeZone);
      return { key: week, label: week };
    }
    case 'none':
      return { key: 'all', label: 'all' };
  }
}
