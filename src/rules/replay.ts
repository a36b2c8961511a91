import type { Asset } from '../config/directory.ts';
import { XiaoerError } from '../core/errors.ts';
import type { Alarm, AlarmTransition, DeviceEvent, Instant, Reading } from '../domain/types.ts';
import type { RuleConfig } from './config.ts';
import type { RuleEngine } from './engine.ts';
import { ChartKeeper, type ReplayChart, type RuleSide } from './replay-chart.ts';

/**
 * Replays telemetry history through a rule as it is and as an admin proposes it (issue 11: tune
 * thresholds safely), with the live engine's own code: the `RuleEngine` of src/rules/engine.ts,
 * one per side, fed exactly as the alarm pipeline feeds it (docs/architecture.md, "Rules").
 *
 * How each side is fed, per asset (assets are independent: the engine keeps state per asset):
 * - `engine.watch([asset], from)`: a `no_data` rule's silence counts from the window's start, as
 *   it counts from start-up in the live system (a no-op for every other kind);
 * - readings in time order, those with the same timestamp together in one `evaluate()` (one
 *   message's readings), each preceded by `engine.wake(ts)` when a wake-up is due by then
 *   (`nextWakeAt()`), so that a duration, debounce or silence that ran out before that reading is
 *   confirmed at its true time, as the rule timer does;
 * - `engine.wake(to)` at the end: what is due by the end of the window is confirmed too.
 * The replay starts with no alarm active: a condition already on at `from` is raised by the first
 * reading that shows it. Readings are all there is in history; device events (availability,
 * fault codes) are not kept, so rules judged on them cannot be replayed (`rule_not_replayable`).
 *
 * What is counted, for the rule's id only (the engines may hold other rules; they are ignored):
 * - `alarms`: raised transitions; `clears`: cleared transitions;
 * - `flaps`: transitions (either way) marked `flapping: true`, i.e. more state changes inside the
 *   flapping window than `flapping.maxChanges` (the engine's options); a clear carries the mark of
 *   the alarm it clears, as the engine sends it;
 * - `tickets`: the tickets the live system would open if nobody acted on them. xiaoer keeps one
 *   open ticket per asset and rule, and a raise while it is open re-activates it; with nobody
 *   closing tickets that is one ticket per asset that raised at least once.
 * And `chart`, for the admin's page (issue 12): the readings of the few assets that raised most,
 * downsampled, with both sides' limits and raise times (`ChartKeeper`, src/rules/replay-chart.ts).
 */

export interface ReplayRequest {
  /** The rule being tuned, in its current form (the same id on both sides). */
  rule: RuleConfig;
  /** Fresh engines built by the caller from the two rule sets; each is called once. */
  engines: { current: () => RuleEngine; proposed: () => RuleEngine };
  /** The assets to replay (the caller filters them by site and the rule's kinds). */
  assets: readonly Asset[];
  /** The window, epoch ms: readings from `from` (included) to `to` (excluded). */
  from: Instant;
  to: Instant;
  /**
   * Streams the window's history (src/telemetry/history.ts, bound by the caller to these assets,
   * the window and `historyMetrics(rule)`): each asset at most once, its readings in time order.
   */
  history: (
    onAsset: (asset: Asset, readings: Reading[]) => void | Promise<void>,
  ) => Promise<{ readings: number }>;
  /** How many first raise times to list per asset (default 3, at most 100). */
  examples?: number;
}

export interface ReplayAsset {
  site: string;
  assetId: string;
  alarms: number;
  flaps: number;
  /** The first raises' times (when the condition began, as the ticket's `detectedAt`), ISO 8601. */
  firstAt: string[];
}

export interface ReplaySide {
  alarms: number;
  tickets: number;
  flaps: number;
  clears: number;
  /** Assets that raised at least once, most alarms first. */
  assets: ReplayAsset[];
}

export interface ReplayResult {
  rule: string;
  from: string;
  to: string;
  readings: number;
  /** Assets replayed (those without readings in the window too). */
  assets: number;
  current: ReplaySide;
  proposed: ReplaySide;
  /** Proposed minus current; assets as "site/assetId" that raise on one side only. */
  difference: {
    alarms: number;
    tickets: number;
    flaps: number;
    onlyCurrent: string[];
    onlyProposed: string[];
  };
  /** Epoch ms inside, as every instant in the domain; the API's view turns them into ISO 8601. */
  chart: ReplayChart;
  elapsedMs: number;
}

