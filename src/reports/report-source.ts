import type { Directory } from '../config/directory.ts';
import type { Clock } from '../core/clock.ts';
import type { Instant } from '../domain/types.ts';
import type { Store } from '../store/store.ts';
import type { ReportsConfig } from './config.ts';
import {
  type FaultsReport,
  faultsReport,
  type GroupBy,
  type ReportData,
  type ReportFilter,
  type ScoreReport,
  type SlaReport,
  scoreReport,
  slaReport,
  type TimingsReport,
  timingsReport,
} from './figures.ts';
import { inReport } from './report-data.ts';

/** Call-back satisfaction (1–5) by ticket id, for the tickets among these called back by `asOf`. */
export type SatisfactionLookup = (
  ticketIds: readonly number[],
  asOf: Instant,
) => Promise<ReadonlyMap<number, number>>;

export interface ReportSourceDeps {
  store: Pick<Store, 'listTickets' | 'listTicketEvents' | 'listUsers'>;
  directory: Directory;
  clock: Clock;
  config: ReportsConfig;
  /** Absent until call-backs are recorded: scores then leave satisfaction out. */
  satisfaction?: SatisfactionLookup;
}

/**
 * Reads what a report needs from the store (the tickets detected in the period and each one's
 * events) and computes its figures with the pure functions in figures.ts.
 */
export class ReportSource {
  readonly #deps: ReportSourceDeps;

  constructor(deps: ReportSourceDeps) {
    this.#deps = deps;
  }

  get timeZone(): string {
    return this.#deps.config.timeZone;
  }

  get config(): ReportsConfig {
    return this.#deps.config;
  }

  async data(filter: ReportFilter, asOf: Instant = this.#deps.clock.now()): Promise<ReportData> {
    const { store } = this.#deps;
    // The period in SQL; inReport below stays the one definition of who belongs.
    const tickets = await store.listTickets({
      detectedFrom: filter.period.from,
      detectedTo: filter.period.to,
      ...(filter.site !== undefined ? { site: filter.site } : {}),
      ...(filter.category !== undefined ? { category: filter.category } : {}),
      ...(filter.sites && filter.sites.length > 0 ? { sites: filter.sites } : {}),
    });
    const histories = [];
    for (const ticket of tickets) {
      if (!inReport(ticket, filter) || ticket.raisedAt > asOf) continue;
      histories.push({ ticket, events: await store.listTicketEvents(ticket.id) });
    }
    const data: ReportData = { histories, asOf, directory: this.#deps.directory };
    if (this.#deps.satisfaction && histories.length > 0)
      data.satisfaction = await this.#deps.satisfaction(
        histories.map((h) => h.ticket.id),
        asOf,
      );
    return data;
  }

  async sla(filter: ReportFilter, groupBy: GroupBy, asOf?: Instant): Promise<SlaReport> {
    const report = slaReport(await this.data(filter, asOf), filter, groupBy);
    if (groupBy === 'maintainer') await this.#nameMaintainers(report.groups);
    return report;
  }

  async timings(filter: ReportFilter, asOf?: Instant): Promise<TimingsReport> {
    return timingsReport(await this.data(filter, asOf), filter);
  }

  async faults(filter: ReportFilter, asOf?: Instant): Promise<FaultsReport> {
    return faultsReport(await this.data(filter, asOf), filter);
  }

  async scores(filter: ReportFilter, asOf?: Instant): Promise<ScoreReport> {
    const { weights, teams } = this.#deps.config.scoring;
    const report = scoreReport(await this.data(filter, asOf), filter, weights, teams);
    await this.#nameMaintainers(report.maintainers);
    return report;
  }

  /** Labels maintainers' rows with their display names (王师傅), keyed by user name still. */
  async #nameMaintainers(rows: { key: string; label: string }[]): Promise<void> {
    const names = new Map((await this.#deps.store.listUsers()).map((u) => [u.username, u.displayName]));
    for (const row of rows) row.label = names.get(row.key) ?? row.label;
  }
}

/** A recorded call-back as far as the reports read it (src/domain/types.ts `Callback`). */
interface CallbackScore {
  ticketId: number;
  score?: number;
  recordedAt: Instant;
}

/**
 * Satisfaction from the call-backs: the score of each ticket called back by `asOf` (a call nobody
 * answered has no score and is left out).
 */
export function satisfactionFromCallbacks(
  callbacks: (ticketIds: readonly number[]) => Promise<readonly CallbackScore[]>,
): SatisfactionLookup {
  return async (ticketIds, asOf) => {
    const scores = new Map<number, number>();
    for (const c of await callbacks(ticketIds))
      if (c.score !== undefined && c.recordedAt <= asOf) scores.set(c.ticketId, c.score);
    return scores;
  };
}
