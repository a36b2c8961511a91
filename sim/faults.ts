/**
 * The fault model: which faults the simulated devices get, how often relative to each other, and
 * what each one looks like on the wire. Every fault is one the demo rules (demo-config.ts) turn
 * into a ticket, named by `ticket`.
 *
 * The mix follows the bureau's repair statistics (DOMAIN.md): plumbing 32 % and smart door locks
 * 23 % of property repairs, most lock failures being the network cable coming loose (the lock goes
 * offline). The split of the remaining 45 % (HVAC, lighting, other) is not published; 25/12/8 is
 * our assumption.
 */
import type { DeviceValues } from './device-state.ts';
import type { Category, ModelId } from './population.ts';
import type { Rng } from './rng.ts';

export const CATEGORY_MIX: Readonly<Record<Category, number>> = {
  plumbing: 0.32,
  lock: 0.23,
  hvac: 0.25,
  lighting: 0.12,
  other: 0.08,
};

export interface FaultType {
  id: string;
  category: Category;
  /** The `fault` of the ticket the demo rules raise for it. */
  ticket: string;
  /** Relative frequency within its category. */
  weight: number;
  models: readonly ModelId[];
  /** How long the device stays faulty when nobody repairs it, simulated minutes. */
  minutes: readonly [number, number];
  /** The values the fault pins while it lasts. */
  effect(rng: Rng): Partial<DeviceValues>;
}

const LOCKS: readonly ModelId[] = ['z2m-lock', 'native-lock'];
const ROOM_SENSORS: readonly ModelId[] = [
  'z2m-thermostat',
  'tasmota-sht3x',
  'tasmota-ds18b20',
  'native-fancoil',
];
const LEAK_SENSORS: readonly ModelId[] = ['z2m-leak', 'ws303', 'lwl03a', 'shelly-flood', 'sp-floor-leak'];
const r1 = (rng: Rng, min: number, max: number) => Math.round(rng.float(min, max) * 10) / 10;

function fault(
  id: string,
  category: Category,
  ticket: string,
  weight: number,
  models: readonly ModelId[],
  minutes: readonly [number, number],
  effect: (rng: Rng) => Partial<DeviceValues>,
): FaultType {
  return { id, category, ticket, weight, models, minutes, effect };
}

const offline = () => ({ online: false });

export const FAULT_TYPES: readonly FaultType[] = [
  // Locks: mostly the network cable at the lock (DOMAIN.md), then a bolt not thrown, then batteries.
  fault('lock-offline', 'lock', 'offline', 0.7, LOCKS, [20, 90], offline),
  fault('lock-jammed', 'lock', 'jammed', 0.2, LOCKS, [5, 30], () => ({ lockState: 'not_fully_locked' })),
  fault('lock-battery', 'lock', 'battery_low', 0.1, ['z2m-lock'], [60, 240], (rng) => ({
    battery: rng.int(3, 9),
    batteryLow: true,
  })),
  // Plumbing.
  fault('leak', 'plumbing', 'leak', 0.5, LEAK_SENSORS, [10, 60], () => ({ leak: true })),
  fault('booster-low-pressure', 'plumbing', 'pump_low_pressure', 0.12, ['sp-booster'], [5, 30], (rng) => ({
    pressureKpa: Math.round(rng.float(105, 140)),
  })),
  fault('pump-no-power', 'plumbing', 'pump_no_power', 0.15, ['shelly-pump'], [10, 60], () => ({
    powerW: 0,
  })),
  fault('pipe-low-pressure', 'plumbing', 'low_water_pressure', 0.08, ['native-pipe'], [5, 30], (rng) => ({
    pressureKpa: Math.round(rng.float(40, 90)),
  })),
  fault('pipe-high-flow', 'plumbing', 'abnormal_flow', 0.1, ['native-pipe'], [5, 20], (rng) => ({
    flowLpm: r1(rng, 95, 140),
  })),
  fault(
    'plumbing-offline',
    'plumbing',
    'offline',
    0.05,
    ['shelly-pump', 'z2m-leak', 'native-pipe'],
    [10, 60],
    offline,
  ),
  // HVAC: rooms too warm (the commonest complaint), then the AHUs and chilled-water plant on the BMS.
  fault('overheat', 'hvac', 'over_temperature', 0.3, ROOM_SENSORS, [10, 40], (rng) => ({
    temperature: r1(rng, 28.6, 31.5),
  })),
  fault('too-cold', 'hvac', 'under_temperature', 0.08, ROOM_SENSORS, [10, 40], (rng) => ({
    temperature: r1(rng, 11, 13.5),
  })),
  fault(
    'temperature-sensor',
    'hvac',
    'sensor_fault',
    0.1,
    ['z2m-thermostat', 'tasmota-ds18b20', 'native-fancoil', 'bms-ahu'],
    [5, 30],
    () => ({ sensorFault: true }),
  ),
  fault('supply-air-warm', 'hvac', 'supply_air_too_warm', 0.1, ['bms-ahu'], [10, 30], (rng) => ({
    supplyAir: r1(rng, 21, 24),
  })),
  fault('supply-air-cold', 'hvac', 'supply_air_too_cold', 0.04, ['bms-ahu'], [10, 30], (rng) => ({
    supplyAir: r1(rng, 5, 7.5),
  })),
  fault('filter', 'hvac', 'filter_dirty', 0.14, ['bms-ahu'], [30, 120], () => ({ filterAlarm: true })),
  fault('chw-pump-pressure', 'hvac', 'pump_low_pressure', 0.08, ['bms-pump'], [5, 20], (rng) => ({
    pressureKpa: Math.round(rng.float(100, 140)),
  })),
  // Not the DS18B20 probes: their controller's LWT names the controller, another asset.
  fault(
    'hvac-offline',
    'hvac',
    'offline',
    0.06,
    ['z2m-thermostat', 'tasmota-sht3x', 'native-fancoil'],
    [10, 60],
    offline,
  ),
  // Lighting circuits: relay on, lamps drawing nothing; or the controller dropping off Wi-Fi.
  fault('lamp-failure', 'lighting', 'lamp_failure', 0.7, ['tasmota-lighting'], [30, 120], () => ({
    powerW: 0,
  })),
  fault('lighting-offline', 'lighting', 'offline', 0.3, ['tasmota-lighting'], [10, 60], offline),
  // Other: the drinking-water boilers (开水器) on every floor.
  fault('boiler-failure', 'other', 'heater_failure', 0.7, ['shelly-boiler'], [20, 90], () => ({ powerW: 0 })),
  fault('boiler-offline', 'other', 'offline', 0.3, ['shelly-boiler'], [10, 60], offline),
];

/**
 * Draws the next fault: a category by the bureau's mix, then a fault of that category, both among
 * those that some available device can have (a population without BMS has no AHU faults; their
 * share goes to the other HVAC faults). Undefined when no device can take any fault.
 */
export function drawFault(rng: Rng, canHave: (f: FaultType) => boolean): FaultType | undefined {
  const possible = FAULT_TYPES.filter(canHave);
  const categories = [...new Set(possible.map((f) => f.category))];
  if (categories.length === 0) return undefined;
  const category = rng.weighted(categories.map((c) => [c, CATEGORY_MIX[c]] as const));
  return rng.weighted(possible.filter((f) => f.category === category).map((f) => [f, f.weight] as const));
}
