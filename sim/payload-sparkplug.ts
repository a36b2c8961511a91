/**
 * The pump room's PLC as a Sparkplug B 3.0 edge node (`<site>/spBv1.0/pumps/.../pumproom`),
 * encoded with Eclipse Tahu's protobuf code (npm `sparkplug-payload`, loaded the same way as in
 * adapters/sparkplug/payload.ts). BIRTHs carry names, aliases, datatypes and `engUnit`; DATA
 * carries aliases and values only, as a conformant edge node does
 * ([tck-id-payloads-alias-data-cmd-requirement], [tck-id-payloads-metric-datatype-not-req]). Every
 * message of the edge node, its devices' included, takes the next `seq` (6.4.5), and the NDEATH
 * will carries the bdSeq of the session's NBIRTH ([tck-id-payloads-ndeath-bdseq]).
 */
import { createRequire } from 'node:module';
import type { DeviceValues } from './device-state.ts';
import type { Publish } from './payloads.ts';
import { type SimDevice, SPARKPLUG_EDGE, SPARKPLUG_GROUP } from './population.ts';

interface TahuMetric {
  name?: string;
  alias?: number;
  type: string;
  value: unknown;
  properties?: Record<string, { type: string; value: unknown }>;
}
type ProtoMetric = { alias: number } & Record<string, unknown>;

const require = createRequire(import.meta.url);
const tahu = (
  require('sparkplug-payload') as {
    get(ns: string): {
      encodePayload(p: { timestamp: number; seq?: number; metrics: TahuMetric[] }): Uint8Array;
    };
  }
).get('spBv1.0');
const Proto = (
  require('sparkplug-payload/lib/sparkplugPayloadProto.js') as {
    org: { eclipse: { tahu: { protobuf: { Payload: { encode(p: object): { finish(): Uint8Array } } } } } };
  }
).org.eclipse.tahu.protobuf.Payload;

/** The edge node's sequence and birth/death counter; one per site. */
export class SparkplugSession {
  readonly site: string;
  #seq = 0;
  #bdSeq = 0;

  constructor(site: string) {
    this.site = site;
  }

  get bdSeq(): number {
    return this.#bdSeq;
  }

  /** A new MQTT session: bdSeq goes up (6.4.25) and the NBIRTH restarts seq at 0. */
  newSession(): void {
    this.#bdSeq = (this.#bdSeq + 1) % 256;
    this.#seq = 0;
  }

  #nextSeq(): number {
    const seq = this.#seq;
    this.#seq = (this.#seq + 1) % 256;
    return seq;
  }

  topic(type: string, device?: string): string {
    const base = `${this.site}/spBv1.0/${SPARKPLUG_GROUP}/${type}/${SPARKPLUG_EDGE}`;
    return device ? `${base}/${device}` : base;
  }

  /**
   * The NDEATH the broker publishes for us when the connection drops (the MQTT will). The will is
   * set before connecting, so it names the session the next NBIRTH starts (`nextSession`).
   */
  death(wallMs: number, opts: { nextSession?: boolean } = {}): Publish {
    const bdSeq = opts.nextSession ? (this.#bdSeq + 1) % 256 : this.#bdSeq;
    const payload = tahu.encodePayload({
      timestamp: wallMs,
      metrics: [{ name: 'bdSeq', type: 'Int64', value: bdSeq }],
    });
    return { family: 'sparkplug', topic: this.topic('NDEATH'), payload, qos: 1, retain: false };
  }

  nodeBirth(wallMs: number): Publish {
    const payload = tahu.encodePayload({
      timestamp: wallMs,
      seq: this.#nextSeq(),
      metrics: [
        { name: 'bdSeq', type: 'Int64', value: this.#bdSeq },
        { name: 'Node Control/Rebirth', type: 'Boolean', value: false },
      ],
    });
    return { family: 'sparkplug', topic: this.topic('NBIRTH'), payload, qos: 0, retain: false };
  }

  deviceBirth(device: SimDevice, v: DeviceValues, wallMs: number): Publish {
    const metrics = definitions(device).map((d) => ({
      name: d.name,
      alias: d.alias,
      type: d.type,
      value: d.read(v),
      ...(d.unit ? { properties: { engUnit: { type: 'String', value: d.unit } } } : {}),
    }));
    const payload = tahu.encodePayload({ timestamp: wallMs, seq: this.#nextSeq(), metrics });
    return {
      family: 'sparkplug',
      topic: this.topic('DBIRTH', device.address),
      payload,
      qos: 0,
      retain: false,
    };
  }

  deviceData(device: SimDevice, v: DeviceValues, wallMs: number): Publish {
    const metrics: ProtoMetric[] = definitions(device).map((d) => ({ alias: d.alias, [d.field]: d.read(v) }));
    const payload = Proto.encode({ timestamp: wallMs, seq: this.#nextSeq(), metrics }).finish();
    return {
      family: 'sparkplug',
      topic: this.topic('DDATA', device.address),
      payload,
      qos: 0,
      retain: false,
    };
  }
}

interface MetricDefinition {
  name: string;
  alias: number;
  type: 'Float' | 'Boolean';
  field: 'floatValue' | 'booleanValue';
  unit?: string;
  read(v: DeviceValues): number | boolean;
}

const float = (
  name: string,
  alias: number,
  unit: string,
  read: (v: DeviceValues) => number,
): MetricDefinition => ({
  name,
  alias,
  type: 'Float',
  field: 'floatValue',
  unit,
  read,
});
const bool = (name: string, alias: number, read: (v: DeviceValues) => boolean): MetricDefinition => ({
  name,
  alias,
  type: 'Boolean',
  field: 'booleanValue',
  read,
});

/** Aliases are unique across the edge node: `booster-3` uses 30-33, `floor-leak-2` 1020. */
function definitions(device: SimDevice): MetricDefinition[] {
  const n = Number(/-(\d+)$/.exec(device.address)?.[1] ?? 0);
  if (device.model === 'sp-floor-leak') return [bool('Inputs/Leak', 1000 + 10 * n, (v) => v.leak)];
  const a = 10 * n;
  // The PLC reports flow in m³/h and power in kW, as pump-room panels do; xiaoer converts them.
  return [
    float('Pump/Pressure', a, 'kPa', (v) => v.pressureKpa),
    float('Pump/Flow', a + 1, 'm3/h', (v) => Math.round(v.flowLpm * 0.06 * 1000) / 1000),
    bool('Pump/Running', a + 2, (v) => v.relayOn),
    float('Pump/Power', a + 3, 'kW', (v) => Math.round(v.powerW) / 1000),
  ];
}
