import { describe, expect, it } from 'vitest';
import type { Asset } from '../../../src/config/directory.ts';
import type { Reading } from '../../../src/domain/types.ts';
import { type RuleConfig, ruleSchema } from '../../../src/rules/config.ts';
import { RuleEngine } from '../../../src/rules/engine.ts';
import { replayRule } from '../../../src/rules/replay.ts';
import { ChartKeeper, type RuleSide } from '../../../src/rules/replay-chart.ts';
import { RuleSet } from '../../../src/rules/rule-set.ts';
import { reading } from '../../helpers/domain.ts';

const MIN = 60_000;
const FROM = Date.UTC(2026, 10, 30);

const room = (id: string, site = 'east'): Asset => ({ site, id, kind: 'hvac', category: 'hvac', name: id });
const rule = (r: Record<string, unknown>): RuleConfig => ruleSchema.parse(r);
const overheat = rule({
  id: 'hot',
  type: 'threshold',
  kinds: ['hvac'],
  metric: 'temperature_c',
  above: 28,
  clearBelow: 27,
  fault: 'hot',
});
const lower = rule({ ...overheat, above: 26, clearBelow: 25 });

const keeper = (current = overheat, proposed = lower, opts = {}) =>
  new ChartKeeper('hot', { current: new RuleSet([current]), proposed: new RuleSet([proposed]) }, opts);

/** `n` one-minute temperatures of an asset from FROM. */
const minutes = (asset: Asset, n: number, value: (i: number) => number | boolean | string = () => 22) =>
  Array.from({ length: n }, (_, i) =>
    reading(asset.id, 'temperature_c', value(i), FROM + i * MIN, asset.site),
  );

/** Reports `raises` on each side for an asset, a minute apart, then its readings. */
function feed(k: ChartKeeper, asset: Asset, raises: Partial<Record<RuleSide, number>>, readings?: Reading[]) {
  for (const side of ['current', 'proposed'] as const) {
    for (let i = 0; i < (raises[side] ?? 0); i++) k.raised(side, asset.site, asset.id, FROM + i * MIN);
  }
  k.asset(asset, readings ?? minutes(asset, 10));
}

const names = (k: ChartKeeper) => k.chart().series.map((s) => `${s.site}/${s.assetId}`);

