/**
 * Sparkplug B behaviour across messages (the fixtures cover single messages): sequence numbers,
 * bdSeq session matching, alias maps per edge node and device, and value/name mapping.
 * Payloads are encoded with Eclipse Tahu's `sparkplug-payload`, as an edge node would.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import type { Normalised } from '../../../adapters/define.ts';
import { mapMetric } from '../../../adapters/sparkplug/metrics.ts';
import { sparkplugPayloadSchema } from '../../../adapters/sparkplug/payload.ts';
import { checkSeq } from '../../../adapters/sparkplug/session.ts';
import { sparkplug } from '../../../adapters/sparkplug.ts';
import { describeSchemaError } from '../../../src/ingest/decode.ts';
import { TopicRouter } from '../../../src/ingest/router.ts';

interface TahuMetric {
  name?: string;
  alias?: number;
  type: string;
  value: unknown;
  timestamp?: number;
  isHistorical?: boolean;
  properties?: Record<string, { type: string; value: unknown }>;
}
interface ProtoMetric extends Record<string, unknown> {
  alias?: number;
  name?: string;
}
const require = createRequire(import.meta.url);
const tahu = (
  require('sparkplug-payload') as { get(ns: string): { encodePayload(p: object): Uint8Array } }
).get('spBv1.0');
const Proto = (
  require('sparkplug-payload/lib/sparkplugPayloadProto.js') as {
    org: { eclipse: { tahu: { protobuf: { Payload: { encode(p: object): { finish(): Uint8Array } } } } } };
  }
).org.eclipse.tahu.protobuf.Payload;

const T = Date.UTC(2025, 0, 15, 0, 30);
const topic = (type: string, device?: string) =>
  `north/spBv1.0/hvac/${type}/ahu-gw${device ? `/${device}` : ''}`;
const EDGE = 'hvac.ahu-gw';

const birth = (seq: number, metrics: TahuMetric[], bdSeq?: number) =>
  tahu.encodePayload({
    timestamp: T,
    seq,
    metrics: bdSeq === undefined ? metrics : [{ name: 'bdSeq', type: 'Int64', value: bdSeq }, ...metrics],
  });
const nbirth = (seq = 0, bdSeq = 1) =>
  birth(seq, [{ name: 'Supply Air Temperature', alias: 1, type: 'Float', value: 16 }], bdSeq);
/** Conformant DATA: alias and value field only, no name, no datatype. */
const data = (seq: number | undefined, metrics: ProtoMetric[], timestamp = T) =>
  Proto.encode({ timestamp, ...(seq === undefined ? {} : { seq }), metrics }).finish();
const ndeath = (bdSeq?: number) =>
  tahu.encodePayload({
    timestamp: T,
    metrics: bdSeq === undefined ? [] : [{ name: 'bdSeq', type: 'Int64', value: bdSeq }],
  });

/** Routes, parses and threads route state like the ingest does. */
function edgeNode() {
  const router = new TopicRouter([sparkplug]);
  const states = new Map<string, unknown>();
  return (t: string, bytes: Uint8Array, receivedAt = T): Normalised => {
    const m = router.match(t);
    if (!m) throw new Error(`${t} is not routed`);
    const parsed = m.route.schema.safeParse(bytes);
    if (!parsed.success) throw new Error(describeSchemaError(parsed.error));
    const key = m.route.stateKey(m.params);
    const out = m.route.toReadings(parsed.data, {
      site: m.site,
      deviceId: m.deviceId,
      params: m.params,
      topic: t,
      receivedAt,
      state: states.get(key),
    });
    if (out.state !== undefined) states.set(key, out.state);
    return out;
  };
}

const codes = (out: Normalised) => out.events.map((e) => `${e.assetId}:${e.kind}/${e.code}`);
const values = (out: Normalised) => out.readings.map((r) => `${r.assetId}:${r.metric}=${String(r.value)}`);

