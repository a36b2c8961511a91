import type { Instant } from '../domain/types.ts';
import type { SlaClockName } from '../tickets/clocks.ts';
import type { Period } from './period.ts';
import { weeksOf } from './period.ts';
import {
  factsInReport,
  type GroupBy,
  groupOf,
  type ReportData,
  type ReportFilter,
  workOrderOf,
} from './report-data.ts';
import { ratio, type Stats, statsOf } from './stats.ts';
import type { ClockOutcome, TicketFacts } from './ticket-facts.ts';

export { type FaultsReport, faultsReport } from './faults.ts';
export type { GroupBy, ReportData, ReportFilter } from './report-data.ts';
export { GROUP_BYS } from './report-data.ts';
export { type ScoreReport, type ScoreWeights, scoreReport } from './scores.ts';
export type { Stats } from './stats.ts';

/**
 * One clock's figures: `total` counts the tickets whose clock was decided by `asOf` (met or
 * breached); clocks still running, without a target, or stopped unmet (closed unrepaired, an
 * outage's children) are not counted. `compliance` = met / total, null when total is 0.
 */
export interface Compliance {
  total: number;
  met: number;
  breached: number;
  compliance: number | null;
}

export interface SlaGroup {
  key: string;
  label: string;
  arrival: Compliance;
  repair: Compliance;
}

export interface SlaBreach {
  ticketId: number;
  workOrder: string | null;
  site: string;
  assetId: string;
  category: string;
  clock: SlaClockName;
  dueAt: Instant;
  /** When the target was reached after all; null if not by `asOf`. */
  at: Instant | null;
  /** How late: to `at`, or to `asOf` while still not reached. */
  overBySeconds: number;
}

export interface SlaReport {
  period: Period;
  asOf: Instant;
  groups: SlaGroup[];
  breaches: SlaBreach[];
}

export interface TimingsReport {
  period: Period;
  asOf: Instant;
  dispatch: Stats;
  arrive: Stats;
  repair: Stats;
  verify: Stats;
  trend: ({ week: string } & Record<'dispatch' | 'arrive' | 'repair' | 'verify', Stats>)[];
}

function compliance(outcomes: readonly ClockOutcome[]): Compliance {
  const met = outcomes.filter((o) => o.result === 'met').length;
  const breached = outcomes.filter((o) => o.result === 'breached').length;
  return { total: met + breached, met, breached, compliance: ratio(met, met + breached) };
}

/** SLA compliance per group, and every breach with by how much it missed. */
export function slaReport(data: ReportData, filter: ReportFilter, groupBy: GroupBy): SlaReport {
  const facts = factsInReport(data, filter);
  const groups = new Map<string, { label: string; members: TicketFacts[] }>();
  for (const f of facts) {
    const { key, label } = groupOf(f, groupBy, data, filter.period.timeZone);
    const g = groups.get(key) ?? { label, members: [] };
    g.members.push(f);
    groups.set(key, g);
  }
  return {
    period: filter.period,
    asOf: data.asOf,
    groups: [...groups.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, g]) => ({
        key,
        label: g.label,
        arrival: compliance(g.members.map((f) => f.arrival)),
        repair: compliance(g.members.map((f) => f.repair)),
      })),
    breaches: facts.flatMap((f) => breachesOf(f, data.asOf)),
  };
}

function breachesOf(f: TicketFacts, asOf: Instant): SlaBreach[] {
  const out: SlaBreach[] = [];
  for (const clock of ['arrival', 'repair'] as const) {
    const o = clock === 'arrival' ? f.arrival : f.repair;
    if (o.result !== 'breached' || o.dueAt === undefined) continue;
    out.push({
      ticketId: f.ticket.id,
      workOrder: workOrderOf(f.ticket),
      site: f.ticket.site,
      assetId: f.ticket.assetId,
      category: f.ticket.category,
      clock,
      dueAt: o.dueAt,
      at: o.at ?? null,
      overBySeconds: Math.max(0, Math.round(((o.at ?? asOf) - o.dueAt) / 1000)),
    });
  }
  return out;
}

function timings(facts: readonly TicketFacts[]) {
  const pick = (get: (f: TicketFacts) => number | undefined) =>
    statsOf(facts.map(get).filter((v): v is number => v !== undefined));
  return {
    dispatch: pick((f) => f.dispatchMs),
    arrive: pick((f) => f.arriveMs),
    repair: pick((f) => f.repairMs),
    verify: pick((f) => f.verifyMs),
  };
}

/**
 * Time to dispatch (MTTA), to arrive and to repair (MTTR), from detection, and to verify, from
 * the repair; net of SLA pauses; for the period and for each ISO week it touches.
 */
export function timingsReport(data: ReportData, filter: ReportFilter): TimingsReport {
  const facts = factsInReport(data, filter);
  const tz = filter.period.timeZone;
  const trend = weeksOf(filter.period).map((week) => ({
    week,
    ...timings(facts.filter((f) => groupOf(f, 'week', data, tz).key === week)),
  }));
  return { period: filter.period, asOf: data.asOf, ...timings(facts), trend };
}
