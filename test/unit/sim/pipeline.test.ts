/**
 * What the simulator publishes must be what the real adapters accept, name configured assets, and
 * raise exactly the ticket each injected fault stands for: every message goes through the real
 * router, payload decoding, schemas and adapters, and the readings through the real rule engine
 * with the demo configuration's rules.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { adapters } from '../../../adapters/index.ts';
import { BMS_POINT_METRICS } from '../../../sim/bms-points.ts';
import { demoConfig } from '../../../sim/demo-config.ts';
import { SimGenerator, type SimOutput } from '../../../sim/generator.ts';
import { BMS_ASSETS, buildPopulation, DEFAULT_POPULATION, type Population } from '../../../sim/population.ts';
import { Directory } from '../../../src/config/directory.ts';
import { formatIssues } from '../../../src/config/load.ts';
import { type Config, configSchema } from '../../../src/config/schema.ts';
import type { DeviceEvent, Reading } from '../../../src/domain/types.ts';
import { Decoder } from '../../../src/ingest/decoder.ts';
import { RuleEngine } from '../../../src/rules/engine.ts';

const T0 = Date.UTC(2025, 0, 15, 0, 30);
const HOUR = 3_600_000;

function configFor(population: Population): Config {
  const nodes = Object.entries(BMS_POINT_METRICS).map(([point, m]) => ({ nodeId: `ns=1;s=${point}`, ...m }));
  const endpoints = population.sites.map((s) => ({
    site: s.spec.id,
    url: 'opc.tcp://127.0.0.1:4840/UA/xiaoer-bms',
  }));
  const parsed = configSchema.safeParse(
    demoConfig({ population, dataDir: '/tmp/unused', speed: 10, bms: { endpoints, nodes } }),
  );
  if (!parsed.success) throw new Error(formatIssues(parsed.error.issues).join('\n'));
  return parsed.data;
}

/** xiaoer's path from message to alarms, without I/O: the ingest's decoder, then the rules. */
class Pipeline {
  readonly states = new Map<string, unknown>();
  readonly decoder: Decoder;
  readonly directory: Directory;
  readonly engine: RuleEngine;
  readonly raised: string[] = [];
  readonly cleared: string[] = [];
  readonly unknownAssets = new Set<string>();
  readonly rejected: string[] = [];

  constructor(config: Config) {
    this.directory = new Directory(config);
    // The ingest's own decoder, with the limits the config gives it.
    this.decoder = new Decoder(
      adapters,
      { maxPayloadBytes: config.mqtt.maxPayloadBytes, ...config.ingest },
      (site) => this.directory.site(site) !== undefined,
    );
    this.engine = new RuleEngine(config.rules);
  }

  message(topic: string, payload: string | Uint8Array, receivedAt: number): void {
    const bytes = typeof payload === 'string' ? new TextEncoder().encode(payload) : payload;
    const outcome = this.decoder.decode({ topic, payload: bytes, qos: 1 }, receivedAt, this.states);
    if (outcome.kind !== 'decoded') return void this.rejected.push(`${topic}: ${JSON.stringify(outcome)}`);
    const out = outcome.normalised;
    if (out.events.some((e) => e.code === 'rebirth_needed')) this.rejected.push(`${topic}: rebirth needed`);
    this.apply(outcome.site, out.readings, out.events);
  }

  bms(o: Extract<SimOutput, { type: 'bms' }>, ts: number): void {
    const { assetId, metric } = BMS_POINT_METRICS[o.point] ?? { assetId: '?', metric: '?' };
    if (o.bad) this.apply(o.site, [], [{ site: o.site, assetId, kind: 'fault', code: 'sensor_fault', ts }]);
    else if (o.value !== undefined)
      this.apply(o.site, [{ site: o.site, assetId, metric, value: o.value, ts }], []);
  }

  apply(site: string, readings: Reading[], events: DeviceEvent[]): void {
    const ids = new Set([...readings, ...events].map((x) => x.assetId));
    for (const id of ids) {
      const asset = this.directory.asset(site, id);
      if (!asset) {
        this.unknownAssets.add(`${site}/${id}`);
        continue;
      }
      const mine = <T extends { assetId: string }>(xs: T[]) => xs.filter((x) => x.assetId === id);
      for (const t of this.engine.evaluate(asset, mine(readings), mine(events))) {
        (t.type === 'raised' ? this.raised : this.cleared).push(`${site}/${id} ${t.alarm.fault}`);
      }
    }
  }
}

function run(population: Population, hours: number, seed: string) {
  const pipeline = new Pipeline(configFor(population));
  const g = new SimGenerator({ seed, population, faultsPerHour: 120, startWallMs: T0, speed: 1 });
  for (const site of g.sparkplugSites())
    for (const b of g.sparkplugBirths(site, T0)) pipeline.message(b.topic, b.payload, T0);
  const started: string[] = [];
  const cleared: string[] = [];
  const families = new Set<string>();
  for (let t = 0; t <= hours * HOUR; t += 60_000) {
    for (const o of g.advance(t)) {
      const at = T0 + o.atMs;
      if (o.type === 'publish') {
        families.add(o.message.family);
        pipeline.message(o.message.topic, o.message.payload, at);
      } else if (o.type === 'bms') pipeline.bms(o, at);
      else (o.phase === 'start' ? started : cleared).push(`${o.site}/${o.device.id} ${o.fault.ticket}`);
    }
  }
  return { pipeline, started, cleared, families };
}

const sorted = (xs: string[]) => [...xs].sort();

describe('simulated devices through the real adapters and rules', () => {
  const population = buildPopulation({ ...DEFAULT_POPULATION, bms: true });
  let r: ReturnType<typeof run>;
  // Six simulated hours of three sites through the real adapters and rules: a few seconds of CPU
  // alone, several times that beside another test suite on two cores. Pure computation, so a
  // generous bound costs nothing when the machine is free.
  beforeAll(() => {
    r = run(population, 6, 'pipeline');
  }, 120_000);

  it('publishes only payloads the adapters accept, for configured assets, in every family', () => {
    expect(r.pipeline.rejected).toEqual([]);
    expect([...r.pipeline.unknownAssets]).toEqual([]);
    expect(sorted([...r.families])).toEqual([
      'native',
      'shelly',
      'sparkplug',
      'tasmota',
      'ttn',
      'zigbee2mqtt',
    ]);
  });

  it('raises exactly the ticket fault of every injected fault, and clears it when the device recovers', () => {
    expect(r.started.length).toBeGreaterThan(500);
    expect(sorted(r.pipeline.raised)).toEqual(sorted(r.started));
    expect(sorted(r.pipeline.cleared)).toEqual(sorted(r.cleared));
  });

  it('covers every fault type of the catalogue', async () => {
    const { FAULT_TYPES } = await import('../../../sim/faults.ts');
    const tickets = new Set(r.started.map((s) => s.split(' ')[1]));
    for (const f of FAULT_TYPES) expect(tickets.has(f.ticket), f.id).toBe(true);
  });

  it('lists the BMS assets when the BMS is simulated', () => {
    for (const site of population.sites) {
      for (const a of BMS_ASSETS) expect(site.devices.some((d) => d.id === a.id)).toBe(true);
    }
  });
});