describe('Sparkplug sequence numbers', () => {
  it('treats 255 -> 0 as in order and anything else as a gap', () => {
    expect(checkSeq(255, 0)).toEqual({ kind: 'in_order' });
    expect(checkSeq(41, 42)).toEqual({ kind: 'in_order' });
    expect(checkSeq(255, 1)).toEqual({ kind: 'gap', expected: 0 });
    expect(checkSeq(0, 255)).toEqual({ kind: 'gap', expected: 1 });
    expect(checkSeq(7, 7)).toEqual({ kind: 'repeat' });
    expect(checkSeq(undefined, 3)).toEqual({ kind: 'unchecked' });
  });

  it('follows 300 messages across the wrap, node and device messages sharing one counter', () => {
    const send = edgeNode();
    send(topic('NBIRTH'), nbirth(0));
    send(
      topic('DBIRTH', 'ahu-1'),
      birth(1, [{ name: 'Fan/Running', alias: 2, type: 'Boolean', value: true }]),
    );
    for (let i = 2; i < 300; i++) {
      const out =
        i % 2 === 0
          ? send(topic('NDATA'), data(i % 256, [{ alias: 1, floatValue: 16 }]))
          : send(topic('DDATA', 'ahu-1'), data(i % 256, [{ alias: 2, booleanValue: true }]));
      expect(out.events).toEqual([]);
      expect(out.readings).toHaveLength(1);
    }
  });

  it('reports a gap once, keeps mapping, and reports again only after REBIRTH_REPEAT_MS', () => {
    const send = edgeNode();
    send(topic('NBIRTH'), nbirth(0));
    const gap = send(topic('NDATA'), data(3, [{ alias: 1, floatValue: 17 }]));
    expect(codes(gap)).toEqual([`${EDGE}:availability/rebirth_needed`]);
    expect(gap.events[0]?.detail).toMatchObject({ reason: 'sequence_gap', expected: 1, received: 3 });
    expect(values(gap)).toEqual([`${EDGE}:supply_air_temperature_c=17`]);
    expect(codes(send(topic('NDATA'), data(9, [])))).toEqual([]);
    expect(codes(send(topic('NDATA'), data(20, []), T + 5 * 60_000))).toEqual([
      `${EDGE}:availability/rebirth_needed`,
    ]);
    // A rebirth clears it: the next gap is reported at once.
    send(topic('NBIRTH'), nbirth(0), T + 6 * 60_000);
    expect(codes(send(topic('NDATA'), data(5, []), T + 6 * 60_000))).toHaveLength(1);
  });

  it('maps a redelivered message (same seq) again without calling it a gap', () => {
    const send = edgeNode();
    send(topic('NBIRTH'), nbirth(0));
    const bytes = data(1, [{ alias: 1, floatValue: 18 }]);
    send(topic('NDATA'), bytes);
    const again = send(topic('NDATA'), bytes);
    expect(again.events).toEqual([]);
    expect(values(again)).toEqual([`${EDGE}:supply_air_temperature_c=18`]);
    expect(send(topic('NDATA'), data(2, [])).events).toEqual([]);
  });
});

describe('Sparkplug bdSeq and deaths', () => {
  it('counts only the NDEATH whose bdSeq matches the NBIRTH', () => {
    const send = edgeNode();
    send(topic('NBIRTH'), nbirth(0, 7));
    send(topic('DBIRTH', 'ahu-1'), birth(1, []));
    expect(send(topic('NDEATH'), ndeath(6)).events).toEqual([]);
    // The stale death changed nothing: data still maps, in sequence.
    expect(send(topic('NDATA'), data(2, [{ alias: 1, floatValue: 15 }])).readings).toHaveLength(1);
    expect(codes(send(topic('NDEATH'), ndeath(7)))).toEqual([
      `${EDGE}:availability/offline`,
      `${EDGE}.ahu-1:availability/offline`,
    ]);
    expect(codes(send(topic('NDATA'), data(3, [{ alias: 1, floatValue: 15 }])))).toEqual([
      `${EDGE}:availability/rebirth_needed`,
    ]);
  });

  it('ignores the late Will of the previous connection after a new NBIRTH', () => {
    const send = edgeNode();
    send(topic('NBIRTH'), nbirth(0, 254));
    send(topic('NBIRTH'), nbirth(0, 255));
    expect(send(topic('NDEATH'), ndeath(254)).events).toEqual([]);
    send(topic('NBIRTH'), nbirth(0, 0));
    expect(send(topic('NDEATH'), ndeath(255)).events).toEqual([]);
    expect(codes(send(topic('NDEATH'), ndeath(0)))).toEqual([`${EDGE}:availability/offline`]);
  });

  it('counts an NDEATH when no bdSeq can be compared (after a restart, or none sent)', () => {
    expect(codes(edgeNode()(topic('NDEATH'), ndeath(9)))).toEqual([`${EDGE}:availability/offline`]);
    const send = edgeNode();
    send(topic('NBIRTH'), nbirth(0, 3));
    expect(codes(send(topic('NDEATH'), ndeath()))).toEqual([`${EDGE}:availability/offline`]);
  });

  it('does not report a device that already had its DDEATH again on NDEATH', () => {
    const send = edgeNode();
    send(topic('NBIRTH'), nbirth(0, 1));
    send(topic('DBIRTH', 'ahu-1'), birth(1, []));
    send(topic('DBIRTH', 'ahu-2'), birth(2, []));
    expect(codes(send(topic('DDEATH', 'ahu-1'), data(3, [])))).toEqual([
      `${EDGE}.ahu-1:availability/offline`,
    ]);
    expect(codes(send(topic('NDEATH'), ndeath(1)))).toEqual([
      `${EDGE}:availability/offline`,
      `${EDGE}.ahu-2:availability/offline`,
    ]);
  });
});

