import { z } from 'zod';
import { type AdapterContext, defineAdapter, type Emitter, emit, gatewayName } from './define.ts';

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

// Tasmota prints every float through ext_printf's `%_f`, which writes NaN and ±Infinity as `null`
// (lib/default/Ext-printf/src/ext_printf.cpp): a failed sensor read, and any ENERGY value or array
// entry the meter does not have. Null is unknown: no reading. zod 4's number() refuses NaN and
// ±Infinity (JSON's 1e400).
const num = z.number();
const value = num.nullable().optional();
const channels = z.union([value, z.array(num.nullable())]);

const climateBlock = z.looseObject({ Id: z.string().optional(), Temperature: value, Humidity: value });
// Multi-channel meters (Shelly 2.5, three PZEM-004T on one ESP) report arrays, one entry per channel.
const energyBlock = z.looseObject({ Total: channels, Power: channels, Voltage: channels, Current: channels });

interface SensorBlock {
  key: string;
  type: 'probe' | 'climate' | 'chip';
  id?: string | undefined;
  /** °C, converted in the schema from the device's TempUnit; null: the driver could not read it. */
  temperature?: number | null | undefined;
  /** The temperature as sent, in TempUnit, for a fault's detail. */
  sent?: number | null | undefined;
  humidity?: number | null | undefined;
}