describe('ChartKeeper', () => {
  it('keeps the 3 assets that raise most on the proposed side, then on the current side, in any feeding order', () => {
    const raises: [string, Partial<Record<RuleSide, number>>][] = [
      ['a', { proposed: 2, current: 5 }],
      ['b', { proposed: 3 }],
      ['c', { proposed: 2, current: 1 }],
      ['d', { current: 9 }],
      ['e', { proposed: 1, current: 1 }],
      ['f', { proposed: 2, current: 1 }],
    ];
    for (const order of [
      raises,
      [...raises].reverse(),
      [raises[3], raises[0], raises[4], raises[1], raises[5], raises[2]],
    ]) {
      const k = keeper();
      for (const entry of order) {
        const [id, r] = entry as (typeof raises)[number];
        feed(k, room(id), r);
      }
      // c and f tie: by site/id.
      expect(names(k)).toEqual(['east/b', 'east/a', 'east/c']);
    }
  });

  it('fills up with assets that raised nothing, those with readings first, so the chart still has readings to show', () => {
    const k = keeper();
    feed(k, room('z-silent'), {}, []);
    feed(k, room('y'), {});
    feed(k, room('x'), { current: 1 });
    feed(k, room('w'), {});
    expect(names(k)).toEqual(['east/x', 'east/w', 'east/y']);
    const none = keeper();
    feed(none, room('silent'), {}, []);
    expect(none.chart().series).toEqual([
      {
        site: 'east',
        assetId: 'silent',
        limits: { current: { above: 28 }, proposed: { above: 26 } },
        points: [],
        raised: { current: [], proposed: [] },
      },
    ]);
  });

  it('gives the times each side raised, per asset', () => {
    const k = keeper();
    const a = room('a');
    k.raised('proposed', 'east', 'a', FROM + 5 * MIN);
    k.raised('current', 'east', 'a', FROM + 7 * MIN);
    k.raised('proposed', 'east', 'a', FROM + 9 * MIN);
    k.asset(a, minutes(a, 10));
    const b = room('b');
    k.raised('current', 'east', 'b', FROM + 2 * MIN);
    k.asset(b, minutes(b, 10));
    const [first, second] = k.chart().series;
    expect(first?.raised).toEqual({ current: [FROM + 7 * MIN], proposed: [FROM + 5 * MIN, FROM + 9 * MIN] });
    expect(second?.raised).toEqual({ current: [FROM + 2 * MIN], proposed: [] });
  });

  it('keeps at most 600 points of a month, its first, its last and a one-minute spike, and draws only the metric', () => {
    const k = keeper();
    const a = room('a');
    const month = minutes(a, 43_200, (i) => (i === 20_000 ? 33 : 22 + (i % 5) / 10));
    const others = [
      reading('a', 'humidity_pct', 99, FROM + 3, 'east'),
      reading('a', 'temperature_c', 'n/a', FROM + 4, 'east'),
    ];
    feed(
      k,
      a,
      { proposed: 1 },
      [...month, ...others].sort((x, y) => x.ts - y.ts),
    );
    const points = k.chart().series[0]?.points ?? [];
    expect(points.length).toBeLessThanOrEqual(600);
    expect(points[0]).toEqual([FROM, 22]);
    expect(points.at(-1)).toEqual([FROM + 43_199 * MIN, 22 + (43_199 % 5) / 10]);
    expect(points).toContainEqual([FROM + 20_000 * MIN, 33]);
    expect(points.every(([ts, v]) => ts % MIN === 0 && typeof v === 'number')).toBe(true);
  });

  it('draws a boolean metric as 1 and 0', () => {
    const leak = rule({
      id: 'hot',
      type: 'equals',
      kinds: ['hvac'],
      metric: 'temperature_c',
      value: true,
      fault: 'hot',
    });
    const k = keeper(leak, leak);
    const a = room('a');
    feed(
      k,
      a,
      {},
      minutes(a, 3, (i) => i === 1),
    );
    expect(k.chart().series[0]?.points).toEqual([
      [FROM, 0],
      [FROM + MIN, 1],
      [FROM + 2 * MIN, 0],
    ]);
  });

  it('thins the raises of a flapping asset evenly to its bound, keeping all while they fit', () => {
    const k = keeper(overheat, lower, { maxMarkers: 100 });
    const a = room('a');
    for (let i = 0; i < 1000; i++) k.raised('proposed', 'east', 'a', FROM + i * MIN);
    for (let i = 0; i < 100; i++) k.raised('current', 'east', 'a', FROM + i * MIN);
    k.asset(a, minutes(a, 10));
    const { raised } = k.chart().series[0] ?? { raised: { current: [], proposed: [] } };
    expect(raised.current).toHaveLength(100);
    expect(raised.proposed.length).toBeLessThanOrEqual(100);
    expect(raised.proposed.length).toBeGreaterThanOrEqual(50);
    expect(raised.proposed[0]).toBe(FROM);
    // Spread over the whole stream, not its start: equal steps, reaching its last tenth.
    const steps = new Set(raised.proposed.slice(1).map((t, i) => t - (raised.proposed[i] as number)));
    expect(steps.size).toBe(1);
    expect(raised.proposed.at(-1)).toBeGreaterThanOrEqual(FROM + 900 * MIN);
  });

  it('holds no more than maxSeries series however many assets raise', () => {
    const k = keeper(overheat, lower, { maxSeries: 2, maxPoints: 50 });
    for (let n = 0; n < 500; n++) {
      const a = room(`r${n}`);
      feed(k, a, { proposed: n % 17 }, minutes(a, 200));
    }
    const { series } = k.chart();
    // Sixteen raises each, the most: the first two by site/id.
    expect(series.map((s) => s.assetId)).toEqual(['r101', 'r118']);
    expect(series.every((s) => s.points.length <= 50)).toBe(true);
  });

  it("shows each side's limit, and per asset the limit its site's and its own overrides make", () => {
    const overrides = new Map([
      ['hot', { sites: { north: { above: 30 } }, assets: { north: { n2: { disabled: true } } } }],
    ]);
    const k = new ChartKeeper('hot', {
      current: new RuleSet([overheat], overrides),
      proposed: new RuleSet([rule({ ...lower, forSeconds: 60 })], overrides),
    });
    feed(k, room('e1'), { proposed: 3 });
    feed(k, room('n1', 'north'), { proposed: 2 });
    feed(k, room('n2', 'north'), { current: 1 });
    const chart = k.chart();
    expect(chart.metric).toBe('temperature_c');
    expect(chart.limits).toEqual({ current: { above: 28 }, proposed: { above: 26, forSeconds: 60 } });
    expect(chart.series.map((s) => s.limits)).toEqual([
      { current: { above: 28 }, proposed: { above: 26, forSeconds: 60 } },
      { current: { above: 30 }, proposed: { above: 30, forSeconds: 60 } },
      { current: null, proposed: null },
    ]);
  });

  it('draws the proposed metric, without the current limit when the proposal judges another metric', () => {
    const k = keeper(overheat, rule({ ...overheat, metric: 'supply_temp_c' }));
    expect(k.chart()).toEqual({
      metric: 'supply_temp_c',
      limits: { current: null, proposed: { above: 28 } },
      series: [],
    });
  });

  it('draws no metric for a rule judged on none, but keeps its limit and raises', () => {
    const silent = rule({ id: 'hot', type: 'no_data', kinds: ['hvac'], fault: 'hot', silentSeconds: 600 });
    const k = keeper(silent, rule({ ...silent, silentSeconds: 300 }));
    const a = room('a');
    feed(k, a, { proposed: 1 });
    const chart = k.chart();
    expect(chart.metric).toBeNull();
    expect(chart.limits).toEqual({ current: { silentSeconds: 600 }, proposed: { silentSeconds: 300 } });
    expect(chart.series[0]).toMatchObject({ points: [], raised: { proposed: [FROM] } });
  });
});

