/**
 * What a simulated device measures. `values` drift the way real readings do between reports; a
 * fault pins some of them in `override` (a leak, a room at 30 °C, a lock that is offline) until it
 * clears, so normal drift never hides or ends a fault by accident.
 */
import type { ModelId, SimDevice } from './population.ts';
import type { Rng } from './rng.ts';

export type LockState = 'locked' | 'unlocked' | 'not_fully_locked';

export interface DeviceValues {
  online: boolean;
  lockState: LockState;
  battery: number;
  batteryLow: boolean;
  linkQuality: number;
  rssi: number;
  /** Room temperature (°C), or the chilled-water supply temperature of a chiller. */
  temperature: number;
  setpoint: number;
  humidity: number;
  /** The temperature sensor cannot read (ZCL -327.68, DS18B20 85.0, OPC UA BadSensorFailure). */
  sensorFault: boolean;
  leak: boolean;
  pressureKpa: number;
  flowLpm: number;
  relayOn: boolean;
  powerW: number;
  supplyAir: number;
  returnAir: number;
  filterAlarm: boolean;
  pumpRunning: boolean;
}

/** Monotonic device counters that payloads carry (frame counters, energy totals, uptime). */
export interface DeviceCounters {
  frames: number;
  energyWh: number;
  leakEvents: number;
  reports: number;
}

export interface DeviceState {
  values: DeviceValues;
  override: Partial<DeviceValues>;
  counters: DeviceCounters;
  /** Id of the active fault, if any (one at a time per device). */
  faultId?: string;
  /** Typical values the drift returns to. */
  base: { temperature: number; pressureKpa: number; flowLpm: number; powerW: number };
}

/** The values payloads report: the drifting ones, with whatever an active fault pins. */
export function effective(state: DeviceState): DeviceValues {
  return { ...state.values, ...state.override };
}

const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

function basePower(model: ModelId, rng: Rng): number {
  switch (model) {
    case 'shelly-pump':
      return round(rng.float(450, 800));
    case 'sp-booster':
      return round(rng.float(1500, 2200), 0);
    case 'tasmota-lighting':
      return round(rng.float(120, 420), 0);
    case 'shelly-boiler':
      return 2950;
    default:
      return 0;
  }
}

export function initialState(device: SimDevice, rng: Rng): DeviceState {
  const temperature = device.model === 'bms-chiller' ? 7 : round(rng.float(22.5, 25.5));
  const base = {
    temperature,
    pressureKpa:
      device.model === 'sp-booster' ? round(rng.float(380, 450), 0) : round(rng.float(260, 380), 0),
    flowLpm: device.model === 'sp-booster' ? round(rng.float(25, 60)) : round(rng.float(4, 30)),
    powerW: basePower(device.model, rng),
  };
  const values: DeviceValues = {
    online: true,
    lockState: 'locked',
    battery: rng.int(55, 100),
    batteryLow: false,
    linkQuality: rng.int(60, 200),
    rssi: rng.int(-105, -70),
    temperature,
    setpoint: device.model === 'z2m-thermostat' || device.model === 'native-fancoil' ? 24 : 16,
    humidity: round(rng.float(40, 60)),
    sensorFault: false,
    leak: false,
    pressureKpa: base.pressureKpa,
    flowLpm: base.flowLpm,
    relayOn: true,
    powerW: base.powerW,
    supplyAir: round(rng.float(15.5, 17.5)),
    returnAir: round(rng.float(23, 25)),
    filterAlarm: false,
    pumpRunning: true,
  };
  return {
    values,
    override: {},
    counters: { frames: 0, energyWh: rng.int(1000, 90_000), leakEvents: 0, reports: 0 },
    base,
  };
}

/** Moves a value a little towards its typical level, with some noise. */
const revert = (rng: Rng, x: number, target: number, noise: number, digits = 1) =>
  round(x + 0.2 * (target - x) + rng.float(-noise, noise), digits);

/** One report's worth of normal change; `elapsedMs` feeds energy counters. */
export function drift(device: SimDevice, state: DeviceState, rng: Rng, elapsedMs: number): void {
  const v = state.values;
  const b = state.base;
  v.temperature = revert(rng, v.temperature, b.temperature, device.model === 'bms-chiller' ? 0.1 : 0.2);
  v.humidity = revert(rng, v.humidity, 50, 0.8);
  v.pressureKpa = revert(rng, v.pressureKpa, b.pressureKpa, 6, 0);
  v.flowLpm = Math.max(0, revert(rng, v.flowLpm, b.flowLpm, 1.5));
  v.supplyAir = revert(rng, v.supplyAir, 16.5, 0.2);
  v.returnAir = revert(rng, v.returnAir, 24, 0.2);
  v.linkQuality = Math.max(5, Math.min(255, v.linkQuality + rng.int(-6, 6)));
  v.rssi = Math.max(-120, Math.min(-60, v.rssi + rng.int(-2, 2)));
  if (device.model === 'shelly-boiler') {
    // The boiler's own thermostat switches its element: ~3 kW while heating, standby otherwise.
    v.powerW = rng.chance(0.4) ? round(rng.float(2850, 3000)) : round(rng.float(8, 15));
  } else {
    v.powerW = b.powerW === 0 ? 0 : round(b.powerW * rng.float(0.95, 1.05));
  }
  if (device.model === 'z2m-lock' || device.model === 'native-lock') {
    // Locks report when used: mostly locked again by the time of the report.
    v.lockState = rng.chance(0.15) ? 'unlocked' : 'locked';
  }
  const power = effective(state).powerW;
  state.counters.energyWh = round(state.counters.energyWh + (power * elapsedMs) / 3_600_000, 3);
  state.counters.reports++;
}
