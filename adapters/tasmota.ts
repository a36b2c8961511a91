import { z } from 'zod';
import { type AdapterContext, defineAdapter, emit } from './define.ts';

/**
 * Tasmota devices bridged under the site prefix with the default FullTopic `%prefix%/%topic%/`:
 * `<site>/tele/<topic>/SENSOR|STATE|LWT` and `<site>/stat/<topic>/RESULT|POWER<n>`
 * (tasmota.github.io/docs/MQTT). Asset ids:
 * - every 1-wire probe (DS18B20 ...) that reports an `Id` is its own asset `<topic>-<Id>`, so a probe
 *   keeps its history when it moves to another bus position (`DS18B20-1` becomes `DS18B20-2`);
 * - relay `POWER<n>` and the n-th entry of an ENERGY array are asset `<topic>-<n>` (Tasmota counts
 *   from 1); a plain `POWER` and scalar ENERGY values are the device `<topic>` itself;
 * - a sensor without `Id` (DHT11, SHT3X, a pre-9.x DS18B20) is the device, unless a message holds
 *   several of them: then each is `<topic>-<sensor key>` (e.g. `th-b1-SHT3X`).
 */

// DS18x20 power-on reset value of the scratchpad: the probe was read before a conversion finished
// (typically a brown-out on a long 1-wire run). A true 85.0 °C reading looks the same and is dropped too.
const DS18B20_POWER_ON_RESET_C = 85;
// DEVICE_DISCONNECTED_C of the DallasTemperature library, reported by bridges for a missing probe.
const ONE_WIRE_DISCONNECTED_C = -127;
// Keys the DS18x20 driver gives a probe: `DS18B20`, `DS18B20-2`, `DS18S20_1` (SetOption64 uses `_`)
// (tasmota/tasmota_xsns_sensor/xsns_05_ds18x20.ino, Ds18x20Name). Aliases (DS18Alias) are caught by `Id`.
const ONE_WIRE_KEY = /^(DS18[BS]20|DS1822|DS18x20|MAX31850)([-_]\d+)?$/;
// The ESP32 reports its own die temperature as a sensor block; it says nothing about the room.
const CHIP_KEY = 'ESP32';

const num = z.number().finite();
const value = num.nullable().optional();
const channels = z.union([num, z.array(num)]).optional();

const climateBlock = z.looseObject({ Id: z.string().optional(), Temperature: value, Humidity: value });
// Multi-channel meters (Shelly 2.5, three PZEM-004T on one ESP) report arrays, one entry per channel.
const energyBlock = z.looseObject({ Total: channels, Power: channels, Voltage: channels, Current: channels });
type Energy = z.output<typeof energyBlock>;

interface SensorBlock {
  key: string;
  type: 'probe' | 'climate' | 'chip';
  id?: string | undefined;
  temperature?: number | null | undefined;
  humidity?: number | null | undefined;
}

type Issues = z.core.$ZodRawIssue[];

/** Validates one part of a message, reporting failures at its path in the whole message. */
function check<S extends z.ZodType>(schema: S, input: unknown, path: PropertyKey[], issues: Issues) {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) {
    issues.push({ ...issue, path: [...path, ...issue.path], input } as Issues[number]);
  }
  return undefined;
}

/** `tele/<topic>/SENSOR`: one JSON object, a block per sensor driver plus `ENERGY` and `TempUnit`. */
export const sensorSchema = z.record(z.string(), z.unknown()).transform((msg, ctx) => {
  const unit = check(z.enum(['C', 'F']).default('C'), msg.TempUnit, ['TempUnit'], ctx.issues);
  const energy =
    msg.ENERGY === undefined ? undefined : check(energyBlock, msg.ENERGY, ['ENERGY'], ctx.issues);
  const blocks: SensorBlock[] = [];
  for (const [key, block] of Object.entries(msg)) {
    if (key === 'ENERGY' || typeof block !== 'object' || block === null || Array.isArray(block)) continue;
    if (!('Temperature' in block) && !('Humidity' in block)) continue; // ANALOG, COUNTER, ...
    const b = check(climateBlock, block, [key], ctx.issues);
    if (!b) continue;
    const type =
      key === CHIP_KEY ? 'chip' : b.Id !== undefined || ONE_WIRE_KEY.test(key) ? 'probe' : 'climate';
    blocks.push({ key, type, id: b.Id, temperature: b.Temperature, humidity: b.Humidity });
  }
  return { unit: unit ?? 'C', energy, blocks };
});

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

