import type { Asset } from '../config/directory.ts';
import { chartValue, downsample } from '../core/downsample.ts';
import type { Instant, Reading, RuleLimit } from '../domain/types.ts';
import type { RuleConfig } from './config.ts';
import { limitOf } from './rule-kinds.ts';
import type { RuleSet } from './rule-set.ts';

/** The two sides of a replay: the rule in force and the rule as an admin proposes it. */
export type RuleSide = 'current' | 'proposed';

export interface ChartLimits {
  current: RuleLimit | null;
  proposed: RuleLimit | null;
}

/** One asset on the chart: its readings (at most `maxPoints`) and where each side raised. */
export interface ChartSeries {
  site: string;
  assetId: string;
  /** What this asset is judged against on each side: the rule with its site's and its own overrides. */
  limits: ChartLimits;
  /** `[epoch ms, value]` of the chart's metric, booleans as 1/0 (`chartValue`), downsampled. */
  points: [Instant, number][];
  /** When each side's alarms began (as the ticket's `detectedAt`), epoch ms, at most `maxMarkers`. */
  raised: { current: Instant[]; proposed: Instant[] };
}

/**
 * What the admin's rules page draws next to a preview's counts (issue 12): the readings of the
 * assets that raised most, the limits of both sides, and where tickets would have been raised.
 */
export interface ReplayChart {
  /** The metric drawn; null for rules judged on no single metric (`all`, `no_data`). */
  metric: string | null;
  /**
   * Each side's rule as written (without overrides). Null where the side has no such rule, or
   * judges another metric than the one drawn (a proposal that changes the metric).
   */
  limits: ChartLimits;
  /**
   * The assets that raised most on the proposed side, then on the current side, then by site/id;
   * when fewer raised at all, assets heard from in the window follow, by site/id, so the chart still
   * shows readings against the limits.
   */
  series: ChartSeries[];
}

export interface ChartKeeperOptions {
  maxSeries?: number;
  maxPoints?: number;
  /** Raise markers per side and series; more raises than this are thinned evenly. */
  maxMarkers?: number;
}

/** The metric a rule judges its readings on, when there is exactly one (exhaustive by type). */
export function chartMetric(rule: RuleConfig | undefined): string | null {
  if (!rule) return null;
  switch (rule.type) {
    case 'threshold':
    case 'equals':
    case 'rate':
      return rule.metric;
    case 'all':
    case 'no_data':
    case 'offline':
    case 'fault_event':
      return null;
    default:
      return rule satisfies never;
  }
}

/**
 * Keeps, while a replay runs, what its chart needs and no more, however many readings it covers:
 * the raises of the asset being replayed (bounded by `maxMarkers`), and the downsampled series of
 * the best `maxSeries` assets so far. An asset's readings are looked at once, after both sides
 * have judged them (`asset()`), and only turned into points when the asset ranks among the best:
 * the replay holds one asset's readings at a time, and the keeper at most `maxSeries` ×
 * `maxPoints` points.
 */
export class ChartKeeper {
  readonly #ruleId: string;
  readonly #sets: Readonly<Record<RuleSide, RuleSet>>;
  readonly #metric: string | null;
  readonly #maxSeries: number;
  readonly #maxPoints: number;
  readonly #maxMarkers: number;
  /** Raises of assets whose window is not finished yet: in a replay, the one being replayed. */
  readonly #pending = new Map<string, PendingRaises>();
  /** The best so far, best first; never more than `maxSeries`. */
  readonly #kept: Candidate[] = [];

  /** `sets`: the rule sets each side's engine judges by; the chart is of the rule `ruleId`. */
  constructor(ruleId: string, sets: Readonly<Record<RuleSide, RuleSet>>, opts: ChartKeeperOptions = {}) {
    this.#ruleId = ruleId;
    this.#sets = sets;
    this.#maxSeries = opts.maxSeries ?? 3;
    this.#maxPoints = opts.maxPoints ?? 600;
    this.#maxMarkers = opts.maxMarkers ?? this.#maxPoints;
    const proposed = this.#ruleOf('proposed');
    this.#metric = chartMetric(proposed) ?? chartMetric(this.#ruleOf('current'));
  }

