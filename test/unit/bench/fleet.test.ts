import { describe, expect, it } from 'vitest';
import { z2mStateSchema } from '../../../adapters/zigbee2mqtt.ts';
import {
  BENCH_SITES,
  type FleetSpec,
  leakPayload,
  normalPayload,
  share,
  siteFleet,
  topicOf,
} from '../../../bench/fleet.ts';
import { RESULTS_BEGIN, RESULTS_END, spliceResults } from '../../../bench/report.ts';

const spec: FleetSpec = { sites: BENCH_SITES, normal: 1001, faultPool: 20, seeded: 10 };

describe('bench fleet', () => {
  it('spreads a total over the sites without losing any', () => {
    expect([0, 1, 2].map((i) => share(1001, 3, i))).toEqual([334, 334, 333]);
    expect([0, 1, 2].reduce((n, i) => n + share(10, 3, i), 0)).toBe(10);
  });

  it('gives every device a unique id per site, the same on every call', () => {
    const fleet = siteFleet(spec, 'north');
    const ids = [...fleet.normal, ...fleet.fault, ...fleet.seeded].map((d) => d.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(siteFleet(spec, 'north')).toEqual(fleet);
    expect(topicOf(fleet.fault[0] as never)).toBe('north/zigbee2mqtt/leak-f000000');
  });

  it('sends payloads the Zigbee2MQTT adapter accepts', () => {
    const fleet = siteFleet(spec, 'xincheng');
    for (const device of fleet.normal.slice(0, 8)) {
      expect(z2mStateSchema.safeParse(JSON.parse(normalPayload(device))).success).toBe(true);
    }
    expect(JSON.parse(leakPayload(3, true))).toMatchObject({ water_leak: true });
  });

  it('keeps normal values inside every example rule', () => {
    for (const device of siteFleet(spec, 'east').normal) {
      const p = JSON.parse(normalPayload(device)) as Record<string, unknown>;
      const temperature = (p.temperature ?? p.local_temperature) as number | undefined;
      if (temperature !== undefined) expect(temperature).toBeGreaterThan(14);
      if (temperature !== undefined) expect(temperature).toBeLessThan(28);
      expect(p.water_leak ?? false).toBe(false);
      expect(p.lock_state ?? 'locked').toBe('locked');
    }
  });
});

describe('BENCHMARKS.md results section', () => {
  it('replaces only what is between the markers', () => {
    const before = `# Benchmarks\n\nintro\n\n${RESULTS_BEGIN}\nold\n${RESULTS_END}\n\n## Notes\nkept\n`;
    const after = spliceResults(before, 'new table');
    expect(after).toContain('intro');
    expect(after).toContain('## Notes\nkept');
    expect(after).toContain('new table');
    expect(after).not.toContain('old');
  });

  it('adds the section to a file that has none', () => {
    expect(spliceResults('', 'table')).toMatch(/^# Benchmarks[\s\S]*table[\s\S]*bench:results:end/);
  });
});