const DEFAULT_EXAMPLES = 3;
const MAX_EXAMPLES = 100;

/** Why a rule kind cannot be replayed from telemetry history; undefined when it can. */
const NOT_REPLAYABLE: { [T in RuleConfig['type']]: string | undefined } = {
  offline: 'it is judged on availability events (online/offline), which telemetry history does not keep',
  fault_event: 'it is judged on device fault codes, which telemetry history does not keep',
  threshold: undefined,
  equals: undefined,
  all: undefined,
  rate: undefined,
  no_data: undefined,
};

/**
 * The metrics whose history a replay of these rules needs: `any` for `no_data` (every reading is a
 * sign of life). Throws `rule_not_replayable` for a rule judged on device events.
 */
export function historyMetrics(rules: readonly RuleConfig[]): string[] | 'any' {
  const metrics = new Set<string>();
  for (const rule of rules) {
    refuseUnreplayable(rule);
    if (rule.type === 'no_data') return 'any';
    if (rule.type === 'all') for (const c of rule.conditions) metrics.add(c.metric);
    else if (rule.type !== 'offline' && rule.type !== 'fault_event') metrics.add(rule.metric);
  }
  return [...metrics];
}

function refuseUnreplayable(rule: RuleConfig): void {
  const why = NOT_REPLAYABLE[rule.type];
  if (why === undefined) return;
  throw new XiaoerError(
    'rule_not_replayable',
    `Rule "${rule.id}" (type ${rule.type}) cannot be previewed against history: ${why}`,
    { httpStatus: 422, details: { rule: rule.id, type: rule.type } },
  );
}

export async function replayRule(req: ReplayRequest): Promise<ReplayResult> {
  const started = performance.now();
  refuseUnreplayable(req.rule);
  const { from, to } = req;
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from >= to) {
    throw new XiaoerError('replay_window_invalid', `the window must have from before to (${from}, ${to})`, {
      httpStatus: 400,
    });
  }
  const examples = Math.min(Math.max(0, Math.floor(req.examples ?? DEFAULT_EXAMPLES)), MAX_EXAMPLES);
  const engines = { current: req.engines.current(), proposed: req.engines.proposed() };
  const chart = new ChartKeeper(req.rule.id, {
    current: engines.current.ruleSet,
    proposed: engines.proposed.ruleSet,
  });
  const side = (name: RuleSide) =>
    new SideReplay(engines[name], req.rule.id, from, to, examples, (alarm) =>
      chart.raised(name, alarm.site, alarm.assetId, alarm.raisedAt),
    );
  const current = side('current');
  const proposed = side('proposed');
  const seen = new Set<string>();
  const { readings } = await req.history((asset, assetReadings) => {
    const key = assetKey(asset.site, asset.id);
    if (seen.has(key)) throw historyInvalid(`it gave asset ${key} twice`);
    seen.add(key);
    replayAsset([current, proposed], asset, assetReadings, req, chart);
  });
  // Assets with no reading in the window: only a `no_data` rule has something to say about them.
  for (const asset of req.assets) {
    if (seen.has(assetKey(asset.site, asset.id))) continue;
    replayAsset([current, proposed], asset, [], req, chart);
  }
  const a = current.result();
  const b = proposed.result();
  const raisedA = new Set(a.assets.map((x) => `${x.site}/${x.assetId}`));
  const raisedB = new Set(b.assets.map((x) => `${x.site}/${x.assetId}`));
  return {
    rule: req.rule.id,
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    readings,
    assets: req.assets.length,
    current: a,
    proposed: b,
    difference: {
      alarms: b.alarms - a.alarms,
      tickets: b.tickets - a.tickets,
      flaps: b.flaps - a.flaps,
      onlyCurrent: [...raisedA].filter((k) => !raisedB.has(k)).sort(),
      onlyProposed: [...raisedB].filter((k) => !raisedA.has(k)).sort(),
    },
    chart: chart.chart(),
    elapsedMs: Math.round(performance.now() - started),
  };
}

const assetKey = (site: string, assetId: string) => `${site}/${assetId}`;

/** The history function broke its contract (a bug, not a user's mistake). */
const historyInvalid = (what: string) =>
  new XiaoerError('replay_history_invalid', `The telemetry history cannot be replayed: ${what}`);

