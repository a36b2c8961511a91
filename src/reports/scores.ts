import type { Instant } from '../domain/types.ts';
import type { Period } from './period.ts';
import { factsInReport, type ReportData, type ReportFilter } from './report-data.ts';
import { ratio } from './stats.ts';
import type { TicketFacts } from './ticket-facts.ts';

/** Relative weights of a score's parts (config `reports.scoring.weights`). */
export interface ScoreWeights {
  sla: number;
  reopen: number;
  satisfaction: number;
}

export interface ScoreRow {
  key: string;
  label: string;
  /** Tickets of the maintainer (or team) detected in the period. */
  tickets: number;
  /** Arrival and repair clocks met / decided, both clocks together (0–1). */
  slaCompliance: number | null;
  /** Repaired tickets reopened by `asOf` / repaired tickets (0–1). */
  reopenRate: number | null;
  /** Mean call-back satisfaction (1–5) of the tickets called back. */
  satisfaction: number | null;
  /** 0–100; null when no part could be scored. */
  score: number | null;
  weights: ScoreWeights;
}

export interface ScoreReport {
  period: Period;
  asOf: Instant;
  weights: ScoreWeights;
  maintainers: ScoreRow[];
  teams: ScoreRow[];
}

export interface Team {
  name: string;
  members: readonly string[];
}

/**
 * The weighted score, 0–100: SLA compliance (0–1), 1 − reopen rate, and satisfaction mapped from
 * 1–5 to 0–1. A part that cannot be scored (no clock decided, nothing repaired, nobody called
 * back) is left out and the other weights count in proportion, so a missing call-back neither
 * rewards nor punishes.
 */
export function weightedScore(
  parts: { sla: number | null; reopen: number | null; satisfaction: number | null },
  w: ScoreWeights,
): number | null {
  const terms: [number, number][] = [];
  if (parts.sla !== null) terms.push([w.sla, parts.sla]);
  if (parts.reopen !== null) terms.push([w.reopen, 1 - parts.reopen]);
  if (parts.satisfaction !== null) terms.push([w.satisfaction, (parts.satisfaction - 1) / 4]);
  const weight = terms.reduce((s, [wi]) => s + wi, 0);
  if (weight === 0) return null;
  return Math.round((terms.reduce((s, [wi, x]) => s + wi * x, 0) / weight) * 1000) / 10;
}

function row(
  key: string,
  label: string,
  facts: readonly TicketFacts[],
  data: ReportData,
  weights: ScoreWeights,
): ScoreRow {
  const clocks = facts.flatMap((f) => [f.arrival.result, f.repair.result]);
  const met = clocks.filter((r) => r === 'met').length;
  const decided = met + clocks.filter((r) => r === 'breached').length;
  const repaired = facts.filter((f) => f.repairedAt !== undefined);
  const reopened = repaired.filter((f) => f.reopenCount > 0).length;
  const scores = facts
    .map((f) => data.satisfaction?.get(f.ticket.id))
    .filter((s): s is number => s !== undefined);
  const parts = {
    sla: ratio(met, decided),
    reopen: ratio(reopened, repaired.length),
    satisfaction: scores.length === 0 ? null : scores.reduce((a, b) => a + b, 0) / scores.length,
  };
  return {
    key,
    label,
    tickets: facts.length,
    slaCompliance: parts.sla,
    reopenRate: parts.reopen,
    satisfaction: parts.satisfaction,
    score: weightedScore(parts, weights),
    weights,
  };
}

/** The score per maintainer (the one a ticket was with at `asOf`) and per configured team. */
export function scoreReport(
  data: ReportData,
  filter: ReportFilter,
  weights: ScoreWeights,
  teams: Readonly<Record<string, Team>> = {},
): ScoreReport {
  const facts = factsInReport(data, filter).filter((f) => f.maintainer !== undefined);
  const byMaintainer = new Map<string, TicketFacts[]>();
  for (const f of facts) {
    const list = byMaintainer.get(f.maintainer as string) ?? [];
    list.push(f);
    byMaintainer.set(f.maintainer as string, list);
  }
  const maintainers = [...byMaintainer.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([who, list]) => row(who, who, list, data, weights));
  const teamRows = Object.entries(teams).map(([id, team]) =>
    row(
      id,
      team.name,
      facts.filter((f) => team.members.includes(f.maintainer as string)),
      data,
      weights,
    ),
  );
  return { period: filter.period, asOf: data.asOf, weights, maintainers, teams: teamRows };
}
