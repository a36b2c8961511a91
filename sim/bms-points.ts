/**
 * How the simulated devices of the BMS (air handling units, chiller, chilled-water pump) map onto
 * the variables of the simulated OPC UA server (sim/bms-server.ts, `BMS_POINTS`). Pure, so the
 * generator does not load node-opcua; test/unit/sim checks the names against `BMS_POINTS`.
 */
import type { DeviceValues } from './device-state.ts';
import type { SimDevice } from './population.ts';

export type BmsWrite = { point: string; value: number | boolean } | { point: string; bad: string };

const r1 = (x: number) => Math.round(x * 10) / 10;

/** The point writes that bring the server's variables to the device's current values. */
export function bmsWrites(device: SimDevice, v: DeviceValues): BmsWrite[] {
  const ahu = /^ahu-(\d+)$/.exec(device.id);
  if (ahu) {
    const p = `AHU${ahu[1]}`;
    return [
      // A failed supply-air probe: the BMS marks the value BadSensorFailure (an OPC UA status code).
      v.sensorFault
        ? { point: `${p}.SupplyAirTemperature`, bad: 'BadSensorFailure' }
        : { point: `${p}.SupplyAirTemperature`, value: r1(v.supplyAir) },
      { point: `${p}.ReturnAirTemperature`, value: r1(v.returnAir) },
      { point: `${p}.FanRunning`, value: true },
      { point: `${p}.FilterAlarm`, value: v.filterAlarm },
    ];
  }
  if (device.id === 'chiller-1') {
    return [{ point: 'Chiller1.ChilledWaterSupplyTemperature', value: r1(v.temperature) }];
  }
  if (device.id === 'pump-1') {
    return [
      { point: 'Pump1.Running', value: v.pumpRunning },
      { point: 'Pump1.Pressure', value: Math.round(v.pressureKpa) },
    ];
  }
  return [];
}

/**
 * Every point `bmsWrites` drives, with the asset and metric the simulated server maps it to
 * (`BMS_POINTS` in sim/bms-server.ts; a unit test keeps the two equal).
 */
export const BMS_POINT_METRICS: Readonly<Record<string, { assetId: string; metric: string }>> = {
  'AHU1.SupplyAirTemperature': { assetId: 'ahu-1', metric: 'supply_air_temperature_c' },
  'AHU1.ReturnAirTemperature': { assetId: 'ahu-1', metric: 'return_air_temperature_c' },
  'AHU1.FanRunning': { assetId: 'ahu-1', metric: 'fan_running' },
  'AHU1.FilterAlarm': { assetId: 'ahu-1', metric: 'filter_alarm' },
  'AHU2.SupplyAirTemperature': { assetId: 'ahu-2', metric: 'supply_air_temperature_c' },
  'AHU2.ReturnAirTemperature': { assetId: 'ahu-2', metric: 'return_air_temperature_c' },
  'AHU2.FanRunning': { assetId: 'ahu-2', metric: 'fan_running' },
  'AHU2.FilterAlarm': { assetId: 'ahu-2', metric: 'filter_alarm' },
  'Chiller1.ChilledWaterSupplyTemperature': {
    assetId: 'chiller-1',
    metric: 'chilled_water_supply_temperature_c',
  },
  'Pump1.Running': { assetId: 'pump-1', metric: 'pump_running' },
  'Pump1.Pressure': { assetId: 'pump-1', metric: 'pressure_kpa' },
};
