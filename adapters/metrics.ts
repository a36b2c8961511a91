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
  /**
   * What a real sensor can read, for numbers: a rule's limit outside it could never be crossed
   * (a typo, or the wrong unit: 2.5 bar written where kPa are meant).
   */
  range?: readonly [min: number, max: number];
  kinds: MetricKinds;
  description: string;
}

const m = (
  type: MetricType,
  kinds: MetricKinds,
  description: string,
  unit?: string,
  range?: readonly [number, number],
): MetricSpec => ({ type, kinds, description, ...(unit ? { unit } : {}), ...(range ? { range } : {}) });

export const METRICS = {
  water_leak: m('boolean', ['plumbing'], 'water detected by a leak or flood sensor'),
  pressure_kpa: m('number', ['plumbing', 'hvac'], 'pipe or loop pressure', 'kPa', [0, 10_000]),
  flow_lpm: m('number', ['plumbing'], 'water flow', 'L/min', [0, 10_000]),
  valve_open: m('boolean', ['plumbing'], 'a motorised valve is open'),
  lock_state: m('string', ['lock'], 'what the lock reports: locked, unlocked, not_fully_locked'),
  temperature_c: m('number', ['hvac', 'plumbing'], 'room, water or pipe temperature', '°C', [-50, 150]),
  humidity_pct: m('number', ['hvac'], 'relative humidity', '%', [0, 100]),
  setpoint_c: m('number', ['hvac'], 'heating or cooling setpoint', '°C', [0, 60]),
  hvac_mode: m('string', ['hvac'], 'system mode: heat, cool, auto, off'),
  hvac_running_state: m('string', ['hvac'], 'what the unit is doing: heat, cool, idle'),
  supply_air_temperature_c: m('number', ['hvac'], 'air handling unit supply air', '°C', [-50, 100]),
  return_air_temperature_c: m('number', ['hvac'], 'air handling unit return air', '°C', [-50, 100]),
  chilled_water_supply_temperature_c: m('number', ['hvac'], 'chiller leaving water', '°C', [-20, 60]),
  fan_running: m('boolean', ['hvac'], 'a fan runs'),
  pump_running: m('boolean', ['hvac', 'plumbing'], 'a pump runs'),
  filter_alarm: m('boolean', ['hvac'], 'an air filter is dirty'),
  relay_on: m('boolean', 'any', 'a relay output is on (a pump, a valve, a light)'),
  power_w: m('number', 'any', 'active power drawn', 'W', [-1e7, 1e7]),
  energy_wh: m('number', 'any', 'energy counter', 'Wh', [0, 1e13]),
  voltage_v: m('number', 'any', 'supply or battery voltage', 'V', [0, 1000]),
  current_a: m('number', 'any', 'current drawn', 'A', [0, 1000]),
  device_temperature_c: m('number', 'any', "the device's own chip temperature", '°C', [-50, 150]),
  battery_pct: m('number', 'any', 'battery charge', '%', [0, 100]),
  battery_low: m('boolean', 'any', 'the device reports its battery low'),
  link_quality: m('number', 'any', 'Zigbee link quality', 'lqi', [0, 255]),
  rssi_dbm: m('number', 'any', 'received signal strength', 'dBm', [-150, 0]),
  snr_db: m('number', 'any', 'LoRa signal-to-noise ratio', 'dB', [-30, 30]),
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
