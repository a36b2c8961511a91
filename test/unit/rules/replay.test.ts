import { describe, expect, it, vi } from 'vitest';
import type { Asset } from '../../../src/config/directory.ts';
import { XiaoerError } from '../../../src/core/errors.ts';
import type { AlarmTransition, Reading } from '../../../src/domain/types.ts';
import { type RuleConfig, ruleSchema } from '../../../src/rules/config.ts';
import { RuleEngine } from '../../../src/rules/engine.ts';
import { historyMetrics, type ReplayRequest, replayRule } from '../../../src/rules/replay.ts';
import { reading } from '../../helpers/domain.ts';

const MIN = 60_000;
const FROM = Date.UTC(2026, 10, 30);
const TO = FROM + 24 * 60 * MIN;
const FLAPPING = { flapping: { maxChanges: 4, windowMinutes: 60 } };

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
const iso = (ms: number) => new Date(ms).toISOString();

/** A deterministic pseudo-random sequence (mulberry32), so failures can be reproduced. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A day of one-minute temperatures wandering around 27 °C, so the rule raises, clears and flaps. */
function wandering(asset: Asset, seed: number): Reading[] {
  const next = random(seed);
  let value = 26;
  return Array.from({ length: 24 * 60 }, (_, i) => {
    value = Math.min(31, Math.max(23, value + (next() - 0.5) * 1.5));
    return reading(asset.id, 'temperature_c', Math.round(value * 10) / 10, FROM + i * MIN, asset.site);
  });
}

/** A fake history: each asset's readings, in the order given, with the count read. */
function historyOf(byAsset: [Asset, Reading[]][]): ReplayRequest['history'] {
  return async (onAsset) => {
    let readings = 0;
    for (const [asset, rs] of byAsset) {
      readings += rs.length;
      await onAsset(asset, rs);
    }
    return { readings };
  };
}

function request(
  current: RuleConfig,
  proposed: RuleConfig,
  byAsset: [Asset, Reading[]][],
  extra: Partial<ReplayRequest> = {},
): ReplayRequest {
  return {
    rule: current,
    engines: {
      current: () => new RuleEngine([current], FLAPPING),
      proposed: () => new RuleEngine([proposed], FLAPPING),
    },
    assets: byAsset.map(([a]) => a),
    from: FROM,
    to: TO,
    history: historyOf(byAsset),
    ...extra,
  };
}

/**
 * The live system's way: every asset's messages interleaved in time order, the rule timer waking
 * the engine before each message, and at the end of the window.
 */
function live(engine: RuleEngine, byAsset: [Asset, Reading[]][]): AlarmTransition[] {
  const messages = byAsset
    .flatMap(([asset, rs]) => rs.map((r) => ({ asset, r })))
    .sort((a, b) => a.r.ts - b.r.ts);
  const out: AlarmTransition[] = [];
  for (const { asset, r } of messages) {
    out.push(...engine.wake(r.ts), ...engine.evaluate(asset, [r], []));
  }
  out.push(...engine.wake(TO));
  return out;
}

function tally(transitions: AlarmTransition[]) {
  const raised = transitions.filter((t) => t.type === 'raised');
  return {
    alarms: raised.length,
    clears: transitions.length - raised.length,
    flaps: transitions.filter((t) => t.alarm.flapping).length,
    tickets: new Set(raised.map((t) => `${t.alarm.site}/${t.alarm.assetId}`)).size,
  };
}

