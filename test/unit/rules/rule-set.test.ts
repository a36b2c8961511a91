import { describe, expect, it } from 'vitest';
import type { Asset } from '../../../src/config/directory.ts';
import { type RuleConfig, ruleSchema } from '../../../src/rules/config.ts';
import { RuleEngine } from '../../../src/rules/engine.ts';
import { RuleSet } from '../../../src/rules/rule-set.ts';
import { reading } from '../../helpers/domain.ts';

const overheat = ruleSchema.parse({
  id: 'office-overheat',
  type: 'threshold',
  kinds: ['hvac'],
  fault: 'overheat',
  metric: 'temperature_c',
  above: 28,
});
const office: Asset = { site: 'xincheng', id: 'hvac-2f', kind: 'hvac', category: 'hvac', name: '2F' };
const north: Asset = { ...office, site: 'north' };
const hot = (ts: number, value = 29, asset = office) =>
  reading(asset.id, 'temperature_c', value, ts, asset.site);
/** A rule changed by a test: the changes are checked by the engine, not by the type of `overheat`. */
const withRule = (rule: object, overrides = {}) =>
  new RuleSet([rule as RuleConfig], new Map([[(rule as RuleConfig).id, overrides]]), { assetRules: false });

describe('RuleSet', () => {
  it('applies the site override, then the asset override over it', () => {
    const set = withRule(overheat, {
      sites: { xincheng: { above: 30, forSeconds: 60 } },
      assets: { xincheng: { 'hvac-2f': { above: 26 } } },
    });
    expect(set.resolve(overheat, office)).toMatchObject({ above: 26, forSeconds: 60 });
    expect(set.resolve(overheat, { ...office, id: 'hvac-3f' })).toMatchObject({ above: 30, forSeconds: 60 });
    expect(set.resolve(overheat, north)).toBe(overheat);
  });

  it('switches a rule off for a site, and back on for one of its assets', () => {
    const set = withRule(overheat, {
      sites: { xincheng: { disabled: true } },
      assets: { xincheng: { 'hvac-2f': { disabled: false } } },
    });
    expect(set.resolve(overheat, { ...office, id: 'hvac-3f' })).toBeUndefined();
    expect(set.resolve(overheat, office)).toMatchObject({ above: 28 });
  });

  it("ignores a device's YAML overrides once the versioned rules hold them", () => {
    const yamlAsset = { ...office, rules: { 'office-overheat': { above: 40 } } };
    expect(new RuleSet([overheat]).resolve(overheat, yamlAsset)).toMatchObject({ above: 40 });
    expect(withRule(overheat).resolve(overheat, yamlAsset)).toBe(overheat);
  });
});

describe('RuleEngine.replace', () => {
  it('judges the next reading by the new rule', () => {
    const engine = new RuleEngine([overheat]);
    expect(engine.evaluate(office, [hot(1000, 27)], [])).toEqual([]);
    engine.replace(withRule({ ...overheat, above: 26 }), 1500);
    expect(engine.evaluate(office, [hot(2000, 27)], [])).toMatchObject([
      { type: 'raised', alarm: { limit: { above: 26 } } },
    ]);
  });

  it('clears an open alarm that the new limit no longer calls a fault, at the time of the change', () => {
    const engine = new RuleEngine([overheat]);
    engine.evaluate(office, [hot(1000, 29)], []);
    const out = engine.replace(withRule({ ...overheat, above: 30 }), 5000);
    expect(out).toMatchObject([{ type: 'cleared', alarm: { raisedAt: 1000, clearedAt: 5000 } }]);
    expect(engine.isActive(office.site, office.id, overheat.id)).toBe(false);
  });

  it('keeps an alarm the new limit still calls a fault, and only on the assets it changes', () => {
    const engine = new RuleEngine([overheat]);
    engine.evaluate(office, [hot(1000, 29)], []);
    engine.evaluate(north, [hot(1000, 29, north)], []);
    const out = engine.replace(withRule(overheat, { sites: { north: { above: 35 } } }), 5000);
    expect(out).toMatchObject([{ type: 'cleared', alarm: { site: 'north' } }]);
    expect(engine.isActive('xincheng', office.id, overheat.id)).toBe(true);
  });

  it("clears after the new rule's debounce, through the engine's wake-ups", () => {
    const engine = new RuleEngine([overheat]);
    engine.evaluate(office, [hot(1000, 29)], []);
    expect(engine.replace(withRule({ ...overheat, above: 30, debounceSeconds: 10 }), 5000)).toEqual([]);
    expect(engine.nextWakeAt()).toBe(15_000);
    expect(engine.wake(15_000)).toMatchObject([{ type: 'cleared', alarm: { clearedAt: 5000 } }]);
  });

  it('clears an alarm whose rule was removed or switched off for the asset', () => {
    const engine = new RuleEngine([overheat]);
    engine.evaluate(office, [hot(1000)], []);
    engine.evaluate(north, [hot(1000, 29, north)], []);
    const off = engine.replace(withRule(overheat, { sites: { north: { disabled: true } } }), 2000);
    expect(off).toMatchObject([{ type: 'cleared', alarm: { site: 'north', clearedAt: 2000 } }]);
    const gone = engine.replace(new RuleSet([], new Map(), { assetRules: false }), 3000);
    expect(gone).toMatchObject([{ type: 'cleared', alarm: { site: 'xincheng', clearedAt: 3000 } }]);
    expect(engine.evaluate(office, [hot(4000, 40)], [])).toEqual([]);
  });

  it('lets a pending raise run out its new duration, or drops it when the new limit sees no fault', () => {
    const slow = { ...overheat, forSeconds: 60 };
    const engine = new RuleEngine([slow]);
    expect(engine.evaluate(office, [hot(0, 29)], [])).toEqual([]);
    // Longer duration: confirmed at its new end, dated from when the condition began.
    engine.replace(withRule({ ...slow, forSeconds: 120 }), 30_000);
    expect(engine.wake(60_000)).toEqual([]);
    expect(engine.wake(120_000)).toMatchObject([{ type: 'raised', alarm: { raisedAt: 0 } }]);

    const other = new RuleEngine([slow]);
    other.evaluate(office, [hot(0, 29)], []);
    other.replace(withRule({ ...slow, above: 30 }), 30_000);
    expect(other.wake(60_000)).toEqual([]);
    expect(other.isActive(office.site, office.id, slow.id)).toBe(false);
  });

  it('arms a shortened silence from the last sign of life', () => {
    const silent = ruleSchema.parse({
      id: 'silent',
      type: 'no_data',
      kinds: ['hvac'],
      fault: 'no_data',
      silentSeconds: 3600,
    });
    const engine = new RuleEngine([silent]);
    engine.evaluate(office, [hot(0, 20)], []);
    expect(engine.nextWakeAt()).toBe(3_600_000);
    engine.replace(withRule({ ...silent, silentSeconds: 600 }), 60_000);
    expect(engine.nextWakeAt()).toBe(600_000);
    expect(engine.wake(600_000)).toMatchObject([
      { type: 'raised', alarm: { ruleId: 'silent', raisedAt: 600_000 } },
    ]);
  });
});
