import { describe, expect, it } from 'vitest';
import type { Asset } from '../../../src/config/directory.ts';
import type { AlarmTransition } from '../../../src/domain/types.ts';
import { type RuleConfig, ruleSchema } from '../../../src/rules/config.ts';
import { RuleEngine } from '../../../src/rules/engine.ts';
import { event, reading } from '../../helpers/domain.ts';

const S = 1000;
const pipe: Asset = {
  site: 'east',
  id: 'riser-pressure',
  kind: 'plumbing',
  category: 'plumbing',
  name: 'Riser',
};
const room: Asset = { site: 'east', id: 'room-301', kind: 'hvac', category: 'hvac', name: 'Room 301' };
const lock: Asset = { site: 'east', id: 'lock-1', kind: 'lock', category: 'lock', name: 'Lock 1' };

const rule = (r: Record<string, unknown>): RuleConfig => ruleSchema.parse({ severity: 'major', ...r });
const kinds = (ts: AlarmTransition[]) => ts.map((t) => `${t.type}@${t.alarm.clearedAt ?? t.alarm.raisedAt}`);

/** Feeds numeric readings [seconds, value] and collects transitions, waking timers in between. */
function feed(engine: RuleEngine, asset: Asset, metric: string, points: [number, number][]) {
  const out: AlarmTransition[] = [];
  for (const [sec, value] of points) {
    out.push(...engine.wake(sec * S));
    out.push(...engine.evaluate(asset, [reading(asset.id, metric, value, sec * S, asset.site)], []));
  }
  return out;
}