/** SetOption8 1 makes every temperature of the device Fahrenheit, announced by `"TempUnit":"F"`. */
export function toCelsius(t: number, unit: 'C' | 'F'): number {
  return unit === 'F' ? round(((t - 32) * 5) / 9, 2) : t;
}

function isOneWireSentinel(celsius: number): boolean {
  // Compared after the °F conversion (rounded to 0.01), so 185.0 °F and -196.6 °F count as well.
  return [DS18B20_POWER_ON_RESET_C, ONE_WIRE_DISCONNECTED_C].some((s) => Math.abs(celsius - s) < 0.005);
}

function blockAsset(deviceId: string, b: SensorBlock, unnamedCount: number): string {
  if (b.id !== undefined) return `${deviceId}-${b.id}`;
  if (b.type === 'chip' || unnamedCount <= 1) return deviceId;
  return `${deviceId}-${b.key}`;
}

function sensorReadings(e: ReturnType<typeof emit>, b: SensorBlock, assetId: string, unit: 'C' | 'F'): void {
  const opts = { assetId };
  if (b.temperature === null) e.event('fault', 'sensor_fault', { sensor: b.key, value: null }, opts);
  else if (b.temperature !== undefined) {
    const celsius = toCelsius(b.temperature, unit);
    if (b.type === 'chip') e.reading('device_temperature_c', celsius, '°C', opts);
    else if (b.type === 'probe' && isOneWireSentinel(celsius)) {
      e.event('fault', 'sensor_fault', { sensor: b.key, id: b.id, value: b.temperature, unit }, opts);
    } else e.reading('temperature_c', celsius, '°C', opts);
  }
  if (b.humidity === null) e.event('fault', 'sensor_fault', { sensor: b.key, field: 'Humidity' }, opts);
  else if (b.humidity !== undefined) e.reading('humidity_pct', b.humidity, '%', opts);
}

const channelAsset = (deviceId: string, channel: number | undefined) =>
  channel === undefined ? deviceId : `${deviceId}-${channel}`;

function energyReadings(e: ReturnType<typeof emit>, deviceId: string, energy: Energy): void {
  const fields = [
    ['Power', 'power_w', 'W', 1],
    ['Voltage', 'voltage_v', 'V', 1],
    ['Current', 'current_a', 'A', 1],
    ['Total', 'energy_wh', 'Wh', 1000], // Tasmota's Total is kWh
  ] as const;
  for (const [field, metric, unit, factor] of fields) {
    const v = energy[field];
    if (v === undefined) continue;
    const values = Array.isArray(v) ? v.map((x, i) => [x, i + 1] as const) : [[v, undefined] as const];
    for (const [x, channel] of values) {
      e.reading(metric, round(x * factor, 3), unit, { assetId: channelAsset(deviceId, channel) });
    }
  }
}

const POWER_KEY = /^POWER(\d*)$/;

/** `POWER`, `POWER1`..`POWERn` from STATE or RESULT; custom StateText values are skipped. */
function relayStates(msg: Record<string, unknown>, issues: Issues) {
  const relays: { channel: number | undefined; on: boolean }[] = [];
  for (const [key, state] of Object.entries(msg)) {
    const m = POWER_KEY.exec(key);
    if (!m) continue;
    const text = check(z.string(), state, [key], issues);
    const on = text === undefined ? undefined : relayText(text);
    if (on !== undefined) relays.push({ channel: m[1] ? Number(m[1]) : undefined, on });
  }
  return relays;
}

