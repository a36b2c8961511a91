/**
 * Sparkplug metric values and names to xiaoer readings. Sparkplug names are free-form paths
 * ("Temperature", "Inputs/Leak", "Pump/Running"; 6.4.2 uses "/" as a folder separator), so the
 * last path segment is matched, case- and punctuation-insensitively, against a table of common
 * names. Anything else passes through as `sp_<path in snake_case>` so it still reaches telemetry
 * without ever colliding with a canonical metric.
 */
import type { ReadingValue } from '../../src/domain/types.ts';
import type { RawValue } from './payload.ts';

/** Sparkplug B datatype codes (6.4.16) that can become readings. */
const DT = {
  Int8: 1,
  Int16: 2,
  Int32: 3,
  Int64: 4,
  UInt8: 5,
  UInt16: 6,
  UInt32: 7,
  UInt64: 8,
  Float: 9,
  Double: 10,
  Boolean: 11,
  String: 12,
  Text: 14,
} as const;

const SIGNED = new Set<number>([DT.Int8, DT.Int16, DT.Int32, DT.Int64]);
const UNSIGNED = new Set<number>([DT.UInt8, DT.UInt16, DT.UInt32, DT.UInt64]);

function numeric(raw: RawValue, signed: boolean): number | undefined {
  switch (raw.field) {
    // 6.4.17: Int8/16/32 travel as uint32 two's complement, so `| 0` restores the sign.
    case 'int':
      return signed ? raw.value | 0 : raw.value;
    case 'long':
      return signed ? raw.signed : raw.unsigned;
    case 'float':
    case 'double':
      return raw.value;
    default:
      return undefined;
  }
}

/**
 * A metric's value typed by its datatype (from the metric, else from its BIRTH). DateTime, UUID,
 * Bytes, File, DataSet, Template, PropertySet and the 3.0 array types are not readings: undefined.
 * Without any datatype (a name-only DATA metric that no BIRTH declared) the carrying field decides.
 */
export function typedValue(raw: RawValue, datatype: number | undefined): ReadingValue | undefined {
  if (datatype === undefined || datatype === 0) {
    if (raw.field === 'boolean' || raw.field === 'string') return raw.value;
    return numeric(raw, true);
  }
  if (SIGNED.has(datatype) || UNSIGNED.has(datatype)) return numeric(raw, SIGNED.has(datatype));
  if (datatype === DT.Float) {
    const v = numeric(raw, true);
    // A float32 such as 21.3 decodes as 21.299999237060547; 7 significant digits is its precision.
    return v === undefined ? undefined : Number(v.toPrecision(7));
  }
  if (datatype === DT.Double) return numeric(raw, true);
  if (datatype === DT.Boolean) return raw.field === 'boolean' ? raw.value : undefined;
  if (datatype === DT.String || datatype === DT.Text) return raw.field === 'string' ? raw.value : undefined;
  return undefined;
}

type Convert = (value: number) => number;
type Units = Readonly<Record<string, Convert>>;

const same: Convert = (v) => v;
const times =
  (k: number): Convert =>
  (v) =>
    v * k;

// Engineering units as written by Ignition / Tahu (`engUnit` property), lower-cased, spaces removed.
// A missing unit means the canonical one; an unlisted unit means "not this metric" (pass-through).
const CELSIUS: Units = {
  '': same,
  c: same,
  '°c': same,
  degc: same,
  celsius: same,
  f: (v) => ((v - 32) * 5) / 9,
  '°f': (v) => ((v - 32) * 5) / 9,
  degf: (v) => ((v - 32) * 5) / 9,
  k: (v) => v - 273.15,
};
const PERCENT: Units = { '': same, '%': same, '%rh': same, pct: same };
const KPA: Units = {
  '': same,
  kpa: same,
  pa: times(0.001),
  hpa: times(0.1),
  mbar: times(0.1),
  bar: times(100),
  mpa: times(1000),
  psi: times(6.894757),
};
const LPM: Units = {
  '': same,
  'l/min': same,
  lpm: same,
  'l/s': times(60),
  'l/h': times(1 / 60),
  'm3/h': times(1000 / 60),
  'm³/h': times(1000 / 60),
  gpm: times(3.785411784),
};
const WATT: Units = { '': same, w: same, kw: times(1000) };
const WATT_HOUR: Units = { '': same, wh: same, kwh: times(1000), mwh: times(1e6) };
const VOLT: Units = { '': same, v: same };
const AMPERE: Units = { '': same, a: same, ma: times(0.001) };
const DBM: Units = { '': same, dbm: same };

