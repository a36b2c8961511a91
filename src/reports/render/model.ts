import type { FaultsReport } from '../faults.ts';
import type { SlaBreach, SlaGroup, TimingsReport } from '../figures.ts';
import type { Period } from '../period.ts';
import type { ScoreReport, ScoreWeights } from '../scores.ts';

export const REPORT_LANGS = ['zh', 'en'] as const;
export type ReportLang = (typeof REPORT_LANGS)[number];

export const REPORT_FORMATS = ['html', 'csv', 'pdf'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export type { Share } from '../faults.ts';
export type { Compliance, SlaBreach, SlaGroup, Stats } from '../figures.ts';

export const TIMING_STEPS = ['dispatch', 'arrive', 'repair', 'verify'] as const;
export type TimingStep = (typeof TIMING_STEPS)[number];

/** The timings of the period, and `trend`: per ISO week (for a week, the weeks before it too). */
export type TimingsFigures = Omit<TimingsReport, 'period' | 'asOf'>;
export type FaultsFigures = Omit<FaultsReport, 'period' | 'asOf'>;
/** A maintainer's or team's score; `label` the display name. */
export type ScoreRow = Omit<ScoreReport['maintainers'][number], 'weights'>;

/** A ticket the report names (breached, reopened, flapping): where and what it was. */
export interface TicketRef {
  site: string;
  siteName: string;
  assetId: string;
  assetName: string;
  location: string | null;
  category: string;
  fault: string;
  detectedAt: number;
}

/**
 * What the weekly and monthly report shows, as the renderers (HTML, CSV) read it: the results of
 * the report functions of src/reports, with names for the tickets it lists.
 */
export interface WeeklyReportView {
  lang: ReportLang;
  kind: 'week' | 'month';
  period: Period;
  generatedAt: number;
  /** The promised targets, in minutes, the compliance is judged against (config `sla`). */
  targets: { arrivalMinutes: number; repairMinutes: number };
  /** The sites the report covers (a maintainer's report covers theirs only). */
  siteNames: string[];
  overall: SlaGroup;
  /** The period before, for the headline's change (absent: nothing to compare with). */
  previous: { tickets: number; overall: SlaGroup; repairMeanSeconds: number | null } | null;
  sla: { bySite: SlaGroup[]; byCategory: SlaGroup[]; byMaintainer: SlaGroup[] };
  breaches: SlaBreach[];
  timings: TimingsFigures;
  faults: FaultsFigures;
  /** Scores per maintainer (with the weights used), when call-backs or scoring exist. */
  scores: { rows: ScoreRow[]; weights: ScoreWeights } | null;
  /** Satisfaction from the desk's call-backs in the period, when any were recorded. */
  satisfaction: { responses: number; mean: number } | null;
  /** Tickets named in the notable lists, by id. */
  tickets: Map<number, TicketRef>;
}