const NO_EVENTS: readonly DeviceEvent[] = [];

/**
 * One asset's window through both sides, as the alarm pipeline and the rule timer would have fed
 * it live: one message per timestamp (usually one reading), the same array for both engines.
 * The chart sees the readings once both sides have judged them, and so knows the asset's raises.
 */
function replayAsset(
  sides: readonly SideReplay[],
  asset: Asset,
  readings: readonly Reading[],
  window: { from: Instant; to: Instant },
  chart: ChartKeeper,
): void {
  const active = sides.filter((side) => side.begin(asset));
  if (active.length === 0) return;
  const n = readings.length;
  let previous = window.from;
  for (let i = 0; i < n; ) {
    const first = readings[i] as Reading;
    const ts = first.ts;
    if (ts < previous || ts >= window.to)
      throw historyInvalid(
        `${asset.site}/${asset.id} has a reading out of order or outside the window at ${ts}`,
      );
    let j = i + 1;
    while (j < n && (readings[j] as Reading).ts === ts) j++;
    const message = j === i + 1 ? [first] : readings.slice(i, j);
    for (const side of active) side.feed(asset, ts, message);
    previous = ts;
    i = j;
  }
  for (const side of active) side.end();
  chart.asset(asset, readings);
}

/** One engine's replay and its counts. */
class SideReplay {
  readonly #engine: RuleEngine;
  readonly #ruleId: string;
  readonly #from: Instant;
  readonly #to: Instant;
  readonly #examples: number;
  readonly #onRaise: (alarm: Alarm) => void;
  readonly #totals = { alarms: 0, flaps: 0, clears: 0 };
  readonly #assets = new Map<
    string,
    { site: string; assetId: string; alarms: number; flaps: number; firstAt: number[] }
  >();

  constructor(
    engine: RuleEngine,
    ruleId: string,
    from: Instant,
    to: Instant,
    examples: number,
    onRaise: (alarm: Alarm) => void,
  ) {
    this.#engine = engine;
    this.#ruleId = ruleId;
    this.#from = from;
    this.#to = to;
    this.#examples = examples;
    this.#onRaise = onRaise;
  }

  /** Starts an asset's window; false when no rule of this side applies to the asset. */
  begin(asset: Asset): boolean {
    if (!this.#engine.hasRules(asset)) return false;
    this.#engine.watch([asset], this.#from);
    return true;
  }

  /** One message: what the rule timer would have confirmed before it, then its readings. */
  feed(asset: Asset, ts: Instant, message: readonly Reading[]): void {
    const engine = this.#engine;
    const due = engine.nextWakeAt();
    if (due !== undefined && due <= ts) this.#count(engine.wake(ts));
    const transitions = engine.evaluate(asset, message, NO_EVENTS);
    if (transitions.length > 0) this.#count(transitions);
  }

  /** The end of the window: what falls due by then is confirmed too. */
  end(): void {
    this.#count(this.#engine.wake(this.#to));
  }

  #count(transitions: readonly AlarmTransition[]): void {
    for (const t of transitions) {
      const { alarm } = t;
      if (alarm.ruleId !== this.#ruleId) continue;
      const stats = this.#assetStats(alarm.site, alarm.assetId);
      if (alarm.flapping) {
        this.#totals.flaps++;
        stats.flaps++;
      }
      if (t.type === 'cleared') {
        this.#totals.clears++;
        continue;
      }
      this.#totals.alarms++;
      stats.alarms++;
      if (stats.firstAt.length < this.#examples) stats.firstAt.push(alarm.raisedAt);
      this.#onRaise(alarm);
    }
  }

  #assetStats(site: string, assetId: string) {
    const key = assetKey(site, assetId);
    let stats = this.#assets.get(key);
    if (!stats) {
      stats = { site, assetId, alarms: 0, flaps: 0, firstAt: [] };
      this.#assets.set(key, stats);
    }
    return stats;
  }

  result(): ReplaySide {
    const raised = [...this.#assets.values()].filter((s) => s.alarms > 0);
    raised.sort(
      (x, y) => y.alarms - x.alarms || assetKey(x.site, x.assetId).localeCompare(assetKey(y.site, y.assetId)),
    );
    return {
      ...this.#totals,
      tickets: raised.length,
      assets: raised.map((s) => ({ ...s, firstAt: s.firstAt.map((t) => new Date(t).toISOString()) })),
    };
  }
}
