/**
 * What the simulated devices publish, family by family, in the formats the adapters read
 * (adapters/*.ts and the fixtures in test/fixtures/<adapter>/, which cite each project's docs).
 * Topics are under the site prefix, as the site gateways bridge them. Builders are pure apart
 * from the device counters they advance (frame counters, sequence numbers).
 */
import type { DeviceCounters, DeviceValues } from './device-state.ts';
import { lorawanUplink } from './payload-lorawan.ts';
import type { Family, SimDevice } from './population.ts';

export interface Publish {
  family: Family;
  topic: string;
  payload: string | Uint8Array;
  qos: 0 | 1;
  retain: boolean;
}

export interface Frame {
  device: SimDevice;
  v: DeviceValues;
  c: DeviceCounters;
  /** The device's (or its gateway's) wall-clock time for timestamps in the payload. */
  wallMs: number;
  /** A fault just started or cleared: devices that report edges (events, alarms) do so now. */
  edge: boolean;
}

/** Gateways bridge with QoS 1, so an alert the broker acknowledged is never lost (ARCHITECTURE.md). */
function json(family: Family, topic: string, body: unknown, retain = false): Publish {
  return { family, topic, payload: JSON.stringify(body), qos: 1, retain };
}

function text(family: Family, topic: string, body: string, retain = false): Publish {
  return { family, topic, payload: body, qos: 1, retain };
}

const r1 = (x: number) => Math.round(x * 10) / 10;
const r2 = (x: number) => Math.round(x * 100) / 100;
/** Tasmota and Zigbee2MQTT print local time; the sites are in China (UTC+8). */
const localIso = (ms: number) => new Date(ms + 8 * 3_600_000).toISOString().slice(0, 19);
const isoOffset = (ms: number) => `${localIso(ms)}+08:00`;

// ZCL "invalid value" of a signed 16-bit temperature, which Zigbee2MQTT passes through (-327.68).
const ZCL_INVALID_TEMPERATURE = -327.68;
// DS18x20 power-on reset value: what Tasmota reports when a probe browns out on a long run.
const DS18B20_POWER_ON_RESET = 85;

export function zigbee2mqttState({ device, v, c, wallMs }: Frame): Publish[] {
  const topic = `${device.site}/zigbee2mqtt/${device.address}`;
  const common = { linkquality: v.linkQuality, last_seen: isoOffset(wallMs) };
  if (device.model === 'z2m-lock') {
    const unlocked = v.lockState === 'unlocked';
    return [
      json('zigbee2mqtt', topic, {
        ...common,
        battery: v.battery,
        battery_low: v.batteryLow,
        lock_state: v.lockState,
        state: v.lockState === 'locked' ? 'LOCK' : 'UNLOCK',
        action: unlocked ? 'keypad_unlock' : null,
        action_source_name: unlocked ? 'keypad' : null,
        action_user: unlocked ? (c.reports % 40) + 1 : null,
        auto_relock_time: 30,
        sound_volume: 'low_volume',
      }),
    ];
  }
  if (device.model === 'z2m-thermostat') {
    const cooling = v.temperature > v.setpoint + 0.5;
    return [
      json('zigbee2mqtt', topic, {
        ...common,
        local_temperature: v.sensorFault ? ZCL_INVALID_TEMPERATURE : r1(v.temperature),
        occupied_cooling_setpoint: v.setpoint,
        system_mode: 'cool',
        running_state: cooling ? 'cool' : 'idle',
        fan_mode: 'auto',
      }),
    ];
  }
  // Aqara SJCGQ11LM leak sensor.
  return [
    json('zigbee2mqtt', topic, {
      ...common,
      water_leak: v.leak,
      battery: v.battery,
      battery_low: v.batteryLow,
      voltage: 2900 + v.battery * 3,
      device_temperature: Math.round(v.temperature),
      power_outage_count: 2,
      tamper: false,
    }),
  ];
}

export function zigbee2mqttAvailability(device: SimDevice, online: boolean): Publish[] {
  const topic = `${device.site}/zigbee2mqtt/${device.address}/availability`;
  return [json('zigbee2mqtt', topic, { state: online ? 'online' : 'offline' }, true)];
}