function relayText(text: string): boolean | undefined {
  const upper = text.toUpperCase();
  return upper === 'ON' ? true : upper === 'OFF' ? false : undefined;
}

function relayReadings(
  ctx: AdapterContext,
  relays: readonly { channel: number | undefined; on: boolean }[],
): ReturnType<typeof emit> {
  const e = emit(ctx);
  for (const r of relays)
    e.reading('relay_on', r.on, undefined, { assetId: channelAsset(ctx.deviceId, r.channel) });
  return e;
}

const stateSchema = z.record(z.string(), z.unknown()).transform((msg, ctx) => ({
  relays: relayStates(msg, ctx.issues),
  // Wifi.RSSI is a 0..100 % quality; Wifi.Signal is the dBm value (support_tasmota.ino, MqttShowState).
  wifi: check(z.looseObject({ Signal: num.optional() }).optional(), msg.Wifi, ['Wifi'], ctx.issues),
}));

const resultSchema = z.record(z.string(), z.unknown()).transform((msg, ctx) => relayStates(msg, ctx.issues));
const relayTextSchema = z
  .string()
  .transform((s) => s.toUpperCase())
  .pipe(z.enum(['ON', 'OFF']));
const STAT_REPLY = /^(RESULT|POWER\d*)$/;

export const tasmota = defineAdapter({
  id: 'tasmota',
  description:
    'Tasmota devices bridged under the site prefix (tele/stat with the default FullTopic); each 1-wire probe ' +
    'is its own asset <topic>-<Id>, relay POWER<n> is <topic>-<n>',
  routes: [
    {
      topic: '{site}/tele/{device}/SENSOR',
      payload: 'json',
      schema: sensorSchema,
      toReadings(msg, ctx) {
        const e = emit(ctx);
        const unnamed = msg.blocks.filter((b) => b.id === undefined && b.type !== 'chip').length;
        for (const b of msg.blocks) sensorReadings(e, b, blockAsset(ctx.deviceId, b, unnamed), msg.unit);
        if (msg.energy) energyReadings(e, ctx.deviceId, msg.energy);
        return e.out;
      },
    },
    {
      topic: '{site}/tele/{device}/STATE',
      payload: 'json',
      schema: stateSchema,
      toReadings(state, ctx) {
        const e = relayReadings(ctx, state.relays);
        if (state.wifi?.Signal !== undefined) e.reading('rssi_dbm', state.wifi.Signal, 'dBm');
        return e.out;
      },
    },
    {
      // Last will (retained): `Online` after connecting, `Offline` published by the broker.
      topic: '{site}/tele/{device}/LWT',
      payload: 'text',
      schema: z
        .string()
        .transform((s) => s.toLowerCase())
        .pipe(z.enum(['online', 'offline'])),
      toReadings(state, ctx) {
        const e = emit(ctx);
        e.event('availability', state);
        return e.out;
      },
    },
    {
      // One route for both, so the subscription filters do not overlap (an overlapping pair may
      // deliver a message twice, MQTT 3.1.1 §3.3.5). RESULT answers any command; only relay changes
      // (`{"POWER1":"ON"}`) matter. stat/POWER<n> carries the bare text `ON`, or with SetOption4 1
      // the JSON that RESULT would have carried (tasmota.github.io/docs/Commands, SetOption4).
      topic: '{site}/stat/{device}/{reply}',
      where: { reply: STAT_REPLY },
      payload: 'json-or-text',
      schema: z.union([resultSchema, relayTextSchema]),
      toReadings(reply, ctx) {
        if (Array.isArray(reply)) return relayReadings(ctx, reply).out;
        const channel = POWER_KEY.exec(ctx.params.reply ?? '')?.[1];
        return relayReadings(ctx, [{ channel: channel ? Number(channel) : undefined, on: reply === 'ON' }])
          .out;
      },
    },
  ],
});
