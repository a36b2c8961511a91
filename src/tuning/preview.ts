import type { Asset } from '../config/directory.ts';
import type { Config } from '../config/schema.ts';
import type { Clock } from '../core/clock.ts';
import { XiaoerError } from '../core/errors.ts';
import { RuleEngine } from '../rules/engine.ts';
import { historyMetrics, type ReplayResult, replayRule } from '../rules/replay.ts';
import type { ChartLimits, ReplayChart } from '../rules/replay-chart.ts';
import type { RuleDocument } from '../store/store.ts';
import { readHistory } from '../telemetry/history.ts';
import { ruleSetOf } from './rule-document.ts';
import type { RuleVersions } from './rule-versions.ts';

export interface PreviewRequest {
  rule: string;
  changes: Record<string, unknown>;
  /** The last `days` days, unless `from`/`to` are given. */
  days: number;
  from?: number;
  to?: number;
  site?: string;
}

/** The replay's chart as the API gives it: instants in ISO 8601 (CONVENTIONS.md, one shape on the wire). */
export interface PreviewChart {
  metric: string | null;
  limits: ChartLimits;
  series: {
    site: string;
    assetId: string;
    limits: ChartLimits;
    points: [string, number][];
    raised: { current: string[]; proposed: string[] };
  }[];
}

export type PreviewResult = Omit<ReplayResult, 'chart'> & { chart: PreviewChart };

const iso = (ms: number) => new Date(ms).toISOString();

export function chartView(chart: ReplayChart): PreviewChart {
  return {
    metric: chart.metric,
    limits: chart.limits,
    series: chart.series.map((s) => ({
      site: s.site,
      assetId: s.assetId,
      limits: s.limits,
      points: s.points.map(([ts, value]): [string, number] => [iso(ts), value]),
      raised: { current: s.raised.current.map(iso), proposed: s.raised.proposed.map(iso) },
    })),
  };
}

/** Most readings one preview may read: a month of minute readings for about 300 assets. */
export const MAX_PREVIEW_READINGS = 15_000_000;

/**
 * What a proposed change would have raised over real history, next to what the rule in force
 * raised: both replayed by the live `RuleEngine` over the same readings from InfluxDB. One
 * preview at a time (it is heavy for InfluxDB); the caller's abort signal stops it.
 */
export interface RulePreviewDeps {
  config: Config;
  clock: Clock;
  versions: RuleVersions;
  /** Every asset rules may apply to. */
  assets(): Iterable<Asset>;
}

export class RulePreview {
  readonly #deps: RulePreviewDeps;
  #running = false;

  constructor(deps: RulePreviewDeps) {
    this.#deps = deps;
  }

  async run(req: PreviewRequest, signal?: AbortSignal): Promise<PreviewResult> {
    const { config, clock, versions } = this.#deps;
    const { current, proposed } = versions.proposal(req.rule, req.changes);
    // Refused before any history is read: offline and fault_event rules have none to replay.
    const metrics = historyMetrics([current.rule, proposed.rule]);
    const to = req.to ?? clock.now();
    const from = req.from ?? to - req.days * 86_400_000;
    const kinds = new Set([...current.rule.kinds, ...proposed.rule.kinds]);
    const assets = [...this.#deps.assets()].filter(
      (a) => kinds.has(a.kind) && (req.site === undefined || a.site === req.site),
    );
    if (this.#running) {
      throw new XiaoerError('preview_busy', 'another preview is running; try again when it is done', {
        httpStatus: 429,
      });
    }
    this.#running = true;
    try {
      const engine = (doc: RuleDocument) => () =>
        new RuleEngine(ruleSetOf([doc]), {
          flapping: config.flapping,
        });
      const result = await replayRule({
        rule: current.rule,
        engines: { current: engine(current), proposed: engine(proposed) },
        assets,
        from,
        to,
        history: (onAsset) =>
          readHistory(
            config.influx,
            { assets, metrics, from, to, maxReadings: MAX_PREVIEW_READINGS, ...(signal ? { signal } : {}) },
            onAsset,
          ),
      });
      return { ...result, chart: chartView(result.chart) };
    } finally {
      this.#running = false;
    }
  }
}
