import { describe, expect, it } from 'vitest';
import { decodeLwl02 } from '../../../adapters/decoders/dragino-lwl02.ts';
import { decodeLwl03a } from '../../../adapters/decoders/dragino-lwl03a.ts';
import { DecodeError, findDecoder } from '../../../adapters/decoders/index.ts';
import { decodeWs303 } from '../../../adapters/decoders/milesight-ws303.ts';
import { adapters } from '../../../adapters/index.ts';
import { ttsUplinkSchema } from '../../../adapters/ttn.ts';
import { TopicRouter } from '../../../src/ingest/router.ts';

const hex = (s: string) => new Uint8Array(Buffer.from(s.replace(/ /g, ''), 'hex'));
const RECEIVED_AT = Date.UTC(2025, 0, 15, 0, 30);
const UP = 'xincheng/v3/facilities@ttn/devices/leak-b1-riser/up';

describe('Milesight WS303 decoder (Milesight-IoT/SensorDecoders ws-series/ws303)', () => {
  it('decodes the README examples', () => {
    expect(decodeWs303(hex('01 75 64 03 00 00'))).toEqual({ battery: 100, leakage_status: 'normal' });
    expect(decodeWs303(hex('01 75 64 03 00 01'))).toEqual({ battery: 100, leakage_status: 'leak' });
  });

  it('skips device attributes and downlink answers by their documented lengths', () => {
    // Built from the attribute table: class A, firmware v1.1, report interval 600 s, then telemetry.
    const frame = hex('ff 0f 00  ff 0a 01 01  fe 03 58 02  01 75 5a  03 00 00');
    expect(decodeWs303(frame)).toEqual({ battery: 90, leakage_status: 'normal' });
  });

  it('maps a leakage byte other than 0/1 to unknown, as the vendor getValue() does', () => {
    expect(decodeWs303(hex('03 00 07'))).toEqual({ leakage_status: 'unknown' });
  });

  it('keeps what it read before an unknown channel, as the vendor decoder breaks there', () => {
    expect(decodeWs303(hex('01 75 64 99 99 01'))).toEqual({ battery: 100 });
  });

  it('rejects a truncated frame instead of reading battery 0 (the vendor reads undefined as 0)', () => {
    expect(() => decodeWs303(hex('01 75'))).toThrow(DecodeError);
    expect(() => decodeWs303(hex('01 75 64 03'))).toThrow(/channel header/);
    expect(() => decodeWs303(hex('ff 16 01 02'))).toThrow(DecodeError);
    expect(() => decodeWs303(hex('ff 42 00'))).toThrow(/unknown channel 0xff 0x42/);
  });
});

describe('Dragino LWL03A decoder (dragino-end-node-decoder LWL03A_v1.0TTN.txt)', () => {
  it('decodes the lwl03a-codec.yaml example exactly as documented', () => {
    expect(decodeLwl03a(hex('01 00 00 0A 00 00 0A 63 5C D2 F2'), 2)).toEqual({
      TDC: 'NO',
      ALARM: 'FALSE',
      WATER_LEAK_STATUS: 'LEAK',
      WATER_LEAK_TIMES: 10,
      LAST_WATER_LEAK_DURATION: 10,
      TIME: '2022-10-29 07:14:58',
    });
  });

  it('reads the periodic and alarm flags and a timestamp past 2038 unsigned', () => {
    const out = decodeLwl03a(hex('06 00 01 00 00 00 3C 80 00 00 00'), 2);
    expect(out).toMatchObject({ TDC: 'YES', ALARM: 'TRUE', WATER_LEAK_STATUS: 'NO LEAK' });
    expect(out).toMatchObject({ WATER_LEAK_TIMES: 256, LAST_WATER_LEAK_DURATION: 60 });
    expect(out.TIME).toBe('2038-01-19 03:14:08');
  });

  it('decodes the fPort 5 device status battery in volts', () => {
    expect(decodeLwl03a(hex('14 01 00 0B FF 0E 10'), 5)).toEqual({
      SENSOR_MODEL: 'LWL03A',
      FIRMWARE_VERSION: '1.0.0',
      FREQUENCY_BAND: 'CN470',
      BAT: 3.6,
    });
  });

  it('has no current state on the data-log (3) and configuration (4) ports', () => {
    expect(decodeLwl03a(hex('01 00 00 0A 00 00 0A 63 5C D2 F2'), 3)).toEqual({});
    expect(decodeLwl03a(hex('00 1C 20 00 01 00 1E 05'), 4)).toEqual({});
  });

  it('rejects a status frame that is not 11 bytes (the vendor returns nothing)', () => {
    expect(() => decodeLwl03a(hex('01 00 00 0A'), 2)).toThrow(/11 bytes/);
    expect(() => decodeLwl03a(hex('14 01 00'), 5)).toThrow(DecodeError);
  });
});