/** Wi-Fi block of tele/STATE: RSSI is a 0-100 quality, Signal the dBm (MqttShowState). */
function tasmotaState({ device, v, c, wallMs }: Frame, relay: boolean): Publish {
  const uptime = 3600 + c.reports * 300;
  return json('tasmota', `${device.site}/tele/${device.address}/STATE`, {
    Time: localIso(wallMs),
    Uptime: `${Math.floor(uptime / 86400)}T${new Date(uptime * 1000).toISOString().slice(11, 19)}`,
    UptimeSec: uptime,
    Heap: 25,
    SleepMode: 'Dynamic',
    Sleep: 50,
    LoadAvg: 19,
    MqttCount: 1,
    ...(relay ? { POWER: v.relayOn ? 'ON' : 'OFF' } : {}),
    Wifi: {
      AP: 1,
      SSId: 'bureau-iot',
      Channel: 6,
      Mode: '11n',
      RSSI: Math.max(0, Math.min(100, 2 * (v.rssi + 100 + 30))),
      Signal: v.rssi + 30,
      LinkCount: 1,
    },
  });
}

export function tasmotaTelemetry(frame: Frame): Publish[] {
  const { device, v, c, wallMs } = frame;
  const topic = `${device.site}/tele/${device.address}/SENSOR`;
  const time = localIso(wallMs);
  if (device.model === 'tasmota-lighting') {
    const current = v.powerW / (230 * 0.95);
    return [
      tasmotaState(frame, true),
      json('tasmota', topic, {
        Time: time,
        ENERGY: {
          TotalStartTime: '2024-03-01T09:12:40',
          Total: Math.round(c.energyWh) / 1000,
          Yesterday: 2.418,
          Today: 1.102,
          Power: Math.round(v.powerW),
          ApparentPower: Math.round(v.powerW / 0.95),
          ReactivePower: Math.round(v.powerW * 0.33),
          Factor: v.powerW > 0 ? 0.95 : 0,
          Voltage: 229,
          Current: Math.round(current * 1000) / 1000,
        },
      }),
    ];
  }
  const sensor =
    device.model === 'tasmota-ds18b20'
      ? {
          DS18B20: {
            Id: device.hardwareId,
            Temperature: v.sensorFault ? DS18B20_POWER_ON_RESET : r1(v.temperature),
          },
        }
      : {
          SHT3X: {
            Temperature: r1(v.temperature),
            Humidity: r1(v.humidity),
            DewPoint: r1(v.temperature - 11),
          },
        };
  return [tasmotaState(frame, false), json('tasmota', topic, { Time: time, ...sensor, TempUnit: 'C' })];
}

export function tasmotaAvailability(device: SimDevice, online: boolean): Publish[] {
  // The LWT topic, retained: `Online` from the device, `Offline` as its will (tasmota docs, MQTT).
  return [text('tasmota', `${device.site}/tele/${device.address}/LWT`, online ? 'Online' : 'Offline', true)];
}

function switchStatus(v: DeviceValues, c: DeviceCounters, wallMs: number) {
  const current = v.powerW / (229.8 * 0.92);
  const minute = Math.floor(wallMs / 60_000) * 60;
  return {
    id: 0,
    source: 'init',
    output: v.relayOn,
    apower: r1(v.powerW),
    voltage: 229.8,
    freq: 50,
    current: r2(current),
    aenergy: { total: Math.round(c.energyWh * 1000) / 1000, by_minute: [0, 0, 0], minute_ts: minute },
    temperature: { tC: 41.2, tF: 106.2 },
  };
}

