/**
 * The metric vocabulary: every canonical metric a device family or the BMS can report, with its
 * value type, unit and the asset kinds it says something about (as herdsman-converters' `exposes`
 * do for Zigbee devices). Each adapter declares which of these it emits; the config's rules and
 * OPC UA mappings are checked against them at load, kind inference and the simulator read them.
 * A metric a rule names that nothing emits would silently never fire: it is a config error.
 */

export type MetricType = 'number' | 'boolean' | 'string';

/** `any`: the metric says something about every kind (a battery, a radio link, a relay). */
export type MetricKinds = readonly string[] | 'any';

export interface MetricSpec {
  type: MetricType;
  unit?: string;
  kinds: MetricKinds;
  description: string;
}

const m = (type: MetricType, kinds: MetricKinds, description: string, unit?: string): MetricSpec =>
  unit ? { type, unit, kinds, description } : { type, kinds, description };

export const METRICS = {
  water_leak: m('boolean', ['plumbing'], 'water detected by a leak or flood sensor'),
  pressure_kpa: m('number', ['plumbing', 'hvac'], 'pipe or loop pressure', 'kPa'),
  flow_lpm: m('number', ['plumbing'], 'water flow', 'L/min'),
  valve_open: m('boolean', ['plumbing'], 'a motorised valve is open'),
  lock_state: m('string', ['lock'], 'what the lock reports: locked, unlocked, not_fully_locked'),
  temperature_c: m('number', ['hvac', 'plumbing'], 'room, water or pipe temperature', '°C'),
  humidity_pct: m('number', ['hvac'], 'relative humidity', '%'),
  setpoint_c: m('number', ['hvac'], 'heating or cooling setpoint', '°C'),
  hvac_mode: m('string', ['hvac'], 'system mode: heat, cool, auto, off'),
  hvac_running_state: m('string', ['hvac'], 'what the unit is doing: heat, cool, idle'),
  supply_air_temperature_c: m('number', ['hvac'], 'air handling unit supply air', '°C'),
  return_air_temperature_c: m('number', ['hvac'], 'air handling unit return air', '°C'),
  chilled_water_supply_temperature_c: m('number', ['hvac'], 'chiller leaving water', '°C'),
  fan_running: m('boolean', ['hvac'], 'a fan runs'),
  pump_running: m('boolean', ['hvac', 'plumbing'], 'a pump runs'),
  filter_alarm: m('boolean', ['hvac'], 'an air filter is dirty'),
  relay_on: m('boolean', 'any', 'a relay output is on (a pump, a valve, a light)'),
  power_w: m('number', 'any', 'active power drawn', 'W'),
  energy_wh: m('number', 'any', 'energy counter', 'Wh'),
  voltage_v: m('number', 'any', 'supply or battery voltage', 'V'),
  current_a: m('number', 'any', 'current drawn', 'A'),
  device_temperature_c: m('number', 'any', "the device's own chip temperature", '°C'),
  battery_pct: m('number', 'any', 'battery charge', '%'),
  battery_low: m('boolean', 'any', 'the device reports its battery low'),
  link_quality: m('number', 'any', 'Zigbee link quality', 'lqi'),
  rssi_dbm: m('number', 'any', 'received signal strength', 'dBm'),
  snr_db: m('number', 'any', 'LoRa signal-to-noise ratio', 'dB'),
} as const satisfies Record<string, MetricSpec>;

export type MetricName = keyof typeof METRICS;

export function isMetric(name: string): name is MetricName {
  return Object.hasOwn(METRICS, name);
}

/** Whether `metric` can say something about an asset of `kind`. */
export function metricAppliesTo(metric: MetricName, kind: string): boolean {
  const kinds: MetricKinds = METRICS[metric].kinds;
  return kinds === 'any' || kinds.includes(kind);
}

/** The one kind a metric implies, if only one kind reports it (for guessing an unknown device's kind). */
export function kindOfMetric(metric: string): string | undefined {
  if (!isMetric(metric)) return undefined;
  const kinds: MetricKinds = METRICS[metric].kinds;
  return kinds !== 'any' && kinds.length === 1 ? kinds[0] : undefined;
}