describe('rule timing and shapes', () => {
  it('hysteresis: a temperature hovering at the limit raises once and clears only below the clear threshold', () => {
    const overheat = rule({
      id: 'hot',
      type: 'threshold',
      kinds: ['hvac'],
      metric: 'temperature_c',
      above: 28,
      clearBelow: 27,
      fault: 'hot',
    });
    const plain = rule({ ...overheat, id: 'hot-plain', fault: 'hot_plain', clearBelow: undefined });
    const hovering: [number, number][] = [
      [0, 27.8],
      [10, 28.2],
      [20, 27.9],
      [30, 28.1],
      [40, 27.6],
      [50, 28.3],
      [60, 26.5],
    ];
    const withBand = feed(new RuleEngine([overheat]), room, 'temperature_c', hovering);
    expect(kinds(withBand)).toEqual(['raised@10000', 'cleared@60000']);
    // Without a band the same values flap: every crossing is a state change.
    const without = feed(new RuleEngine([plain]), room, 'temperature_c', hovering);
    expect(without).toHaveLength(6);
  });

  it('duration: raises only once the condition has held for forSeconds, dated from the first breach', () => {
    const engine = new RuleEngine([
      rule({
        id: 'hot',
        type: 'threshold',
        kinds: ['hvac'],
        metric: 'temperature_c',
        above: 28,
        forSeconds: 60,
        fault: 'hot',
      }),
    ]);
    // A 30-second spike is not enough.
    expect(
      feed(engine, room, 'temperature_c', [
        [0, 30],
        [30, 25],
      ]),
    ).toEqual([]);
    // Hot from t=100 with no further readings: the timer confirms it at t=160, dated t=100.
    expect(feed(engine, room, 'temperature_c', [[100, 31]])).toEqual([]);
    expect(engine.nextWakeAt()).toBe(160 * S);
    expect(kinds(engine.wake(160 * S))).toEqual(['raised@100000']);
  });

  it('debounce: flips shorter than debounceSeconds are ignored both ways', () => {
    const engine = new RuleEngine([
      rule({
        id: 'leak',
        type: 'equals',
        kinds: ['plumbing'],
        metric: 'water_leak',
        value: true,
        debounceSeconds: 5,
        fault: 'leak',
      }),
    ]);
    const leak = (sec: number, wet: boolean) => [
      ...engine.wake(sec * S),
      ...engine.evaluate(pipe, [reading(pipe.id, 'water_leak', wet, sec * S, 'east')], []),
    ];
    expect([...leak(0, true), ...leak(2, false)]).toEqual([]); // a 2 s splash
    expect([...leak(10, true), ...leak(16, true)].map((t) => t.type)).toEqual(['raised']);
    expect([...leak(20, false), ...leak(21, true)]).toEqual([]); // a 1 s dry moment
    expect(kinds([...leak(30, false), ...engine.wake(35 * S)])).toEqual(['cleared@30000']);
  });

  it('rate of change: pressure falling faster than the limit raises a burst', () => {
    const engine = new RuleEngine([
      rule({
        id: 'burst',
        type: 'rate',
        kinds: ['plumbing'],
        metric: 'pressure_kpa',
        fallingFasterThan: 50,
        windowSeconds: 60,
        fault: 'pipe_burst',
        severity: 'critical',
      }),
    ]);
    // Slow drift (-10 kPa/min) is fine; then -120 kPa within 30 s.
    const drift = feed(engine, pipe, 'pressure_kpa', [
      [0, 400],
      [20, 397],
      [40, 393],
      [60, 390],
    ]);
    expect(drift).toEqual([]);
    const burst = feed(engine, pipe, 'pressure_kpa', [
      [75, 330],
      [90, 270],
    ]);
    expect(burst.map((t) => [t.type, t.alarm.fault, t.alarm.severity])).toEqual([
      ['raised', 'pipe_burst', 'critical'],
    ]);
    // Pressure stabilises (low but steady): the rate is normal again.
    expect(
      feed(engine, pipe, 'pressure_kpa', [
        [200, 268],
        [230, 268],
      ]).map((t) => t.type),
    ).toEqual(['cleared']);
  });

  it("no data: a silent device raises after its kind's interval, and any message clears it", () => {
    const engine = new RuleEngine([
      rule({ id: 'lock-silent', type: 'no_data', kinds: ['lock'], silentSeconds: 600, fault: 'no_data' }),
      rule({
        id: 'leak-silent',
        type: 'no_data',
        kinds: ['plumbing'],
        silentSeconds: 6 * 3600,
        fault: 'no_data',
      }),
    ]);
    engine.watch([lock, pipe], 0);
    expect(engine.evaluate(lock, [reading(lock.id, 'lock_state', 'locked', 100 * S, 'east')], [])).toEqual(
      [],
    );
    expect(engine.wake(650 * S)).toEqual([]); // heard at 100 s: not silent yet
    const silent = engine.wake(700 * S);
    expect(silent.map((t) => [t.alarm.assetId, t.type, t.alarm.raisedAt])).toEqual([
      ['lock-1', 'raised', 700 * S],
    ]);
    // The battery leak sensor reports rarely: 6 hours without news is still fine at 2 hours.
    expect(engine.wake(2 * 3600 * S)).toEqual([]);
    const back = engine.evaluate(lock, [], [event(lock.id, 'availability', 'online', 800 * S, 'east')]);
    expect(back.map((t) => t.type)).toEqual(['cleared']);
    // By 6 hours the lock (last heard at 800 s) is silent again, and so is the leak sensor.
    const later = engine.wake(6 * 3600 * S);
    expect(later.map((t) => [t.alarm.assetId, t.alarm.raisedAt])).toEqual([
      ['lock-1', 1400 * S],
      ['riser-pressure', 6 * 3600 * S],
    ]);
  });

  it('flapping: beyond the limit of changes in the window, alarms are marked flapping', () => {
    const engine = new RuleEngine(
      [
        rule({
          id: 'leak',
          type: 'equals',
          kinds: ['plumbing'],
          metric: 'water_leak',
          value: true,
          fault: 'leak',
        }),
      ],
      {
        flapping: { maxChanges: 4, windowMinutes: 10 },
      },
    );
    const out = [];
    for (let i = 0; i < 8; i++) {
      out.push(
        ...engine.evaluate(pipe, [reading(pipe.id, 'water_leak', i % 2 === 0, i * 30 * S, 'east')], []),
      );
    }
    expect(out.map((t) => Boolean(t.alarm.flapping))).toEqual([
      false,
      false,
      false,
      false,
      true,
      true,
      true,
      true,
    ]);
    engine.forget('east', pipe.id, 'leak');
    expect(
      engine.evaluate(pipe, [reading(pipe.id, 'water_leak', true, 600 * S, 'east')], [])[0]?.alarm.flapping,
    ).toBeUndefined();
  });

  it('per-asset overrides change thresholds or switch a rule off for one asset', () => {
    const hot = rule({
      id: 'hot',
      type: 'threshold',
      kinds: ['hvac'],
      metric: 'temperature_c',
      above: 28,
      fault: 'hot',
    });
    const serverRoom: Asset = { ...room, id: 'server-room', rules: { hot: { above: 24 } } };
    const atrium: Asset = { ...room, id: 'atrium', rules: { hot: { disabled: true } } };
    const engine = new RuleEngine([hot]);
    const at26 = (a: Asset) => engine.evaluate(a, [reading(a.id, 'temperature_c', 26, 1, 'east')], []).length;
    expect([at26(room), at26(serverRoom), at26(atrium)]).toEqual([0, 1, 0]);
  });

  it('revert puts a confirmed change back exactly, so the retry dates the alarm from the first breach', () => {
    const engine = new RuleEngine([
      rule({
        id: 'hot',
        type: 'threshold',
        kinds: ['hvac'],
        metric: 'temperature_c',
        above: 28,
        forSeconds: 60,
        fault: 'hot',
      }),
    ]);
    feed(engine, room, 'temperature_c', [[0, 31]]);
    const confirmed = feed(engine, room, 'temperature_c', [[60, 31]]);
    expect(kinds(confirmed)).toEqual(['raised@0']);
    engine.revert(confirmed); // the store failed: the message will come again
    expect(kinds(feed(engine, room, 'temperature_c', [[60, 31]]))).toEqual(['raised@0']);
  });

  it('a silent device raises again after it came back and went quiet again, with debounce', () => {
    const engine = new RuleEngine([
      rule({
        id: 'silent',
        type: 'no_data',
        kinds: ['lock'],
        silentSeconds: 60,
        debounceSeconds: 30,
        fault: 'no_data',
      }),
    ]);
    engine.watch([lock], 0);
    expect(kinds(engine.wake(90 * S))).toEqual(['raised@60000']);
    engine.evaluate(lock, [reading(lock.id, 'lock_state', 'locked', 100 * S, 'east')], []);
    expect(kinds(engine.wake(130 * S))).toEqual(['cleared@100000']);
    expect(engine.nextWakeAt()).toBeDefined();
    expect(kinds(engine.wake(300 * S))).toEqual(['raised@160000']);
  });

  it('flapping wears off once the changes leave the window', () => {
    const engine = new RuleEngine(
      [
        rule({
          id: 'leak',
          type: 'equals',
          kinds: ['plumbing'],
          metric: 'water_leak',
          value: true,
          fault: 'leak',
        }),
      ],
      {
        flapping: { maxChanges: 2, windowMinutes: 1 },
      },
    );
    const at = (sec: number, wet: boolean) =>
      engine.evaluate(pipe, [reading(pipe.id, 'water_leak', wet, sec * S, 'east')], []);
    at(0, true);
    at(10, false);
    expect(at(20, true)[0]?.alarm.flapping).toBe(true);
    at(30, false);
    expect(at(3600, true)[0]?.alarm.flapping).toBeUndefined();
  });
});
