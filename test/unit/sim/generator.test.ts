import { describe, expect, it } from 'vitest';
import { CATEGORY_MIX, drawFault, FAULT_TYPES } from '../../../sim/faults.ts';
import { type GeneratorOptions, SimGenerator, type SimOutput } from '../../../sim/generator.ts';
import { buildPopulation, CATEGORIES, type Category, DEFAULT_POPULATION } from '../../../sim/population.ts';
import { Rng } from '../../../sim/rng.ts';

const HOUR = 3_600_000;
const T0 = Date.UTC(2025, 0, 15, 0, 30);

function generator(overrides: Partial<GeneratorOptions> = {}): SimGenerator {
  return new SimGenerator({
    seed: 'demo-1',
    population: buildPopulation({ ...DEFAULT_POPULATION, bms: true }),
    faultsPerHour: 60,
    startWallMs: T0,
    speed: 10,
    ...overrides,
  });
}

/** Everything the generator emitted, as comparable text (binary payloads in base64). */
function transcript(outputs: readonly SimOutput[]): string[] {
  return outputs.map((o) => {
    if (o.type === 'publish') {
      const p = o.message.payload;
      const body = typeof p === 'string' ? p : Buffer.from(p).toString('base64');
      return `${o.atMs.toFixed(3)} ${o.message.topic} q${o.message.qos}${o.message.retain ? 'r' : ''} ${body}`;
    }
    if (o.type === 'bms') return `${o.atMs.toFixed(3)} bms ${o.site} ${o.point} ${String(o.value ?? o.bad)}`;
    return `${o.atMs.toFixed(3)} fault ${o.phase} ${o.site}/${o.device.id} ${o.fault.id}`;
  });
}

describe('seeded generator', () => {
  it('replays the same messages, BMS writes and faults for the same seed', () => {
    const a = generator();
    const b = generator();
    const births = (g: SimGenerator) => g.sparkplugSites().flatMap((s) => g.sparkplugBirths(s, T0));
    expect(births(a).map((m) => Buffer.from(m.payload).toString('base64'))).toEqual(
      births(b).map((m) => Buffer.from(m.payload).toString('base64')),
    );
    // Advancing in different steps must not change the sequence either.
    const first = transcript(a.advance(2 * HOUR));
    const second: SimOutput[] = [];
    for (let t = 0; t <= 2 * HOUR; t += 7_919) second.push(...b.advance(t));
    second.push(...b.advance(2 * HOUR));
    expect(first.length).toBeGreaterThan(10_000);
    expect(transcript(second)).toEqual(first);
    expect(first.filter((l) => l.includes(' fault start ')).length).toBeGreaterThan(60);
  });

  it('gives another sequence for another seed', () => {
    const a = transcript(generator().advance(HOUR));
    const b = transcript(generator({ seed: 'demo-2' }).advance(HOUR));
    expect(b).not.toEqual(a);
  });

  it('emits in time order and stamps payload times on the wall clock of the simulated instant', () => {
    const g = generator();
    const out = g.advance(HOUR);
    for (let i = 1; i < out.length; i++) expect(out[i]?.atMs).toBeGreaterThanOrEqual(out[i - 1]?.atMs ?? 0);
    expect(g.wall(10 * 60_000)).toBe(T0 + 60_000); // 10 simulated minutes at 10x
    const z2m = out.find((o) => o.type === 'publish' && /\/zigbee2mqtt\/lock-[^/]+$/.test(o.message.topic));
    if (z2m?.type !== 'publish') throw new Error('no lock message');
    const lastSeen = (JSON.parse(z2m.message.payload as string) as { last_seen: string }).last_seen;
    expect(Math.abs(Date.parse(lastSeen) - g.wall(z2m.atMs))).toBeLessThan(1000);
  });

  it('clears every fault it starts, and a repair clears it early', () => {
    const g = generator({ faultsPerHour: 120 });
    const out = g.advance(6 * HOUR);
    const active = new Map<string, SimOutput>();
    for (const o of out) {
      if (o.type !== 'fault') continue;
      if (o.phase === 'start') active.set(`${o.site}/${o.device.id}`, o);
      else active.delete(`${o.site}/${o.device.id}`);
    }
    expect(active.size).toBe(g.activeFaults);
    const [key, fault] = [...active.entries()][0] ?? [];
    if (fault?.type !== 'fault') throw new Error('no active fault');
    expect(g.repaired(fault.site, fault.device.id)).toBe(true);
    expect(g.repaired(fault.site, fault.device.id)).toBe(false); // already on its way
    const after = g.advance(6 * HOUR + 3 * 60_000);
    const clear = after.find((o) => o.type === 'fault' && `${o.site}/${o.device.id}` === key);
    expect(clear).toMatchObject({ phase: 'clear', cause: 'repaired' });
  });
});

describe('fault mix', () => {
  const share = (counts: Map<Category, number>, total: number) =>
    Object.fromEntries(CATEGORIES.map((c) => [c, (counts.get(c) ?? 0) / total]));

  it('draws categories in the bureau mix: plumbing about a third, locks about a quarter', () => {
    const rng = new Rng('mix');
    const counts = new Map<Category, number>();
    const lockFaults = new Map<string, number>();
    const n = 40_000;
    for (let i = 0; i < n; i++) {
      const f = drawFault(rng, () => true);
      if (!f) throw new Error('no fault drawn');
      counts.set(f.category, (counts.get(f.category) ?? 0) + 1);
      if (f.category === 'lock') lockFaults.set(f.ticket, (lockFaults.get(f.ticket) ?? 0) + 1);
    }
    const shares = share(counts, n);
    for (const c of CATEGORIES) expect(Math.abs((shares[c] ?? 0) - CATEGORY_MIX[c])).toBeLessThan(0.01);
    const locks = counts.get('lock') ?? 0;
    // Most lock faults are the lock going offline (a loose network cable).
    expect((lockFaults.get('offline') ?? 0) / locks).toBeGreaterThan(0.65);
  });

  it('keeps the mix over a long run of the whole population', () => {
    const out = generator({ faultsPerHour: 120, speed: 1, messages: false }).advance(48 * HOUR);
    const starts = out.filter((o) => o.type === 'fault' && o.phase === 'start');
    const counts = new Map<Category, number>();
    for (const o of starts)
      if (o.type === 'fault') counts.set(o.fault.category, (counts.get(o.fault.category) ?? 0) + 1);
    const shares = share(counts, starts.length);
    expect(starts.length).toBeGreaterThan(5000);
    for (const c of CATEGORIES) expect(Math.abs((shares[c] ?? 0) - CATEGORY_MIX[c])).toBeLessThan(0.02);
  });

  it('gives the share of faults no device can have to the rest of the category', () => {
    const population = buildPopulation({ ...DEFAULT_POPULATION, bms: false });
    const out = generator({ population, faultsPerHour: 300, messages: false }).advance(10 * HOUR);
    const hvac = out.filter((o) => o.type === 'fault' && o.phase === 'start' && o.fault.category === 'hvac');
    expect(hvac.length).toBeGreaterThan(100);
    expect(hvac.every((o) => o.type === 'fault' && o.device.family !== 'bms')).toBe(true);
  });

  it('has faults for every category and only models that exist', () => {
    const categories = new Set(FAULT_TYPES.map((f) => f.category));
    expect([...categories].sort()).toEqual([...CATEGORIES].sort());
    const models = new Set(buildPopulation({ ...DEFAULT_POPULATION, bms: true }).devices.map((d) => d.model));
    for (const f of FAULT_TYPES) for (const m of f.models) expect(models.has(m), `${f.id}: ${m}`).toBe(true);
  });
});
