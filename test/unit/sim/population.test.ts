import { describe, expect, it } from 'vitest';
import { DEMO_RULES, demoConfig } from '../../../sim/demo-config.ts';
import { FAULT_TYPES } from '../../../sim/faults.ts';
import {
  apportion,
  buildPopulation,
  DEFAULT_POPULATION,
  MODELS,
  SITES,
  SPARKPLUG_EDGE_ASSET,
} from '../../../sim/population.ts';
import { configSchema } from '../../../src/config/schema.ts';

describe('population', () => {
  const population = buildPopulation(DEFAULT_POPULATION);

  it('has per site 40 locks, 20 HVAC units and 30 plumbing sensors over several families', () => {
    expect(population.sites.map((s) => s.spec.id)).toEqual(SITES.map((s) => s.id));
    for (const { devices } of population.sites) {
      const counted = devices.filter((d) => MODELS[d.model].share > 0);
      const count = (kind: string) => counted.filter((d) => d.kind === kind).length;
      expect([count('lock'), count('hvac'), count('plumbing')]).toEqual([40, 20, 30]);
      const families = (kind: string) => new Set(counted.filter((d) => d.kind === kind).map((d) => d.family));
      expect(families('lock')).toEqual(new Set(['zigbee2mqtt', 'native']));
      expect(families('hvac')).toEqual(new Set(['zigbee2mqtt', 'tasmota', 'native']));
      expect(families('plumbing')).toEqual(new Set(['zigbee2mqtt', 'ttn', 'shelly', 'native', 'sparkplug']));
      expect(devices.some((d) => d.id === SPARKPLUG_EDGE_ASSET)).toBe(true);
      expect(new Set(devices.map((d) => d.id)).size).toBe(devices.length);
    }
  });

  it('names devices the way their ecosystems do', () => {
    const ids = population.devices.map((d) => d.id);
    expect(
      ids.filter((id) => /^shelly(plus1pm|pro1pm|floodg4)-[0-9a-f]{12}$/.test(id)).length,
    ).toBeGreaterThan(0);
    expect(ids.filter((id) => /^tasmota_[0-9A-F]{6}(-[0-9A-F]{12})?$/.test(id)).length).toBeGreaterThan(0);
    expect(ids).toContain('pumps.pumproom.booster-1');
  });

  it('does not depend on anything but the sites and counts', () => {
    expect(buildPopulation(DEFAULT_POPULATION)).toEqual(population);
    const small = buildPopulation({
      ...DEFAULT_POPULATION,
      counts: { lock: 3, hvac: 2, plumbing: 5, lighting: 1, other: 0 },
    });
    expect(small.sites[0]?.devices.filter((d) => d.kind === 'lock')).toHaveLength(3);
  });

  it('splits counts by largest remainder', () => {
    expect(apportion(4, [0.7, 0.3])).toEqual([3, 1]);
    expect(apportion(30, [9, 3, 3, 4, 4, 4, 2, 1])).toEqual([9, 3, 3, 4, 4, 4, 2, 1]);
    expect(apportion(1, [0.5, 0.5])).toEqual([1, 0]);
    expect(apportion(0, [1, 2])).toEqual([0, 0]);
  });
});

describe('demo configuration', () => {
  const population = buildPopulation({ ...DEFAULT_POPULATION, bms: false });

  it('is valid for xiaoer and lists every simulated device', () => {
    const parsed = configSchema.safeParse(demoConfig({ population, dataDir: './data/demo', speed: 10 }));
    expect(parsed.success ? [] : parsed.error.issues).toEqual([]);
    if (!parsed.success) return;
    for (const { spec, devices } of population.sites) {
      const configured = new Set(parsed.data.sites.find((s) => s.id === spec.id)?.devices.map((d) => d.id));
      for (const d of devices) expect(configured.has(d.id), d.id).toBe(true);
    }
  });

  it('divides the SLA targets by the speed of simulated time', () => {
    const config = demoConfig({ population, dataDir: 'x', speed: 10 }) as { sla: unknown };
    expect(config.sla).toEqual({ arrivalMinutes: 0.5, repairMinutes: 6 });
  });

  it('has a rule raising the ticket of every fault the simulator injects', () => {
    const faults = new Set(DEMO_RULES.map((r) => r.fault));
    for (const f of FAULT_TYPES) expect(faults.has(f.ticket), f.id).toBe(true);
  });
});
