/**
 * Tasmota logic the fixtures cannot show well: °F conversion and sentinels after it, probe asset ids
 * that survive a re-ordered bus, and which topics the routes take. Payload cases live in
 * test/fixtures/tasmota/.
 */
import { describe, expect, it } from 'vitest';
import { sensorSchema, tasmota, toCelsius } from '../../../adapters/tasmota.ts';
import { decodePayload, describeSchemaError } from '../../../src/ingest/decode.ts';
import { TopicRouter } from '../../../src/ingest/router.ts';

const router = new TopicRouter([tasmota]);
const RECEIVED_AT = Date.UTC(2025, 0, 15, 8, 30);

/** Routes, decodes, parses and maps one message the way ingest does; throws if any step refuses it. */
function run(topic: string, payload: unknown) {
  const m = router.match(topic);
  if (!m) throw new Error(`${topic} is not routed`);
  const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
  const decoded = decodePayload(new TextEncoder().encode(text), m.route.payload);
  if (!decoded.ok) throw new Error(decoded.detail);
  const parsed = m.route.schema.safeParse(decoded.value);
  if (!parsed.success) throw new Error(parsed.error.message);
  return m.route.toReadings(parsed.data, {
    site: m.site,
    deviceId: m.deviceId,
    params: m.params,
    topic,
    receivedAt: RECEIVED_AT,
  });
}

const sensor = (body: Record<string, unknown>, unit = 'C') =>
  run('xincheng/tele/boiler-b1/SENSOR', { Time: '2025-01-15T08:30:00', ...body, TempUnit: unit });

describe('tasmota temperatures', () => {
  it.each([
    [71.6, 22],
    [32, 0],
    [-40, -40],
    [212, 100],
    [98.6, 37],
  ])('converts %s °F to %s °C without float noise', (f, c) => {
    expect(toCelsius(f, 'F')).toBe(c);
  });

  it('leaves Celsius untouched', () => {
    expect(toCelsius(21.37, 'C')).toBe(21.37);
  });

  it.each([
    [185.0, 'F'],
    [-196.6, 'F'],
    [85.0, 'C'],
    [-127, 'C'],
  ])('treats DS18B20 %s °%s as a sensor fault, also after conversion', (t, unit) => {
    const out = sensor({ DS18B20: { Id: '01144A0CB2AA', Temperature: t } }, unit);
    expect(out.readings).toEqual([]);
    expect(out.events).toMatchObject([
      { assetId: 'boiler-b1-01144A0CB2AA', kind: 'fault', code: 'sensor_fault' },
    ]);
  });

  it('keeps a real reading just above the reset value (185.2 °F = 85.11 °C)', () => {
    const out = sensor({ DS18B20: { Id: '01144A0CB2AA', Temperature: 185.2 } }, 'F');
    expect(out.readings).toMatchObject([{ metric: 'temperature_c', value: 85.11 }]);
  });

  it('does not apply the 1-wire sentinels to other sensors', () => {
    const out = sensor({ SHT3X: { Temperature: 85.0, Humidity: 10 } });
    expect(out.readings).toContainEqual(expect.objectContaining({ metric: 'temperature_c', value: 85 }));
  });
});

describe('tasmota probe asset ids', () => {
  it('follows the probe Id, not its DS18B20-<n> position, when a probe is added to the bus', () => {
    const before = sensor({ 'DS18B20-1': { Id: '0000048EC44C', Temperature: 40 } });
    const after = sensor({
      'DS18B20-1': { Id: '00000566CC39', Temperature: 12 },
      'DS18B20-2': { Id: '0000048EC44C', Temperature: 40 },
    });
    const assetOf = (out: typeof before, value: number) =>
      out.readings.find((r) => r.value === value)?.assetId;
    expect(assetOf(after, 40)).toBe(assetOf(before, 40));
    expect(assetOf(after, 40)).toBe('boiler-b1-0000048EC44C');
  });

  it('treats an aliased probe (DS18Alias) as a probe by its Id', () => {
    const out = sensor({ Boiler: { Id: '01144A0CB2AA', Temperature: 85 } });
    expect(out.events).toMatchObject([{ assetId: 'boiler-b1-01144A0CB2AA', code: 'sensor_fault' }]);
  });

  it('reports the ESP32 die temperature apart, without renaming the one room sensor', () => {
    const out = sensor({ ESP32: { Temperature: 48.3 }, DHT11: { Temperature: 21, Humidity: 40 } });
    expect(out.readings.map((r) => [r.assetId, r.metric, r.value])).toEqual([
      ['boiler-b1', 'device_temperature_c', 48.3],
      ['boiler-b1', 'temperature_c', 21],
      ['boiler-b1', 'humidity_pct', 40],
    ]);
  });
});

describe('tasmota relays and topics', () => {
  it('skips a custom StateText relay value in STATE but keeps the rest', () => {
    const out = run('xincheng/tele/pump-b1/STATE', { POWER: 'AN', Wifi: { RSSI: 70, Signal: -65 } });
    expect(out.readings.map((r) => r.metric)).toEqual(['rssi_dbm']);
  });

  it('routes stat/<topic>/POWER<n> to relay asset <topic>-<n>', () => {
    expect(run('xincheng/stat/valves-2f/POWER3', 'ON').readings).toMatchObject([
      { assetId: 'valves-2f-3', metric: 'relay_on', value: true },
    ]);
  });

  it.each([
    'xincheng/stat/pump-b1/STATUS10', // answers to Status commands: not relay states
    'xincheng/stat/pump-b1/POWERON',
    'xincheng/cmnd/pump-b1/POWER', // commands to the device, not its state
    'xincheng/tele/pump-b1/INFO1',
    'xincheng/zigbee2mqtt/tele',
    'tele/pump-b1/SENSOR', // not bridged under a site prefix
  ])('leaves %s alone', (topic) => {
    expect(router.match(topic)).toBeUndefined();
  });
});

describe('tasmota conversions stay finite', () => {
  const refusal = (msg: Record<string, unknown>) => {
    const parsed = sensorSchema.safeParse(msg);
    return parsed.success ? 'accepted' : describeSchemaError(parsed.error);
  };

  it('refuses a °F value whose °C conversion overflows, naming the field', () => {
    expect(refusal({ DS18B20: { Id: '01144A0CB2AA', Temperature: 1e308 }, TempUnit: 'F' })).toBe(
      'DS18B20.Temperature: 1e+308 converts to Infinity, not a finite number',
    );
  });

  it('refuses an ENERGY value whose unit conversion overflows, naming the field and channel', () => {
    expect(refusal({ ENERGY: { Total: 1e306 } })).toMatch(/^ENERGY\.Total: .*not a finite number$/);
    expect(refusal({ ENERGY: { Total: [1, 1e306] } })).toMatch(/^ENERGY\.Total\[1\]: /);
  });

  it('keeps the largest °C a double can hold, and a huge °F that still converts', () => {
    expect(refusal({ SHT3X: { Temperature: 1e308 }, TempUnit: 'C' })).toBe('accepted');
    const out = sensor({ SHT3X: { Temperature: 1e307 } }, 'F');
    expect(out.readings.every((r) => Number.isFinite(r.value))).toBe(true);
  });

  it('names the 1-wire sentinel and keeps the value as sent in the fault detail', () => {
    const out = sensor({ DS18B20: { Id: '01144A0CB2AA', Temperature: 185 } }, 'F');
    expect(out.events).toMatchObject([
      { code: 'sensor_fault', detail: { error: 'power_on_reset', value: 185, unit: 'F' } },
    ]);
  });
});