describe('the chart of a replay', () => {
  it('marks where each side raised on the readings of the assets that raised most', async () => {
    const held = rule({ ...lower, forSeconds: 120 });
    // a: over 28 twice (both sides raise twice); b: at 27 once for 5 minutes (only the proposal);
    // c: at 27 for a minute (too short for the proposal's 2 minutes); d: never warm.
    const episodes: Record<string, [number, number, number][]> = {
      a: [
        [100, 110, 29],
        [300, 320, 29.5],
      ],
      b: [[200, 205, 27]],
      c: [[50, 51, 27]],
      d: [],
    };
    const byAsset = Object.entries(episodes).map(([id, eps]): [Asset, Reading[]] => {
      const asset = room(id);
      return [asset, minutes(asset, 400, (i) => eps.find(([s, e]) => i >= s && i < e)?.[2] ?? 22)];
    });
    const result = await replayRule({
      rule: overheat,
      engines: { current: () => new RuleEngine([overheat]), proposed: () => new RuleEngine([held]) },
      assets: byAsset.map(([a]) => a),
      from: FROM,
      to: FROM + 400 * MIN,
      history: async (onAsset) => {
        for (const [asset, rs] of byAsset) await onAsset(asset, rs);
        return { readings: 4 * 400 };
      },
    });
    const { chart } = result;
    expect(chart.metric).toBe('temperature_c');
    expect(chart.limits).toEqual({ current: { above: 28 }, proposed: { above: 26, forSeconds: 120 } });
    expect(chart.series.map((s) => s.assetId)).toEqual(['a', 'b', 'c']);
    const [a, b, c] = chart.series;
    // When the condition began (the ticket's detectedAt), held for 2 minutes or not.
    expect(a?.raised).toEqual({
      current: [FROM + 100 * MIN, FROM + 300 * MIN],
      proposed: [FROM + 100 * MIN, FROM + 300 * MIN],
    });
    expect(b?.raised).toEqual({ current: [], proposed: [FROM + 200 * MIN] });
    expect(c?.raised).toEqual({ current: [], proposed: [] });
    // The same times as the counts give.
    expect(result.proposed.assets.map((x) => [x.assetId, x.firstAt])).toEqual(
      chart.series
        .slice(0, 2)
        .map((s) => [s.assetId, s.raised.proposed.map((t) => new Date(t).toISOString())]),
    );
    // 400 minutes fit in 600 points: every reading.
    expect(a?.points).toHaveLength(400);
    expect(a?.points[100]).toEqual([FROM + 100 * MIN, 29]);
  });
});