  /** One alarm of the rule raised on one side, at the time its condition began. */
  raised(side: RuleSide, site: string, assetId: string, at: Instant): void {
    const key = keyOf(site, assetId);
    let pending = this.#pending.get(key);
    if (!pending) {
      pending = { current: new EvenSample(this.#maxMarkers), proposed: new EvenSample(this.#maxMarkers) };
      this.#pending.set(key, pending);
    }
    pending[side].add(at);
  }

  /**
   * One asset's window is done: both sides have judged `readings` (its readings in the window, in
   * time order) and reported its raises. Each asset once.
   */
  asset(asset: Asset, readings: readonly Reading[]): void {
    const key = keyOf(asset.site, asset.id);
    const pending = this.#pending.get(key);
    this.#pending.delete(key);
    const rank: Rank = {
      proposed: pending?.proposed.count ?? 0,
      current: pending?.current.count ?? 0,
      heard: readings.length > 0,
      key,
    };
    if (!this.#wouldKeep(rank)) return;
    this.#keep({
      rank,
      series: {
        site: asset.site,
        assetId: asset.id,
        limits: this.#limitsFor(asset),
        points: this.#points(readings),
        raised: { current: pending?.current.items() ?? [], proposed: pending?.proposed.items() ?? [] },
      },
    });
  }

  chart(): ReplayChart {
    return {
      metric: this.#metric,
      limits: this.#limits((side) => this.#ruleOf(side)),
      series: this.#kept.map((c) => c.series),
    };
  }

  #wouldKeep(rank: Rank): boolean {
    const worst = this.#kept.at(-1);
    return this.#kept.length < this.#maxSeries || (worst !== undefined && before(rank, worst.rank));
  }

  #keep(candidate: Candidate): void {
    const kept = this.#kept;
    let i = kept.length;
    while (i > 0 && before(candidate.rank, (kept[i - 1] as Candidate).rank)) i--;
    kept.splice(i, 0, candidate);
    if (kept.length > this.#maxSeries) kept.pop();
  }

  #points(readings: readonly Reading[]): [Instant, number][] {
    const metric = this.#metric;
    if (metric === null) return [];
    const points: [Instant, number][] = [];
    for (const r of readings) {
      if (r.metric !== metric) continue;
      const value = chartValue(r.value);
      if (value !== undefined) points.push([r.ts, value]);
    }
    return downsample(points, this.#maxPoints);
  }

  #ruleOf(side: RuleSide): RuleConfig | undefined {
    return this.#sets[side].rules.find((r) => r.id === this.#ruleId);
  }

  #limitsFor(asset: Asset): ChartLimits {
    return this.#limits((side) => {
      const rule = this.#ruleOf(side);
      return rule && this.#sets[side].resolve(rule, asset);
    });
  }

  #limits(ruleOf: (side: RuleSide) => RuleConfig | undefined): ChartLimits {
    return { current: this.#limitOf(ruleOf('current')), proposed: this.#limitOf(ruleOf('proposed')) };
  }

  /** A side's limit, unless its rule is missing (or off for the asset) or judges another metric. */
  #limitOf(rule: RuleConfig | undefined): RuleLimit | null {
    return rule && chartMetric(rule) === this.#metric ? (limitOf(rule) ?? null) : null;
  }
}

interface Rank {
  proposed: number;
  current: number;
  /** Had readings in the window: among assets that raised nothing, those come first. */
  heard: boolean;
  key: string;
}

interface Candidate {
  rank: Rank;
  series: ChartSeries;
}

interface PendingRaises {
  current: EvenSample;
  proposed: EvenSample;
}

const keyOf = (site: string, assetId: string) => `${site}/${assetId}`;

/** Whether `a` goes before `b`: more proposed raises, then more current ones, then heard, then by key. */
function before(a: Rank, b: Rank): boolean {
  if (a.proposed !== b.proposed) return a.proposed > b.proposed;
  if (a.current !== b.current) return a.current > b.current;
  if (a.heard !== b.heard) return a.heard;
  return a.key.localeCompare(b.key) < 0;
}

/**
 * At most `cap` of a stream, spread evenly over it: every one while there are at most `cap`, then
 * every 2nd, 4th, ... (each time the kept ones overflow, every other is dropped). A flapping asset
 * can raise thousands of times in a month; a chart cannot show more markers than it has points.
 */
class EvenSample {
  readonly #cap: number;
  #items: Instant[] = [];
  #stride = 1;
  count = 0;

  constructor(cap: number) {
    this.#cap = Math.max(1, cap);
  }

  add(at: Instant): void {
    if (this.count++ % this.#stride !== 0) return;
    this.#items.push(at);
    if (this.#items.length > this.#cap) {
      this.#items = this.#items.filter((_, i) => i % 2 === 0);
      this.#stride *= 2;
    }
  }

  items(): Instant[] {
    return this.#items.slice();
  }
}