export function shellyState(frame: Frame): Publish[] {
  const { device, v, c, wallMs, edge } = frame;
  const base = `${device.site}/${device.address}`;
  const ts = Math.round(wallMs / 10) / 100;
  if (device.model === 'shelly-flood') {
    const status = json('shelly', `${base}/status/flood:0`, { id: 0, alarm: v.leak, mute: false });
    const power = json('shelly', `${base}/status/devicepower:0`, {
      id: 0,
      battery: { V: r2(2.6 + v.battery / 250), percent: v.battery },
      external: { present: false },
    });
    if (!edge) return [status, power];
    // An alarm also goes out as a NotifyEvent on events/rpc (rpc_ntf), as the device does.
    const event = { component: 'flood:0', id: 0, event: v.leak ? 'alarm' : 'alarm_off', ts };
    return [
      status,
      json('shelly', `${base}/events/rpc`, {
        src: device.address,
        dst: `${device.address}/events`,
        method: 'NotifyEvent',
        params: { ts, events: [event] },
      }),
    ];
  }
  if (edge || c.reports % 5 === 0) {
    return [json('shelly', `${base}/status/switch:0`, switchStatus(v, c, wallMs))];
  }
  // In between, only what changed: a NotifyStatus with the new power and energy (gen2 Notifications).
  const full = switchStatus(v, c, wallMs);
  return [
    json('shelly', `${base}/events/rpc`, {
      src: device.address,
      dst: `${device.address}/events`,
      method: 'NotifyStatus',
      params: {
        ts,
        'switch:0': { id: 0, apower: full.apower, current: full.current, aenergy: full.aenergy },
      },
    }),
  ];
}

export function shellyAvailability(device: SimDevice, online: boolean): Publish[] {
  return [text('shelly', `${device.site}/${device.address}/online`, online ? 'true' : 'false', true)];
}

const NATIVE_KIND: Partial<Record<SimDevice['model'], string>> = {
  'native-lock': 'lock',
  'native-fancoil': 'hvac',
  'native-pipe': 'plumbing',
};

function nativeTopic(device: SimDevice, leaf: string): string {
  return `${device.site}/xiaoer/${NATIVE_KIND[device.model] ?? device.kind}/${device.address}/${leaf}`;
}

export function nativeState({ device, v, wallMs, edge }: Frame): Publish[] {
  const state = (body: Record<string, unknown>) => json('native', nativeTopic(device, 'state'), body);
  if (device.model === 'native-lock') return [state({ lock_state: v.lockState, door_open: false })];
  if (device.model === 'native-pipe') return [state({ pressure_kpa: v.pressureKpa, flow_lpm: v.flowLpm })];
  const common = { setpoint_c: v.setpoint, fan_running: true, hvac_mode: 'cool' };
  if (!v.sensorFault) return [state({ temperature_c: r1(v.temperature), ...common })];
  // A broken probe: no temperature in the state, and one fault event when it is noticed.
  const out = [state(common)];
  if (edge) {
    out.push(
      json('native', nativeTopic(device, 'event'), {
        kind: 'fault',
        code: 'sensor_fault',
        detail: { probe: 'return_air' },
        ts: wallMs,
      }),
    );
  }
  return out;
}

export function nativeAvailability(device: SimDevice, online: boolean, wallMs: number): Publish[] {
  return [
    json('native', nativeTopic(device, 'avail'), { state: online ? 'online' : 'offline', ts: wallMs }, true),
  ];
}

/** The state report of a device on MQTT (not Sparkplug or BMS devices: see their own modules). */
export function stateMessages(frame: Frame): Publish[] {
  switch (frame.device.family) {
    case 'zigbee2mqtt':
      return zigbee2mqttState(frame);
    case 'tasmota':
      return tasmotaTelemetry(frame);
    case 'shelly':
      return shellyState(frame);
    case 'native':
      return nativeState(frame);
    case 'ttn':
      return [lorawanUplink(frame)];
    default:
      return [];
  }
}

export function availabilityMessages(device: SimDevice, online: boolean, wallMs: number): Publish[] {
  switch (device.family) {
    case 'zigbee2mqtt':
      return zigbee2mqttAvailability(device, online);
    case 'tasmota':
      return tasmotaAvailability(device, online);
    case 'shelly':
      return shellyAvailability(device, online);
    case 'native':
      return nativeAvailability(device, online, wallMs);
    default:
      return [];
  }
}