describe('Sparkplug aliases', () => {
  it('keeps one alias map per BIRTH and maps DATA of each device through its own', () => {
    const send = edgeNode();
    send(topic('NBIRTH'), nbirth(0));
    send(
      topic('DBIRTH', 'ahu-1'),
      birth(1, [{ name: 'Return Air Temperature', alias: 5, type: 'Double', value: 22 }]),
    );
    // Non-conformant but seen in the field: aliases reused per device ([tck-id-payloads-alias-uniqueness]).
    send(
      topic('DBIRTH', 'ahu-2'),
      birth(2, [{ name: 'Filter Alarm', alias: 5, type: 'Boolean', value: false }]),
    );
    expect(values(send(topic('DDATA', 'ahu-1'), data(3, [{ alias: 5, doubleValue: 23.5 }])))).toEqual([
      `${EDGE}.ahu-1:return_air_temperature_c=23.5`,
    ]);
    expect(values(send(topic('DDATA', 'ahu-2'), data(4, [{ alias: 5, booleanValue: true }])))).toEqual([
      `${EDGE}.ahu-2:filter_alarm=true`,
    ]);
    // Node aliases are not device aliases.
    const unknown = send(topic('DDATA', 'ahu-1'), data(5, [{ alias: 1, floatValue: 16 }]));
    expect(unknown.readings).toEqual([]);
    expect(unknown.events[0]?.detail).toMatchObject({ reason: 'unknown_alias', aliases: [1] });
  });

  it('types alias-only values by the BIRTH datatype (signed Int16 sent as uint32)', () => {
    const send = edgeNode();
    send(topic('NBIRTH'), birth(0, [{ name: 'Coil/Temperature', alias: 3, type: 'Int16', value: 4 }], 1));
    const out = send(topic('NDATA'), data(1, [{ alias: 3, intValue: 0xfffffffd }]));
    expect(values(out)).toEqual([`${EDGE}:temperature_c=-3`]);
  });

  it('forgets device births on a new NBIRTH and after DDEATH', () => {
    const send = edgeNode();
    send(topic('NBIRTH'), nbirth(0));
    send(
      topic('DBIRTH', 'ahu-1'),
      birth(1, [{ name: 'Fan/Running', alias: 2, type: 'Boolean', value: true }]),
    );
    send(topic('DDEATH', 'ahu-1'), data(2, []));
    const afterDeath = send(topic('DDATA', 'ahu-1'), data(3, [{ alias: 2, booleanValue: true }]));
    expect(afterDeath.readings).toEqual([]);
    expect(afterDeath.events[0]?.detail).toMatchObject({ reason: 'no_birth', device: 'ahu-1' });
    send(topic('NBIRTH'), nbirth(0));
    expect(send(topic('DDATA', 'ahu-1'), data(1, [{ alias: 2, booleanValue: true }])).readings).toEqual([]);
  });
});