interface Canonical {
  metric: string;
  /** Display unit of the canonical metric; numeric metrics only. */
  unit?: string;
  units?: Units;
}
const num = (metric: string, unit: string, units: Units): Canonical => ({ metric, unit, units });
const bool = (metric: string): Canonical => ({ metric });

/**
 * Last path segment (snake_case) to canonical metric. Extend here; `running`/`run` is resolved
 * in `canonicalFor` because it depends on the folder (a fan or a pump relay).
 */
export const SPARKPLUG_METRIC_NAMES: Readonly<Record<string, Canonical>> = {
  temperature: num('temperature_c', '°C', CELSIUS),
  temp: num('temperature_c', '°C', CELSIUS),
  supply_air_temperature: num('supply_air_temperature_c', '°C', CELSIUS),
  supply_temperature: num('supply_air_temperature_c', '°C', CELSIUS),
  return_air_temperature: num('return_air_temperature_c', '°C', CELSIUS),
  return_temperature: num('return_air_temperature_c', '°C', CELSIUS),
  setpoint: num('setpoint_c', '°C', CELSIUS),
  set_point: num('setpoint_c', '°C', CELSIUS),
  humidity: num('humidity_pct', '%', PERCENT),
  relative_humidity: num('humidity_pct', '%', PERCENT),
  pressure: num('pressure_kpa', 'kPa', KPA),
  flow: num('flow_lpm', 'L/min', LPM),
  flow_rate: num('flow_lpm', 'L/min', LPM),
  power: num('power_w', 'W', WATT),
  energy: num('energy_wh', 'Wh', WATT_HOUR),
  voltage: num('voltage_v', 'V', VOLT),
  current: num('current_a', 'A', AMPERE),
  battery: num('battery_pct', '%', PERCENT),
  rssi: num('rssi_dbm', 'dBm', DBM),
  leak: bool('water_leak'),
  water_leak: bool('water_leak'),
  leak_detected: bool('water_leak'),
  relay: bool('relay_on'),
  relay_on: bool('relay_on'),
  valve_open: bool('valve_open'),
  fan_running: bool('fan_running'),
  filter_alarm: bool('filter_alarm'),
};

const snake = (s: string): string =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');

function canonicalFor(path: readonly string[]): Canonical | undefined {
  const last = path[path.length - 1] ?? '';
  if (last === 'running' || last === 'run') {
    return bool(path.some((p) => p.includes('fan')) ? 'fan_running' : 'relay_on');
  }
  return SPARKPLUG_METRIC_NAMES[last];
}

export interface MappedReading {
  metric: string;
  value: ReadingValue;
  unit?: string;
}

function passThrough(
  path: readonly string[],
  value: ReadingValue,
  engUnit: string | undefined,
): MappedReading {
  const metric = `sp_${path.filter((p) => p !== '').join('_')}`.slice(0, 100);
  return engUnit ? { metric, value, unit: engUnit } : { metric, value };
}

/** A Sparkplug metric name, value and engineering unit as a canonical (or `sp_`) reading. */
export function mapMetric(name: string, value: ReadingValue, engUnit: string | undefined): MappedReading {
  const path = name.split('/').map(snake);
  const canonical = canonicalFor(path);
  if (!canonical) return passThrough(path, value, engUnit);
  if (!canonical.units) {
    // Boolean metrics: Sparkplug edges often send digital inputs as 0/1 integers.
    if (typeof value === 'boolean') return { metric: canonical.metric, value };
    if (typeof value === 'number') return { metric: canonical.metric, value: value !== 0 };
    return passThrough(path, value, engUnit);
  }
  const convert = canonical.units[(engUnit ?? '').toLowerCase().replace(/\s+/g, '')];
  if (typeof value !== 'number' || !convert) return passThrough(path, value, engUnit);
  // Unit factors leave float noise (1.2 bar -> 120.00000000000001 kPa).
  const converted = convert === same ? value : Number(convert(value).toPrecision(10));
  return canonical.unit
    ? { metric: canonical.metric, value: converted, unit: canonical.unit }
    : { metric: canonical.metric, value: converted };
}

/** Protocol metrics that are not measurements: bdSeq (6.4.19) and Node/Device Control commands (5.17). */
export function isProtocolMetric(name: string): boolean {
  const lower = name.toLowerCase();
  return lower === 'bdseq' || lower.startsWith('node control/') || lower.startsWith('device control/');
}