describe('Dragino LWL02 decoder (lorawan-devices vendor/dragino/lwl02.js)', () => {
  it('decodes a MOD 2 leak frame', () => {
    expect(decodeLwl02(hex('4B E2 02 00 00 08 00 00 01 00'), 10)).toEqual({
      BAT_V: 3.042,
      MOD: 2,
      WATER_LEAK_STATUS: 1,
      WATER_LEAK_TIMES: 8,
      LAST_WATER_LEAK_DURATION: 1,
    });
  });

  it('reports no water leak in MOD 1 (door sensor), where bit 14 means something else', () => {
    const out = decodeLwl02(hex('CB E2 01 00 00 05 00 00 02 01'), 10);
    expect(out).toEqual({
      BAT_V: 3.042,
      MOD: 1,
      DOOR_OPEN_STATUS: 1,
      DOOR_OPEN_TIMES: 5,
      LAST_DOOR_OPEN_DURATION: 2,
      ALARM: 1,
    });
    expect(out).not.toHaveProperty('WATER_LEAK_STATUS');
  });

  it('rejects the 7-byte lwl02-codec.yaml example, which the vendor decoder reads past the end of', () => {
    // Its documented output (DOOR_OPEN_TIMES 9472, LAST_DOOR_OPEN_DURATION 65536) is an artefact.
    expect(() => decodeLwl02(hex('0B 88 01 00 25 00 01'), 10)).toThrow(DecodeError);
  });

  it('has no state on other ports (the vendor decoder answers "unknown FPort")', () => {
    expect(decodeLwl02(hex('0B 88 01 00 25 00 01'), 42)).toEqual({});
  });
});

describe('findDecoder', () => {
  it('matches LoRaWAN Device Repository brand and model ids', () => {
    expect(findDecoder({ brand_id: 'milesight-iot', model_id: 'ws303' })?.kind).toBe('plumbing');
    expect(findDecoder({ brand_id: 'dragino', model_id: 'lwl03a' })).toBeDefined();
    expect(findDecoder({ brand_id: 'dragino', model_id: 'ws303' })).toBeUndefined();
    expect(findDecoder({ model_id: 'ws303' })).toBeUndefined();
    expect(findDecoder(undefined)).toBeUndefined();
  });
});