/** One ENERGY value in canonical units; `channel` for the n-th entry of an array (from 1). */
interface EnergyValue {
  metric: string;
  unit: string;
  value: number | null;
  channel?: number;
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

/**
 * A unit conversion done in the schema, so that one that overflows (1e308 °F, 1e306 kWh) is a
 * schema error naming the field instead of an Infinity that could raise a ticket.
 */
function convert(
  v: number | null,
  to: (x: number) => number,
  path: PropertyKey[],
  issues: Issues,
): number | null | undefined {
  if (v === null) return null;
  const out = to(v);
  if (Number.isFinite(out)) return out;
  issues.push({ code: 'custom', message: `${v} converts to ${out}, not a finite number`, path, input: v });
  return undefined;
}

const ENERGY_FIELDS = [
  ['Power', 'power_w', 'W', 1],
  ['Voltage', 'voltage_v', 'V', 1],
  ['Current', 'current_a', 'A', 1],
  ['Total', 'energy_wh', 'Wh', 1000], // Tasmota's Total is kWh
] as const;

function energyValues(block: z.output<typeof energyBlock>, issues: Issues): EnergyValue[] {
  const out: EnergyValue[] = [];
  for (const [field, metric, unit, factor] of ENERGY_FIELDS) {
    const v = block[field];
    if (v === undefined) continue;
    const entries = Array.isArray(v) ? v.map((x, i) => [x, i + 1] as const) : [[v, undefined] as const];
    for (const [x, channel] of entries) {
      const path = channel === undefined ? ['ENERGY', field] : ['ENERGY', field, channel - 1];
      const value = convert(x, (k) => round(k * factor, 3), path, issues);
      if (value === undefined) continue;
      out.push(channel === undefined ? { metric, unit, value } : { metric, unit, value, channel });
    }
  }
  return out;
}

function sensorBlock(key: string, b: z.output<typeof climateBlock>, unit: 'C' | 'F', issues: Issues) {
  const type = key === CHIP_KEY ? 'chip' : b.Id !== undefined || ONE_WIRE_KEY.test(key) ? 'probe' : 'climate';
  const block: SensorBlock = { key, type, id: b.Id, sent: b.Temperature, humidity: b.Humidity };
  if (b.Temperature !== undefined) {
    const celsius = convert(b.Temperature, (t) => toCelsius(t, unit), [key, 'Temperature'], issues);
    if (celsius === undefined) return undefined;
    block.temperature = celsius;
  }
  return block;
}

/** `tele/<topic>/SENSOR`: one JSON object, a block per sensor driver plus `ENERGY` and `TempUnit`. */
export const sensorSchema = z.record(z.string(), z.unknown()).transform((msg, ctx) => {
  const unit = check(z.enum(['C', 'F']).default('C'), msg.TempUnit, ['TempUnit'], ctx.issues) ?? 'C';
  const energyBlockIn =
    msg.ENERGY === undefined ? undefined : check(energyBlock, msg.ENERGY, ['ENERGY'], ctx.issues);
  const energy = energyBlockIn ? energyValues(energyBlockIn, ctx.issues) : [];
  const blocks: SensorBlock[] = [];
  for (const [key, block] of Object.entries(msg)) {
    if (key === 'ENERGY' || typeof block !== 'object' || block === null || Array.isArray(block)) continue;
    if (!('Temperature' in block) && !('Humidity' in block)) continue; // ANALOG, COUNTER, ...
    const b = check(climateBlock, block, [key], ctx.issues);
    const parsed = b && sensorBlock(key, b, unit, ctx.issues);
    if (parsed) blocks.push(parsed);
  }
  return { unit, energy, blocks };
});

/** Rounds to `digits` decimals; a value too large for that is already far coarser, and kept. */
function round(x: number, digits: number): number {
  const scaled = x * 10 ** digits;
  return Number.isFinite(scaled) ? Math.round(scaled) / 10 ** digits : x;
}

/** SetOption8 1 makes every temperature of the device Fahrenheit, announced by `"TempUnit":"F"`. */
export function toCelsius(t: number, unit: 'C' | 'F'): number {
  return unit === 'F' ? round(((t - 32) * 5) / 9, 2) : t;
}

/** The 1-wire sentinel a temperature is, in the DallasTemperature library's words, if any. */
function oneWireSentinel(celsius: number): 'power_on_reset' | 'disconnected' | undefined {
  // Compared after the °F conversion (rounded to 0.01), so 185.0 °F and -196.6 °F count as well.
  const near = (sentinel: number) => Math.abs(celsius - sentinel) < 0.005;
  if (near(DS18B20_POWER_ON_RESET_C)) return 'power_on_reset';
  return near(ONE_WIRE_DISCONNECTED_C) ? 'disconnected' : undefined;
}

function blockAsset(deviceId: string, b: SensorBlock, unnamedCount: number): string {
  if (b.id !== undefined) return `${deviceId}-${b.id}`;
  if (b.type === 'chip' || unnamedCount <= 1) return deviceId;
  return `${deviceId}-${b.key}`;
}

function sensorReadings(e: Emitter, b: SensorBlock, assetId: string, unit: 'C' | 'F'): void {
  const opts = { assetId };
  const where = { sensor: b.key, ...(b.id !== undefined ? { id: b.id } : {}) };
  const sentinel = b.type === 'probe' && typeof b.temperature === 'number' && oneWireSentinel(b.temperature);
  // null: Tasmota's way of printing a NaN, i.e. the driver's read failed (arendst/Tasmota#4147).
  if (b.temperature === null) e.sensorFault({ ...where, field: 'Temperature', error: 'no_value' }, opts);
  else if (sentinel) {
    e.sensorFault({ ...where, field: 'Temperature', error: sentinel, value: b.sent, unit }, opts);
  } else if (b.temperature !== undefined) {
    e.reading(b.type === 'chip' ? 'device_temperature_c' : 'temperature_c', b.temperature, '°C', opts);
  }
  if (b.humidity === null) e.sensorFault({ ...where, field: 'Humidity', error: 'no_value' }, opts);
  else if (b.humidity !== undefined) e.reading('humidity_pct', b.humidity, '%', opts);
}

const channelAsset = (deviceId: string, channel: number | undefined) =>
  channel === undefined ? deviceId : `${deviceId}-${channel}`;

function energyReadings(e: Emitter, deviceId: string, energy: readonly EnergyValue[]): void {
  for (const v of energy) {
    if (v.value === null) continue; // unknown: Tasmota's null for a NaN
    e.reading(v.metric, v.value, v.unit, { assetId: channelAsset(deviceId, v.channel) });
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
): Emitter {
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
  metrics: [
    'temperature_c',
    'humidity_pct',
    'device_temperature_c',
    'power_w',
    'voltage_v',
    'current_a',
    'energy_wh',
    'relay_on',
    'rssi_dbm',
  ],
  routes: [
    {
      topic: '{site}/tele/{device}/SENSOR',
      payload: 'json',
      schema: sensorSchema,
      toReadings(msg, ctx) {
        const e = emit(ctx);
        const unnamed = msg.blocks.filter((b) => b.id === undefined && b.type !== 'chip').length;
        for (const b of msg.blocks) sensorReadings(e, b, blockAsset(ctx.deviceId, b, unnamed), msg.unit);
        energyReadings(e, ctx.deviceId, msg.energy);
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
      // Last will (retained): `Online` after connecting, `Offline` published by the broker. The
      // device's own availability, and an announcement `tasmota:<topic>` in case the device is the
      // site's gateway (a ZbBridge; `sites[].gateway.presence`), which only xiaoer's config knows.
      topic: '{site}/tele/{device}/LWT',
      payload: 'text',
      schema: z
        .string()
        .transform((s) => s.toLowerCase())
        .pipe(z.enum(['online', 'offline'])),
      toReadings(state, ctx) {
        const e = emit(ctx);
        e.event('availability', state);
        e.presence(gatewayName('tasmota', ctx.deviceId), state === 'online');
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