describe('Sparkplug values and timestamps', () => {
  it('uses sane metric timestamps and the arrival time for implausible ones', () => {
    const send = edgeNode();
    send(topic('NBIRTH'), nbirth(0));
    const out = send(
      topic('NDATA'),
      data(
        1,
        [
          { alias: 1, floatValue: 16, timestamp: T - 30_000 },
          // Local time (UTC+8) sent as UTC: 8 h in the future.
          { alias: 1, floatValue: 17, timestamp: T + 8 * 3_600_000 },
          { alias: 1, floatValue: 18 },
        ],
        T - 1000,
      ),
    );
    expect(out.readings.map((r) => r.ts)).toEqual([T - 30_000, T, T - 1000]);
  });

  it('skips null, historical and unsupported metrics without error', () => {
    const send = edgeNode();
    const out = send(
      topic('NBIRTH'),
      birth(
        0,
        [
          { name: 'Temperature', alias: 1, type: 'Double', value: null },
          { name: 'Humidity', alias: 2, type: 'Float', value: 40, isHistorical: true },
          { name: 'Commissioned', alias: 3, type: 'DateTime', value: T },
          { name: 'Pressure', alias: 4, type: 'Double', value: 101.3 },
        ],
        1,
      ),
    );
    expect(values(out)).toEqual([`${EDGE}:pressure_kpa=101.3`]);
  });

  it('rejects bytes that are not a Sparkplug payload with a readable reason', () => {
    const parsed = sparkplugPayloadSchema.safeParse(new TextEncoder().encode('{"temp":21}'));
    expect(parsed.success).toBe(false);
    if (!parsed.success)
      expect(describeSchemaError(parsed.error)).toMatch(/not a Sparkplug B protobuf payload/);
  });

  it('maps names to canonical metrics with unit conversion, else passes them through', () => {
    expect(mapMetric('Zone 3/Temperature', 68, '°F')).toEqual({
      metric: 'temperature_c',
      value: 20,
      unit: '°C',
    });
    expect(mapMetric('Inputs/Leak', 1, undefined)).toEqual({ metric: 'water_leak', value: true });
    expect(mapMetric('Supply Fan/Running', true, undefined)).toEqual({ metric: 'fan_running', value: true });
    expect(mapMetric('Pump/Run', false, undefined)).toEqual({ metric: 'relay_on', value: false });
    expect(mapMetric('Tank/Pressure', 1.2, 'bar')).toEqual({
      metric: 'pressure_kpa',
      value: 120,
      unit: 'kPa',
    });
    // A unit that is not a pressure unit: not silently taken as kPa.
    expect(mapMetric('Tank/Pressure', 55, '%')).toEqual({ metric: 'sp_tank_pressure', value: 55, unit: '%' });
    expect(mapMetric('Outputs/LEDs/Green', 'on', undefined)).toEqual({
      metric: 'sp_outputs_leds_green',
      value: 'on',
    });
  });
});

describe('Sparkplug values that are not finite', () => {
  const faults = (out: Normalised) =>
    out.events.map((e) => [e.code, e.detail?.metric, e.detail?.error, e.detail?.value]);

  it('turns a NaN or infinite float/double into a sensor_fault, never a reading', () => {
    const send = edgeNode();
    send(topic('NBIRTH'), nbirth(0));
    const out = send(topic('NDATA'), data(1, [{ alias: 1, floatValue: Number.NaN }]));
    expect(out.readings).toEqual([]);
    expect(faults(out)).toEqual([['sensor_fault', 'Supply Air Temperature', 'not_finite', 'NaN']]);
    const inf = send(topic('NDATA'), data(2, [{ name: 'Humidity', doubleValue: Number.POSITIVE_INFINITY }]));
    expect(faults(inf)).toEqual([['sensor_fault', 'Humidity', 'not_finite', 'Infinity']]);
  });

  it('does not read a NaN on a leak input as a leak (NaN !== 0)', () => {
    const send = edgeNode();
    send(topic('NBIRTH'), nbirth(0));
    const out = send(topic('NDATA'), data(1, [{ name: 'Inputs/Leak', doubleValue: Number.NaN }]));
    expect(values(out)).toEqual([]);
    expect(faults(out)).toEqual([['sensor_fault', 'Inputs/Leak', 'not_finite', 'NaN']]);
  });

  it('turns a unit conversion that overflows (1e306 kW in W) into a sensor_fault', () => {
    const send = edgeNode();
    const engUnit = { type: 'String', value: 'kW' };
    const kw = { name: 'Pump/Power', alias: 2, type: 'Double', value: 1.5, properties: { engUnit } };
    send(topic('NBIRTH'), birth(0, [kw], 1));
    const out = send(topic('NDATA'), data(1, [{ alias: 2, doubleValue: 1e306 }]));
    expect(out.readings).toEqual([]);
    expect(out.events).toMatchObject([
      { code: 'sensor_fault', detail: { metric: 'Pump/Power', error: 'not_finite', engUnit: 'kW' } },
    ]);
    expect(values(send(topic('NDATA'), data(2, [{ alias: 2, doubleValue: 2 }])))).toEqual([
      `${EDGE}:power_w=2000`,
    ]);
  });

  it('keeps a BIRTH holding a NaN value, so later DATA still maps', () => {
    const send = edgeNode();
    const born = send(
      topic('NBIRTH'),
      birth(0, [{ name: 'Supply Air Temperature', alias: 1, type: 'Float', value: Number.NaN }], 1),
    );
    expect(born.events.map((e) => e.code)).toEqual(['online', 'sensor_fault']);
    expect(values(send(topic('NDATA'), data(1, [{ alias: 1, floatValue: 16 }])))).toEqual([
      `${EDGE}:supply_air_temperature_c=16`,
    ]);
  });
});