describe('ttn adapter', () => {
  const router = new TopicRouter(adapters);
  function run(topic: string, payload: unknown) {
    const m = router.match(topic);
    if (!m) throw new Error(`${topic} is not routed`);
    const parsed = m.route.schema.parse(payload);
    return m.route.toReadings(parsed, {
      site: m.site,
      deviceId: m.deviceId,
      params: m.params,
      topic,
      receivedAt: RECEIVED_AT,
    });
  }

  const uplink = (over: Record<string, unknown> = {}, ids: Record<string, unknown> = {}) => ({
    end_device_ids: { device_id: 'leak-b1-riser', application_ids: { application_id: 'facilities' }, ...ids },
    uplink_message: {
      f_port: 85,
      frm_payload: 'AXVkAwAB',
      version_ids: { brand_id: 'milesight-iot', model_id: 'ws303' },
      ...over,
    },
  });

  it('routes only uplinks, not the other message types of the MQTT integration', () => {
    expect(router.match(UP)?.route.adapterId).toBe('ttn');
    expect(router.match('xincheng/v3/facilities/devices/leak-b1-riser/up')?.route.adapterId).toBe('ttn');
    for (const other of ['join', 'down/queued', 'down/sent', 'down/ack', 'down/failed', 'service/data']) {
      expect(router.match(`xincheng/v3/facilities@ttn/devices/leak-b1-riser/${other}`)).toBeUndefined();
    }
    expect(router.match('v3/facilities@ttn/devices/leak-b1-riser/up')).toBeUndefined();
  });

  it('names the asset by the end-device id and hints the kind of a known model', () => {
    const out = run(UP, uplink());
    expect(out.readings.map((r) => r.assetId)).toEqual(['leak-b1-riser', 'leak-b1-riser']);
    expect(out.kinds).toEqual({ 'leak-b1-riser': 'plumbing' });
    expect(run(UP, uplink({ version_ids: undefined })).kinds).toBeUndefined();
  });

  it("refuses an uplink whose device or application is not the topic's", () => {
    expect(() => run(UP, uplink({}, { device_id: 'leak-2f-pantry' }))).toThrow(/not the topic's device/);
    expect(() => run(UP, uplink({}, { application_ids: { application_id: 'hvac' } }))).toThrow(
      /application_id "hvac"/,
    );
  });

  it("decodes frm_payload itself when the formatter's output has no field it knows", () => {
    const out = run(UP, uplink({ decoded_payload: { bytes: [1, 117, 100, 3, 0, 1] } }));
    expect(out.readings.find((r) => r.metric === 'water_leak')?.value).toBe(true);
  });

  it('turns a damaged frame of a known model into an error (a dead letter), not a battery of 0', () => {
    expect(() => run(UP, uplink({ frm_payload: 'AXU=' }))).toThrow(DecodeError);
  });

  it("stamps readings with the Network Server's received_at when plausible, else with receivedAt", () => {
    const at = (iso: string) => run(UP, uplink({ received_at: iso })).readings[0]?.ts;
    expect(at('2025-01-15T00:29:30Z')).toBe(RECEIVED_AT - 30_000);
    expect(at('2025-01-15T04:00:00+08:00')).toBe(RECEIVED_AT - 4.5 * 3600_000);
    expect(at('2025-01-13T00:30:00Z')).toBe(RECEIVED_AT);
    expect(at('2025-01-15T01:00:00Z')).toBe(RECEIVED_AT);
    expect(run(UP, uplink()).readings[0]?.ts).toBe(RECEIVED_AT);
  });

  it('keeps the best RSSI and SNR over all gateways, each on its own', () => {
    const rx_metadata = [
      { gateway_ids: { gateway_id: 'a' }, rssi: -110, snr: 6 },
      { gateway_ids: { gateway_id: 'b' }, rssi: -90, snr: -3 },
      { gateway_ids: { gateway_id: 'c' }, channel_rssi: -120 },
    ];
    const out = run(UP, uplink({ rx_metadata, version_ids: undefined }));
    expect(out.readings.map((r) => [r.metric, r.value])).toEqual([
      ['rssi_dbm', -90],
      ['snr_db', 6],
    ]);
  });

  it("takes a formatter's null values as unknown: no reading, and the DevStatusAns battery instead", () => {
    const out = run(
      UP,
      uplink({
        version_ids: undefined,
        decoded_payload: { temperature: null, humidity: 45.5, battery: null, leakage_status: null },
        last_battery_percentage: { f_cnt: 120, value: 87, received_at: '2025-01-15T00:20:00Z' },
      }),
    );
    expect(out.readings.map((r) => [r.metric, r.value])).toEqual([
      ['humidity_pct', 45.5],
      ['battery_pct', 87],
    ]);
  });

  it('rejects a DevEUI that is not 16 hex digits and a non-base64 payload', () => {
    expect(ttsUplinkSchema.safeParse(uplink({}, { dev_eui: '24-E1-24' })).success).toBe(false);
    expect(ttsUplinkSchema.safeParse(uplink({ frm_payload: '017564030001!' })).success).toBe(false);
  });
});
