import { z } from 'zod';
import type { ReadingValue } from '../src/domain/types.ts';
import { findDecoder, type LorawanDecoder } from './decoders/index.ts';
import { type AdapterContext, defineAdapter, emit } from './define.ts';
import { clampDeviceTime } from './native.ts';

/**
 * LoRaWAN end devices on The Things Stack v3 (TTN, TTI, self-hosted), whose MQTT integration is
 * bridged under the site prefix: `<site>/v3/<application-id>@<tenant-id>/devices/<device-id>/up`.
 * The payload is the ApplicationUp JSON (lorawan-stack docs, "Data Formats", uplink messages).
 * Only `/up` is routed: `/join`, `/down/...`, `/service/data` and `/location/solved` say nothing
 * about the building, and have other shapes. The asset id is the end-device id.
 *
 * Which fields mean what:
 * 1. `decoded_payload`, from the application's payload formatter, when it yields a known field.
 * 2. Otherwise xiaoer decodes `frm_payload` itself if `version_ids` (filled in when the device
 *    was registered from the LoRaWAN Device Repository) names a model it ships a decoder for.
 * 3. Otherwise nothing in the uplink tells what the bytes mean: only the radio readings
 *    (rssi_dbm, snr_db) are kept, and the device stays unclassified until an admin confirms it.
 * `normalized_payload` is not used: e.g. the Device Repository's LWL03A normaliser reports
 * `leak: true` for `WATER_LEAK_STATUS: "NO LEAK"` (a non-empty string is truthy).
 */

const instant = z.iso.datetime({ offset: true }).transform((s) => Date.parse(s));

const rxMetadata = z.looseObject({
  gateway_ids: z.looseObject({ gateway_id: z.string() }).optional(),
  rssi: z.number().optional(),
  channel_rssi: z.number().optional(),
  snr: z.number().optional(),
});

export const ttsUplinkSchema = z.looseObject({
  end_device_ids: z.looseObject({
    device_id: z.string().min(1),
    application_ids: z.looseObject({ application_id: z.string() }).optional(),
    dev_eui: z
      .string()
      .regex(/^[0-9A-Fa-f]{16}$/, 'expected 16 hex digits')
      .optional(),
  }),
  received_at: instant.optional(),
  uplink_message: z.looseObject({
    // Zero values are omitted from the JSON ("Data Formats" note): no f_port means port 0.
    f_port: z.number().int().min(0).max(255).optional(),
    frm_payload: z.base64().optional(),
    decoded_payload: z.record(z.string(), z.unknown()).optional(),
    rx_metadata: z.array(rxMetadata).optional(),
    settings: z.looseObject({}).optional(),
    received_at: instant.optional(),
    version_ids: z
      .looseObject({ brand_id: z.string().optional(), model_id: z.string().optional() })
      .optional(),
    // DevStatusAns battery level (The Things Stack >= 3.33.1), as a percentage.
    last_battery_percentage: z.looseObject({ value: z.number() }).optional(),
  }),
});
type TtsUplink = z.output<typeof ttsUplinkSchema>;

interface Field {
  metric: string;
  value: ReadingValue;
  unit?: string;
}

const LEAK_WORDS: ReadonlyMap<string, boolean> = new Map([
  ['leak', true],
  ['normal', false], // Milesight-IoT/SensorDecoders (WS303, EM300-SLD/ZLD/MLD)
  ['no leak', false], // Dragino LWL03A ("NO LEAK"), Device Repository ws303.js ("no leak")
]);

function leak(value: unknown): Field | undefined {
  if (typeof value === 'boolean') return { metric: 'water_leak', value };
  if (value === 0 || value === 1) return { metric: 'water_leak', value: value === 1 }; // Dragino LWL02
  const word = typeof value === 'string' ? LEAK_WORDS.get(value.toLowerCase()) : undefined;
  return word === undefined ? undefined : { metric: 'water_leak', value: word };
}

const numberAs =
  (metric: string, unit: string) =>
  (value: unknown): Field | undefined =>
    typeof value === 'number' && Number.isFinite(value) ? { metric, value, unit } : undefined;

/**
 * Vendor decoder field names -> canonical metrics. `battery` is a percentage in every decoder
 * Milesight publishes; a formatter that reports volts under that name would be misread.
 */