describe('replayRule', () => {
  const assets = [room('r1'), room('r2'), room('r3', 'west'), room('r4')];
  const byAsset: [Asset, Reading[]][] = assets.map((a, i) => [a, wandering(a, i + 1)]);

  it('counts what the same engine fed message by message, all assets interleaved, gives', async () => {
    const tuned = rule({ ...overheat, above: 29, forSeconds: 120, debounceSeconds: 60 });
    const result = await replayRule(request(overheat, tuned, byAsset));

    const expectedCurrent = tally(live(new RuleEngine([overheat], FLAPPING), byAsset));
    const expectedProposed = tally(live(new RuleEngine([tuned], FLAPPING), byAsset));
    expect(expectedCurrent.alarms).toBeGreaterThan(20);
    expect(expectedCurrent.flaps).toBeGreaterThan(0);
    expect(result.current).toMatchObject(expectedCurrent);
    expect(result.proposed).toMatchObject(expectedProposed);
    expect(result.difference).toMatchObject({
      alarms: expectedProposed.alarms - expectedCurrent.alarms,
      tickets: expectedProposed.tickets - expectedCurrent.tickets,
      flaps: expectedProposed.flaps - expectedCurrent.flaps,
    });
    expect(result).toMatchObject({
      rule: 'hot',
      readings: 4 * 24 * 60,
      assets: 4,
      from: iso(FROM),
      to: iso(TO),
    });
    // Per asset: the same alarms, and the first three raise times in order.
    const perAsset = live(new RuleEngine([overheat], FLAPPING), byAsset).filter((t) => t.type === 'raised');
    for (const side of result.current.assets) {
      const own = perAsset.filter((t) => t.alarm.assetId === side.assetId && t.alarm.site === side.site);
      expect(side.alarms).toBe(own.length);
      expect(side.firstAt).toEqual(own.slice(0, 3).map((t) => iso(t.alarm.raisedAt)));
    }
    expect(result.current.assets.map((a) => a.alarms)).toEqual(
      [...result.current.assets.map((a) => a.alarms)].sort((x, y) => y - x),
    );
  });

  it('feeds the readings of one timestamp together, as the message that carried them', async () => {
    const pump: Asset = { site: 'east', id: 'pump-1', kind: 'plumbing', category: 'plumbing', name: 'Pump' };
    const dryRun = rule({
      id: 'dry-run',
      type: 'all',
      kinds: ['plumbing'],
      fault: 'dry_run',
      conditions: [
        { metric: 'relay_on', equals: true },
        { metric: 'power_w', below: 5 },
      ],
    });
    expect(historyMetrics([dryRun])).toEqual(['relay_on', 'power_w']);
    // A message a minute with both metrics; the relay on without power now and then.
    const next = random(7);
    const messages: Reading[][] = Array.from({ length: 600 }, (_, m) => {
      const on = next() < 0.5;
      const power = on && next() < 0.8 ? 800 : 0;
      return [
        reading('pump-1', 'power_w', power, FROM + m * MIN, 'east'),
        reading('pump-1', 'relay_on', on, FROM + m * MIN, 'east'),
      ];
    });
    const engine = new RuleEngine([dryRun], FLAPPING);
    const expected: AlarmTransition[] = [];
    for (const message of messages) {
      const ts = (message[0] as Reading).ts;
      expected.push(...engine.wake(ts), ...engine.evaluate(pump, message, []));
    }
    expected.push(...engine.wake(TO));
    expect(tally(expected).alarms).toBeGreaterThan(10);

    const result = await replayRule(request(dryRun, dryRun, [[pump, messages.flat()]]));
    expect(result.current).toMatchObject(tally(expected));
    expect(result.current.assets[0]?.firstAt).toEqual(
      expected
        .filter((t) => t.type === 'raised')
        .slice(0, 3)
        .map((t) => iso(t.alarm.raisedAt)),
    );
  });

  it('confirms a duration when it runs out, even if the next reading is normal again', async () => {
    const held = rule({ ...overheat, forSeconds: 60 });
    const r1 = room('r1');
    const at = (sec: number) => FROM + sec * 1000;
    const readings = [
      reading('r1', 'temperature_c', 29, at(0), 'east'), // hot, and nothing for two minutes
      reading('r1', 'temperature_c', 26, at(120), 'east'), // the alarm was confirmed at 60 s, this clears it
      reading('r1', 'temperature_c', 29, at(200), 'east'), // hot for 50 s only: no alarm
      reading('r1', 'temperature_c', 26, at(250), 'east'),
      reading('r1', 'temperature_c', 29, TO - 60_000, 'east'), // its minute runs out at `to`
    ];
    const result = await replayRule(request(held, held, [[r1, readings]]));
    expect(result.current).toMatchObject({ alarms: 2, clears: 1, tickets: 1 });
    expect(result.current.assets[0]?.firstAt).toEqual([iso(at(0)), iso(TO - 60_000)]);

    // One second later and the window ends before the minute is up.
    readings[4] = reading('r1', 'temperature_c', 29, TO - 59_000, 'east');
    expect((await replayRule(request(held, held, [[r1, readings]]))).current).toMatchObject({ alarms: 1 });
  });

  it('replays no_data: silence from the window start, gaps, and assets with no reading at all', async () => {
    const silent = rule({
      id: 'silent',
      type: 'no_data',
      kinds: ['hvac'],
      fault: 'silent',
      silentSeconds: 600,
    });
    const longer = rule({ ...silent, silentSeconds: 1800 });
    expect(historyMetrics([silent])).toBe('any');
    const steady = room('steady');
    const gappy = room('gappy');
    const mute = room('mute');
    const everyMinute = (a: Asset, skip: (min: number) => boolean) =>
      Array.from({ length: 24 * 60 }, (_, m) => m)
        .filter((m) => !skip(m))
        .map((m) => reading(a.id, 'temperature_c', 22, FROM + m * MIN, a.site));
    // `gappy` is silent from minute 100 to 120 (20 min) and from minute 600 on (the rest of the day).
    const history: [Asset, Reading[]][] = [
      [steady, everyMinute(steady, () => false)],
      [gappy, everyMinute(gappy, (m) => (m > 100 && m < 120) || m > 600)],
    ];
    const result = await replayRule({ ...request(silent, longer, history), assets: [steady, gappy, mute] });
    expect(result.current).toMatchObject({ alarms: 3, clears: 1, tickets: 2 });
    const byId = Object.fromEntries(result.current.assets.map((a) => [a.assetId, a]));
    expect(byId.gappy?.firstAt).toEqual([iso(FROM + 110 * MIN), iso(FROM + 610 * MIN)]);
    expect(byId.mute?.firstAt).toEqual([iso(FROM + 10 * MIN)]);
    expect(byId.steady).toBeUndefined();
    // Half an hour of silence allowed: the 20-minute gap no longer counts.
    expect(result.proposed).toMatchObject({ alarms: 2, tickets: 2 });
    expect(result.difference).toMatchObject({ alarms: -1, tickets: 0, onlyCurrent: [], onlyProposed: [] });
  });

  it('refuses rules judged on device events, before reading any history', async () => {
    const history = vi.fn(historyOf([]));
    for (const refused of [
      rule({ id: 'lock-offline', type: 'offline', kinds: ['lock'], fault: 'offline' }),
      rule({
        id: 'sensor',
        type: 'fault_event',
        kinds: ['hvac'],
        fault: 'sensor_fault',
        code: 'sensor_fault',
      }),
    ]) {
      const err = await replayRule(request(refused, refused, [], { history })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(XiaoerError);
      expect(err).toMatchObject({ code: 'rule_not_replayable', httpStatus: 422 });
      expect((err as Error).message).toMatch(/telemetry history does not keep/);
      expect(() => historyMetrics([refused])).toThrow(/cannot be previewed/);
    }
    expect(history).not.toHaveBeenCalled();
  });

  it('caps the example times per asset and lists assets that raise on one side only', async () => {
    const a = room('a');
    const b = room('b');
    // `a` goes over 28 five times (to 28.5), `b` twice (to 30).
    const spikes = (asset: Asset, times: number, value: number) =>
      Array.from({ length: times * 2 }, (_, i) =>
        reading(asset.id, 'temperature_c', i % 2 === 0 ? value : 25, FROM + i * 10 * MIN, asset.site),
      );
    const history: [Asset, Reading[]][] = [
      [a, spikes(a, 5, 28.5)],
      [b, spikes(b, 2, 30)],
    ];
    const higher = rule({ ...overheat, above: 29 });
    const result = await replayRule({ ...request(overheat, higher, history), examples: 2 });
    // `a` changes state every 10 minutes: from the fifth change inside the hour (more than
    // maxChanges 4) each transition is flapping, three raises and three clears.
    expect(result.current.assets).toEqual([
      { site: 'east', assetId: 'a', alarms: 5, flaps: 6, firstAt: [iso(FROM), iso(FROM + 20 * MIN)] },
      { site: 'east', assetId: 'b', alarms: 2, flaps: 0, firstAt: [iso(FROM), iso(FROM + 20 * MIN)] },
    ]);
    expect(result.proposed).toMatchObject({ alarms: 2, tickets: 1 });
    expect(result.difference).toMatchObject({
      alarms: -5,
      tickets: -1,
      onlyCurrent: ['east/a'],
      onlyProposed: [],
    });
    expect((await replayRule(request(overheat, higher, history))).current.assets[0]?.firstAt).toHaveLength(3);
  });

  it('refuses history that breaks its contract: an asset twice, or readings out of order', async () => {
    const a = room('a');
    const rs = [reading('a', 'temperature_c', 20, FROM + MIN, 'east')];
    const twice = request(overheat, overheat, [
      [a, rs],
      [a, rs],
    ]);
    await expect(replayRule(twice)).rejects.toMatchObject({ code: 'replay_history_invalid' });
    const backwards = [...rs, reading('a', 'temperature_c', 20, FROM, 'east')];
    await expect(replayRule(request(overheat, overheat, [[a, backwards]]))).rejects.toMatchObject({
      code: 'replay_history_invalid',
    });
  });
});
