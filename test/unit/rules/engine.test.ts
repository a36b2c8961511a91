import { describe, expect, it } from 'vitest';
import { Directory } from '../../../src/config/directory.ts';
import { ruleSchema } from '../../../src/rules/config.ts';
import { RuleEngine } from '../../../src/rules/engine.ts';
import { event, exampleConfig, reading } from '../../helpers/domain.ts';

const config = exampleConfig();
const directory = new Directory(config);
const asset = (id: string) => {
  const a = directory.asset('xincheng', id);
  if (!a) throw new Error(`no asset ${id}`);
  return a;
};
const leak = asset('leak-b1-riser');
const lock = asset('lock-3f-east');
const hvac = asset('hvac-2f-office');

describe('RuleEngine', () => {
  it('raises a leak once and clears it on the dry reading', () => {
    const rules = new RuleEngine(config.rules);
    const raised = rules.evaluate(leak, [reading(leak.id, 'water_leak', true, 1000)], []);
    expect(raised).toHaveLength(1);
    expect(raised[0]).toMatchObject({
      type: 'raised',
      alarm: {
        assetId: 'leak-b1-riser',
        fault: 'leak',
        category: 'plumbing',
        severity: 'critical',
        raisedAt: 1000,
      },
    });
    // Still wet: no new transition (edge-triggered).
    expect(rules.evaluate(leak, [reading(leak.id, 'water_leak', true, 2000)], [])).toEqual([]);
    const cleared = rules.evaluate(leak, [reading(leak.id, 'water_leak', false, 3000)], []);
    expect(cleared).toMatchObject([{ type: 'cleared', alarm: { raisedAt: 1000, clearedAt: 3000 } }]);
    // Dry while already clear: nothing.
    expect(rules.evaluate(leak, [reading(leak.id, 'water_leak', false, 4000)], [])).toEqual([]);
  });

  it('treats a lock going offline as a lock fault, and online as its clearing', () => {
    const rules = new RuleEngine(config.rules);
    expect(rules.evaluate(lock, [], [event(lock.id, 'availability', 'offline', 10)])).toMatchObject([
      { type: 'raised', alarm: { fault: 'offline', category: 'lock' } },
    ]);
    expect(rules.evaluate(lock, [], [event(lock.id, 'availability', 'online', 20)])).toMatchObject([
      { type: 'cleared', alarm: { fault: 'offline' } },
    ]);
  });

  it('raises a jammed lock on lock_state not_fully_locked and clears on locked', () => {
    const rules = new RuleEngine(config.rules);
    expect(rules.evaluate(lock, [reading(lock.id, 'lock_state', 'not_fully_locked', 1)], [])).toMatchObject([
      { type: 'raised', alarm: { fault: 'jammed' } },
    ]);
    expect(rules.evaluate(lock, [reading(lock.id, 'lock_state', 'locked', 2)], [])).toMatchObject([
      { type: 'cleared', alarm: { fault: 'jammed' } },
    ]);
  });

  it('applies a static threshold above and below, ignoring other metrics', () => {
    const rules = new RuleEngine(config.rules);
    expect(rules.evaluate(hvac, [reading(hvac.id, 'temperature_c', 28, 1)], [])).toEqual([]);
    expect(rules.evaluate(hvac, [reading(hvac.id, 'setpoint_c', 35, 2)], [])).toEqual([]);
    expect(rules.evaluate(hvac, [reading(hvac.id, 'temperature_c', 28.5, 3)], [])).toMatchObject([
      { type: 'raised', alarm: { fault: 'over_temperature', category: 'hvac' } },
    ]);
    // From too hot straight to too cold: one clears, the other raises.
    const swing = rules.evaluate(hvac, [reading(hvac.id, 'temperature_c', 10, 4)], []);
    expect(swing.map((t) => [t.type, t.alarm.fault])).toEqual([
      ['cleared', 'over_temperature'],
      ['raised', 'under_temperature'],
    ]);
  });

  it('raises a sensor fault from a fault event and clears it on the next real reading', () => {
    const rules = new RuleEngine(config.rules);
    expect(rules.evaluate(hvac, [], [event(hvac.id, 'fault', 'sensor_fault', 1)])).toMatchObject([
      { type: 'raised', alarm: { fault: 'sensor_fault' } },
    ]);
    expect(rules.evaluate(hvac, [reading(hvac.id, 'temperature_c', 22, 2)], [])).toMatchObject([
      { type: 'cleared', alarm: { fault: 'sensor_fault' } },
    ]);
  });

  it('judges an "all" rule on the latest values, even when each message carries one field', () => {
    const rules = new RuleEngine([
      ruleSchema.parse({
        id: 'pump-dry-running',
        type: 'all',
        kinds: ['plumbing'],
        fault: 'pump_no_power',
        severity: 'major',
        conditions: [
          { metric: 'relay_on', equals: true },
          { metric: 'power_w', below: 5 },
        ],
      }),
    ]);
    // Only the relay is known: no verdict yet.
    expect(rules.evaluate(leak, [reading(leak.id, 'relay_on', true, 1)], [])).toEqual([]);
    expect(rules.evaluate(leak, [reading(leak.id, 'power_w', 480, 2)], [])).toEqual([]);
    // A partial status (power only) completes the picture with the remembered relay state.
    expect(rules.evaluate(leak, [reading(leak.id, 'power_w', 0.4, 3)], [])).toMatchObject([
      { type: 'raised', alarm: { fault: 'pump_no_power' } },
    ]);
    expect(rules.evaluate(leak, [reading(leak.id, 'relay_on', false, 4)], [])).toMatchObject([
      { type: 'cleared' },
    ]);
    // Other assets keep their own values.
    expect(rules.evaluate({ ...leak, id: 'other' }, [reading('other', 'power_w', 0, 5)], [])).toEqual([]);
  });

  it('only applies rules to the asset kinds they name', () => {
    const rules = new RuleEngine(config.rules);
    expect(rules.evaluate(lock, [reading(lock.id, 'water_leak', true, 1)], [])).toEqual([]);
  });

  it('reverts transitions whose effect could not be recorded, so a redelivery raises again', () => {
    const rules = new RuleEngine(config.rules);
    const first = rules.evaluate(leak, [reading(leak.id, 'water_leak', true, 1)], []);
    rules.revert(first);
    expect(rules.isActive('xincheng', leak.id, 'water-leak')).toBe(false);
    expect(rules.evaluate(leak, [reading(leak.id, 'water_leak', true, 2)], [])).toHaveLength(1);
    const cleared = rules.evaluate(leak, [reading(leak.id, 'water_leak', false, 3)], []);
    rules.revert(cleared);
    expect(rules.isActive('xincheng', leak.id, 'water-leak')).toBe(true);
  });

  it('re-arms an alarm from an open ticket so that a normal value after a restart clears it', () => {
    const rules = new RuleEngine(config.rules);
    rules.seedFromTicket({
      id: 1,
      workOrder: 'XC-20261126-001',
      site: 'xincheng',
      assetId: leak.id,
      category: 'plumbing',
      fault: 'leak',
      meaning: 'condition',
      severity: 'critical',
      status: 'raised',
      ruleId: 'water-leak',
      alarmActive: true,
      raisedAt: 5,
      detectedAt: 5,
      arrival: { dueAt: 300_005 },
      repair: { dueAt: 3_600_005 },
      updatedAt: 5,
      flapping: false,
      reopenCount: 0,
      escalation: { arrival: 0, repair: 0 },
    });
    expect(rules.evaluate(leak, [reading(leak.id, 'water_leak', false, 10)], [])).toMatchObject([
      { type: 'cleared', alarm: { raisedAt: 5, clearedAt: 10 } },
    ]);
  });
});