const DECODED_FIELDS: ReadonlyMap<string, (value: unknown) => Field | undefined> = new Map([
  ['leakage_status', leak],
  ['leak_status', leak],
  ['WATER_LEAK_STATUS', leak],
  ['water_leak', leak],
  ['battery', numberAs('battery_pct', '%')],
  ['BAT_V', numberAs('voltage_v', 'V')], // Dragino LWL02 / LDS02
  ['BAT', numberAs('voltage_v', 'V')], // Dragino status frames (fPort 5)
  ['batteryVoltage', numberAs('voltage_v', 'V')],
  ['temperature', numberAs('temperature_c', '°C')],
  ['humidity', numberAs('humidity_pct', '%')],
]);

export function fieldsOf(decoded: Record<string, unknown>): Field[] {
  return Object.entries(decoded).flatMap(([name, value]) => DECODED_FIELDS.get(name)?.(value) ?? []);
}

function applicationFields(up: TtsUplink['uplink_message'], decoder: LorawanDecoder | undefined): Field[] {
  const fromFormatter = up.decoded_payload ? fieldsOf(up.decoded_payload) : [];
  if (fromFormatter.length > 0 || !decoder || up.frm_payload === undefined) return fromFormatter;
  const bytes = new Uint8Array(Buffer.from(up.frm_payload, 'base64'));
  return fieldsOf(decoder.decode(bytes, up.f_port ?? 0));
}

/** The strongest reception over every gateway (and antenna) that heard the uplink. */
function bestRadio(rx: readonly z.output<typeof rxMetadata>[]): { rssi?: number; snr?: number } {
  const best = (values: (number | undefined)[]) => {
    const known = values.filter((v): v is number => v !== undefined);
    return known.length > 0 ? Math.max(...known) : undefined;
  };
  const rssi = best(rx.map((m) => m.rssi ?? m.channel_rssi));
  // An SNR of exactly 0 dB is omitted from the JSON like any zero value: unknown here.
  const snr = best(rx.map((m) => m.snr));
  return { ...(rssi !== undefined ? { rssi } : {}), ...(snr !== undefined ? { snr } : {}) };
}

/** A bridge that mixes up topics would file one device's leak under another: refuse instead. */
function checkIdentity(up: TtsUplink, params: Readonly<Record<string, string>>): void {
  const ids = up.end_device_ids;
  if (ids.device_id !== params.device) {
    throw new Error(
      `end_device_ids.device_id "${ids.device_id}" is not the topic's device "${params.device}"`,
    );
  }
  const app = ids.application_ids?.application_id;
  const topicApp = (params.app ?? '').split('@')[0];
  if (app !== undefined && app !== topicApp) {
    throw new Error(
      `end_device_ids.application_ids.application_id "${app}" is not the topic's "${topicApp}"`,
    );
  }
}

function toReadings(up: TtsUplink, ctx: AdapterContext) {
  checkIdentity(up, ctx.params);
  const e = emit(ctx);
  // The Network Server's reception time: right even when the bridge delivers late (after an outage).
  const ts = clampDeviceTime(up.uplink_message.received_at ?? up.received_at, ctx.receivedAt);
  const decoder = findDecoder(up.uplink_message.version_ids);
  const fields = applicationFields(up.uplink_message, decoder);
  for (const f of fields) e.reading(f.metric, f.value, f.unit, { ts });
  const battery = up.uplink_message.last_battery_percentage;
  if (battery && !fields.some((f) => f.metric === 'battery_pct')) {
    e.reading('battery_pct', battery.value, '%', { ts });
  }
  const radio = bestRadio(up.uplink_message.rx_metadata ?? []);
  if (radio.rssi !== undefined) e.reading('rssi_dbm', radio.rssi, 'dBm', { ts });
  if (radio.snr !== undefined) e.reading('snr_db', radio.snr, 'dB', { ts });
  return decoder ? { ...e.out, kinds: { [ctx.deviceId]: decoder.kind } } : e.out;
}

export const ttn = defineAdapter({
  id: 'ttn',
  description: 'LoRaWAN uplinks from The Things Stack v3, bridged under the site prefix',
  metrics: ['water_leak', 'battery_pct', 'voltage_v', 'temperature_c', 'humidity_pct', 'rssi_dbm', 'snr_db'],
  routes: [
    {
      topic: '{site}/v3/{app}/devices/{device}/up',
      payload: 'json',
      schema: ttsUplinkSchema,
      toReadings,
    },
  ],
});
