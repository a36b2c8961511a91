import type { Ticket } from '../../types';

/** Shapes of the reports and call-back answers (reports contract of issue 13: src/reports/*, GET /api/reports/*, /api/callbacks). */

export type GroupBy = 'site' | 'category' | 'kind' | 'maintainer' | 'week' | 'none';
export const GROUP_BYS: GroupBy[] = ['site', 'category', 'kind', 'maintainer', 'week', 'none'];

export interface ReportPeriod {
  from: number | string;
  to: number | string;
  timeZone?: string;
  label?: string;
}

/** `compliance` = met / total, null when nothing was due. */
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
  clock: 'arrival' | 'repair';
  dueAt: number | string;
  at: number | string | null;
  overBySeconds: number;
}

/** GET /api/reports/sla */
export interface SlaReport {
  period: ReportPeriod;
  groups: SlaGroup[];
  breaches: SlaBreach[];
}

export interface Stats {
  count: number;
  meanSeconds: number | null;
  medianSeconds: number | null;
  p90Seconds: number | null;
}

export type TimingName = 'dispatch' | 'arrive' | 'repair' | 'verify';
export const TIMINGS: TimingName[] = ['dispatch', 'arrive', 'repair', 'verify'];

/** GET /api/reports/timings */
export interface TimingsReport {
  period: ReportPeriod;
  dispatch: Stats;
  arrive: Stats;
  repair: Stats;
  verify: Stats;
  trend: ({ week: string } & Record<TimingName, Stats>)[];
}

export interface Share {
  key: string;
  label: string;
  count: number;
  share: number;
}

/** GET /api/reports/faults */
export interface FaultsReport {
  period: ReportPeriod;
  total: number;
  byCategory: Share[];
  byFault: Share[];
  bySite: { site: string; label: string; total: number; byCategory: Share[] }[];
  topAssets: { site: string; assetId: string; name: string; count: number }[];
  topRooms: { site: string; location: string; count: number }[];
  reopened: { ticketId: number; workOrder: string | null; reopenCount: number }[];
  flapping: { ticketId: number; workOrder: string | null }[];
  noise: { ruleId: string; score: number; tickets: number }[];
}

export interface ScoreRow {
  key: string;
  label: string;
  slaCompliance: number | null;
  reopenRate: number | null;
  satisfaction: number | null;
  score: number | null;
  tickets?: number;
  weights?: Record<string, number>;
}

/** GET /api/reports/scores: per maintainer and per team, with the configured weights. */
export interface ScoresReport {
  period?: ReportPeriod;
  weights?: Record<string, number>;
  maintainers: ScoreRow[];
  teams: ScoreRow[];
}

/** One closed ticket and its satisfaction call-back (GET /api/callbacks?due=true: not recorded yet). */
export interface CallbackItem {
  ticket: Ticket;
  /** callbacks.dueHours after the ticket closed. */
  dueAt: string;
  overdue: boolean;
  callback: {
    reached: boolean;
    score: number | null;
    remark: string | null;
    recordedBy: string;
    recordedAt: string;
  } | null;
}
