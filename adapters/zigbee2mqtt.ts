import { z } from 'zod';
import { defineAdapter, type Emitter, emit } from './define.ts';

/**
 * Zigbee2MQTT, bridged by a site gateway under its site prefix: `<site>/zigbee2mqtt/<friendly_name>`
 * carries the device state as one JSON object; `/availability` carries `{"state":"online"}` or,
 * from older Zigbee2MQTT versions (legacy_availability_payload), the bare string `online`.
 * The bridge itself is no device: `<site>/zigbee2mqtt/bridge/state` (retained, and the bridge's
 * last will) announces the site's Zigbee2MQTT up or down (`presence`, gateway `zigbee2mqtt`); the
 * other `bridge/...` topics (info, devices, logging, event, response...) are not routed.
 */

/** How the site's Zigbee2MQTT bridge is named in its announcements (`sites[].gateway.presence`). */
export const ZIGBEE2MQTT_BRIDGE = 'zigbee2mqtt';

// ZCL "invalid value" for a signed 16-bit temperature (0x8000 / 100): the sensor has no reading.
// There is no word for it on the wire, so the detail says `error: 'invalid_value'`, the ZCL's name.
const ZCL_INVALID_TEMPERATURE = -327.68;

// Zigbee2MQTT before 1.x published some numbers as strings ("battery":"80.00", Koenkk/zigbee2mqtt#663).
// A string of 400 digits is a valid match but no double: it must fail here, not become Infinity.
const numericString = z
  .string()
  .regex(/^-?\d+(\.\d+)?$/, 'expected a number')
  .transform(Number)
  .refine(Number.isFinite, 'expected a number within the range of a double');
// Zigbee2MQTT publishes `null` for a value it does not know yet (after a restart, before the
// first report): unknown, so no reading. zod 4's number() refuses NaN and ±Infinity (JSON's 1e400).
const num = z.union([z.number(), numericString]).nullish();
const bool = z.boolean().nullish();
const str = z.string().nullish();

export const z2mStateSchema = z.looseObject({
  water_leak: bool,
  battery: num,
  battery_low: bool,
  linkquality: num,
  // Locks: `state` is the command-side LOCK/UNLOCK; `lock_state` what the lock reports.
  state: str,
  lock_state: str,
  tamper: bool,
  // Locks and remotes: what just happened (manual_lock, keypad_unlock...), with who/how.
  action: str,
  action_source_name: str,
  action_user: num,
  temperature: num,
  humidity: num,
  local_temperature: num,
  occupied_heating_setpoint: num,
  current_heating_setpoint: num,
  system_mode: str,
  running_state: str,
});

const availabilitySchema = z.union([
  z.enum(['online', 'offline']),
  z.looseObject({ state: z.enum(['online', 'offline']) }).transform((p) => p.state),
]);

function temperature(e: Emitter, metric: string, value: number | null | undefined, source: string): void {
  if (value === undefined || value === null) return;
  if (value === ZCL_INVALID_TEMPERATURE) e.sensorFault({ field: source, error: 'invalid_value', value });
  else e.reading(metric, value, '°C');
}

export const zigbee2mqtt = defineAdapter({
  id: 'zigbee2mqtt',
  description: 'Zigbee2MQTT devices bridged under the site prefix',
  metrics: [
    'water_leak',
    'lock_state',
    'temperature_c',
    'setpoint_c',
    'humidity_pct',
    'hvac_mode',
    'hvac_running_state',
    'battery_pct',
    'battery_low',
    'link_quality',
  ],
  routes: [
    {
      topic: '{site}/zigbee2mqtt/{device}',
      payload: 'json',
      schema: z2mStateSchema,
      ignoreDevices: ['bridge'],
      toReadings(p, ctx) {
        const e = emit(ctx);
        if (p.water_leak != null) e.reading('water_leak', p.water_leak);
        if (p.lock_state != null) e.reading('lock_state', p.lock_state);
        else if (p.state === 'LOCK' || p.state === 'UNLOCK') {
          e.reading('lock_state', p.state === 'LOCK' ? 'locked' : 'unlocked');
        }
        if (p.tamper === true) e.event('fault', 'tamper');
        if (p.action) {
          e.event('action', p.action, {
            ...(p.action_source_name ? { source: p.action_source_name } : {}),
            ...(p.action_user != null ? { user: p.action_user } : {}),
          });
        }
        const temperatureField = p.local_temperature != null ? 'local_temperature' : 'temperature';
        temperature(e, 'temperature_c', p[temperatureField], temperatureField);
        const setpoint = p.occupied_heating_setpoint ?? p.current_heating_setpoint;
        if (setpoint != null) e.reading('setpoint_c', setpoint, '°C');
        if (p.humidity != null) e.reading('humidity_pct', p.humidity, '%');
        if (p.system_mode != null) e.reading('hvac_mode', p.system_mode);
        if (p.running_state != null) e.reading('hvac_running_state', p.running_state);
        if (p.battery != null) e.reading('battery_pct', p.battery, '%');
        if (p.battery_low != null) e.reading('battery_low', p.battery_low);
        if (p.linkquality != null) e.reading('link_quality', p.linkquality, 'lqi');
        return e.out;
      },
    },
    {
      // With the legacy action sensor option, Zigbee2MQTT also publishes the bare action string
      // on its own sub-topic (e.g. `single`, `manual_unlock`).
      topic: '{site}/zigbee2mqtt/{device}/action',
      payload: 'text',
      schema: z.string().min(1).max(100),
      toReadings(action, ctx) {
        const e = emit(ctx);
        e.event('action', action);
        return e.out;
      },
    },
    {
      // Retained, QoS 1, and the bridge's MQTT will: `{"state":"online"}`, or before Zigbee2MQTT
      // 2.0 with legacy_availability_payload the bare `online` (lib/extension/bridge.ts).
      topic: '{site}/zigbee2mqtt/bridge/state',
      payload: 'json-or-text',
      schema: availabilitySchema,
      deviceId: () => 'bridge',
      toReadings(state, ctx) {
        const e = emit(ctx);
        e.presence(ZIGBEE2MQTT_BRIDGE, state === 'online');
        return e.out;
      },
    },
    {
      topic: '{site}/zigbee2mqtt/{device}/availability',
      payload: 'json-or-text',
      schema: availabilitySchema,
      toReadings(state, ctx) {
        const e = emit(ctx);
        e.event('availability', state);
        return e.out;
      },
    },
  ],
});
