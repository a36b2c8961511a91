import { z } from 'zod';
import {
  type AdapterContext,
  defineAdapter,
  type Emitter,
  emit,
  type Normalised,
  type RouteDefinition,
} from './define.ts';

/**
 * Shelly Gen2+ devices (Plus, Pro, Gen3, Gen4) bridged under the site prefix. The MQTT topic prefix
 * defaults to the device id (`shellyplus1pm-441793d69718`); the device publishes
 * (shelly-api-docs.shelly.cloud/gen2/ComponentsAndServices/Mqtt):
 * - `<prefix>/status/<component:id>`: the whole status of one component (`status_ntf`);
 * - `<prefix>/events/rpc`: JSON-RPC notifications NotifyStatus / NotifyFullStatus / NotifyEvent (`rpc_ntf`);
 * - `<prefix>/online`: `true`, and `false` as its last will.
 * Every route requires the prefix to start with `shelly`, so the generic `{site}/{device}/...` shape
 * never takes another ecosystem's topics (`xincheng/zigbee2mqtt/status/...`). A custom prefix must
 * keep that start. Instance 0 of a component is the device itself; instance n > 0 is the asset
 * `<device>-<type>-<n>` (a Pro 4PM's `switch:2`, an add-on probe's `temperature:100`).
 */

const DEVICE = /^shelly/;
const num = z.number(); // zod 4 refuses NaN and ±Infinity (JSON's 1e400)
// "When such keys disappear from the status payload, the NotifyStatus payload which notifies about
// the change will include the key with a null value" (gen2/General/Notifications): so any status key
// may be null, notably `errors: null` when the last error clears. Null is "unknown": no reading.
const errors = z.array(z.string()).nullish();

// Component status objects (Switch, PM1, Flood, Temperature, Humidity, DevicePower, WiFi pages of the
// Gen2 API docs). Every field is optional because NotifyStatus carries only what changed.
const meteredStatus = z.looseObject({
  output: z.boolean().nullish(),
  apower: num.nullish(),
  voltage: num.nullish(),
  current: num.nullish(),
  aenergy: z.looseObject({ total: num.nullish() }).nullish(), // Wh
  // The relay's own temperature; tC is null out of the measurement range.
  temperature: z.looseObject({ tC: num.nullish() }).nullish(),
  errors, // overtemp, overpower, overvoltage, undervoltage, ...
});
// `alarm` is null while the probe cable is unplugged (a Flood Gen4 in the field: `alarm: null`,
// `errors: ["cable_unplugged"]`), as the Flood config's alarm_mode is documented to be.
const floodStatus = z.looseObject({ alarm: z.boolean().nullish(), errors });
// `tC` / `rh` are null when "a valid value could not be obtained"; errors then say why (read, out_of_range).
const temperatureStatus = z.looseObject({ tC: num.nullish(), errors });
const humidityStatus = z.looseObject({ rh: num.nullish(), errors });
const devicePowerStatus = z.looseObject({
  battery: z.looseObject({ percent: num.nullish() }).nullish(),
  errors,
});
const wifiStatus = z.looseObject({ rssi: num.nullish() });

/**
 * Route state (shared by every route of one device): the flood components whose last status
 * listed errors. A NotifyStatus carries only what changed, so a later `alarm: false` may come
 * without the unchanged `errors`; the sensor is still blind then, and must not clear a leak.
 * Lost on restart, like all route state: then only the frame itself can tell.
 */
interface ShellyState {
  readonly tag: 'shelly';
  readonly blindFloods: ReadonlySet<string>;
}

function restoreState(state: unknown): ShellyState {
  const s = state as Partial<ShellyState> | undefined;
  return s?.tag === 'shelly' && s.blindFloods
    ? (s as ShellyState)
    : { tag: 'shelly', blindFloods: new Set() };
}

interface Sink {
  e: Emitter;
  assetId: string;
  component: string;
  /** Flood components known to be blind; updated as statuses say so. */
  blindFloods: Set<string>;
  /** The whole status (status topic, NotifyFullStatus): an absent key means absent, not unchanged. */
  complete: boolean;
}

// Error words that mean the component could not measure: the canonical sensor_fault (with the word
// in the detail). Others (a switch's overpower, overtemp, overvoltage) are faults of their own.
const MEASUREMENT_ERRORS = /^(read|out_of_range|cable_unplugged)(:|$)/;

/** `sensorOnly`: a component that only measures (flood, temperature, humidity): any error blinds it. */
function faults(s: Sink, errs: readonly string[] | null | undefined, sensorOnly = false): void {
  const opts = { assetId: s.assetId };
  for (const error of errs ?? []) {
    const detail = { component: s.component, error };
    if (sensorOnly || MEASUREMENT_ERRORS.test(error)) s.e.sensorFault(detail, opts);
    else s.e.event('fault', error, detail, opts);
  }
}

function measured(s: Sink, metric: string, v: number | null | undefined, unit: string): void {
  const opts = { assetId: s.assetId };
  if (v === null) s.e.sensorFault({ component: s.component, error: 'no_value', value: null }, opts);
  else if (v !== undefined) s.e.reading(metric, v, unit, opts);
}

/** A component type: its status schema and what its (possibly partial) status becomes. */
function component<S extends z.ZodType>(schema: S, apply: (status: z.output<S>, s: Sink) => void) {
  return { schema, apply: (status: unknown, s: Sink) => apply(status as z.output<S>, s) };
}

function flood(st: z.output<typeof floodStatus>, s: Sink): void {
  s.e.out.kinds = { ...s.e.out.kinds, [s.assetId]: 'plumbing' };
  // `errors` absent from a partial status means "unchanged"; null or [] means they cleared.
  if (st.errors?.length) s.blindFloods.add(s.component);
  else if (st.errors !== undefined || s.complete) s.blindFloods.delete(s.component);
  // A blind sensor cannot see water: its `alarm: false` must not clear a leak. A leak it does see
  // is still a leak.
  const blind = s.blindFloods.has(s.component);
  if (st.alarm === true || (st.alarm === false && !blind)) {
    s.e.reading('water_leak', st.alarm, undefined, { assetId: s.assetId });
  }
  faults(s, st.errors, true);
}

const COMPONENTS = {
  // Pumps and valves hang on a switch: relay_on with power_w lets a rule flag "on but drawing nothing".
  switch: component(meteredStatus, metered),
  pm1: component(meteredStatus, metered),
  flood: component(floodStatus, flood),
  temperature: component(temperatureStatus, (st, s) => {
    if (st.errors?.length) faults(s, st.errors, true);
    else measured(s, 'temperature_c', st.tC, '°C');
  }),
  humidity: component(humidityStatus, (st, s) => {
    if (st.errors?.length) faults(s, st.errors, true);
    else measured(s, 'humidity_pct', st.rh, '%');
  }),
  devicepower: component(devicePowerStatus, (st, s) => {
    const percent = st.battery?.percent;
    if (percent != null) s.e.reading('battery_pct', percent, '%', { assetId: s.assetId });
    faults(s, st.errors);
  }),
  wifi: component(wifiStatus, (st, s) => {
    if (st.rssi != null) s.e.reading('rssi_dbm', st.rssi, 'dBm', { assetId: s.assetId });
  }),
};
type ComponentType = keyof typeof COMPONENTS;

function metered(st: z.output<typeof meteredStatus>, s: Sink): void {
  const opts = { assetId: s.assetId };
  if (st.output != null) s.e.reading('relay_on', st.output, undefined, opts);
  if (st.apower != null) s.e.reading('power_w', st.apower, 'W', opts);
  if (st.voltage != null) s.e.reading('voltage_v', st.voltage, 'V', opts);
  if (st.current != null) s.e.reading('current_a', st.current, 'A', opts);
  if (st.aenergy?.total != null) s.e.reading('energy_wh', st.aenergy.total, 'Wh', opts);
  const tC = st.temperature?.tC;
  if (tC != null) s.e.reading('device_temperature_c', tC, '°C', opts);
  faults(s, st.errors);
}

const COMPONENT_KEY = /^([a-z0-9_]+)(?::(\d+))?$/;

/** The mapped component type of a status key such as `switch:0` or `wifi`. */
function componentType(key: string): ComponentType | undefined {
  const type = COMPONENT_KEY.exec(key)?.[1];
  return type && Object.hasOwn(COMPONENTS, type) ? (type as ComponentType) : undefined;
}

export function componentAsset(deviceId: string, key: string): string {
  const m = COMPONENT_KEY.exec(key);
  const index = Number(m?.[2] ?? 0);
  return !m || index === 0 ? deviceId : `${deviceId}-${m[1]}-${index}`;
}

interface ComponentStatus {
  key: string;
  type: ComponentType;
  status: unknown;
  complete: boolean;
}

type Issues = z.core.$ZodRawIssue[];

/** The component entries of NotifyStatus / NotifyFullStatus params, each checked by its own schema. */
function componentStatuses(
  params: Record<string, unknown>,
  complete: boolean,
  issues: Issues,
  path: PropertyKey[],
) {
  const found: ComponentStatus[] = [];
  for (const [key, status] of Object.entries(params)) {
    const type = componentType(key);
    if (!type) continue; // ts, sys, cloud, input:0, ble, ...: nothing to maintain
    const result = COMPONENTS[type].schema.safeParse(status);
    if (result.success) found.push({ key, type, status: result.data, complete });
    else {
      for (const i of result.error.issues) {
        issues.push({ ...i, path: [...path, key, ...i.path], input: status } as Issues[number]);
      }
    }
  }
  return found;
}

const eventSchema = z.looseObject({ component: z.string(), event: z.string() });

/** JSON-RPC notification frames (gen2/General/Notifications); other methods are ignored. */
export const rpcSchema = z
  .looseObject({ src: z.string().optional(), method: z.string(), params: z.unknown() })
  .transform((frame, ctx) => {
    const statuses: ComponentStatus[] = [];
    let events: z.output<typeof eventSchema>[] = [];
    const invalid = (message: string) =>
      ctx.issues.push({ code: 'custom', message, path: ['params'], input: frame });
    if (frame.method === 'NotifyStatus' || frame.method === 'NotifyFullStatus') {
      const params = z.record(z.string(), z.unknown()).safeParse(frame.params);
      if (params.success)
        statuses.push(
          ...componentStatuses(params.data, frame.method === 'NotifyFullStatus', ctx.issues, ['params']),
        );
      else invalid('expected an object of component statuses');
    } else if (frame.method === 'NotifyEvent') {
      const params = z.looseObject({ events: z.array(eventSchema) }).safeParse(frame.params);
      if (params.success) events = params.data.events;
      else invalid('expected {events: [...]}');
    }
    return { method: frame.method, statuses, events };
  });

function applyStatus(ctx: AdapterContext, c: ComponentStatus, e: Emitter, blindFloods: Set<string>): void {
  const assetId = componentAsset(ctx.deviceId, c.key);
  const sink: Sink = { e, assetId, component: c.key, blindFloods, complete: c.complete };
  COMPONENTS[c.type].apply(c.status, sink);
}

/** NotifyEvent: flood alarms and probe faults, and input button presses as actions. */
function applyEvent(
  ctx: AdapterContext,
  ev: z.output<typeof eventSchema>,
  e: Emitter,
  blindFloods: Set<string>,
): void {
  const assetId = componentAsset(ctx.deviceId, ev.component);
  if (ev.component.startsWith('flood')) {
    e.out.kinds = { ...e.out.kinds, [assetId]: 'plumbing' };
    if (ev.event === 'alarm' || (ev.event === 'alarm_off' && !blindFloods.has(ev.component))) {
      e.reading('water_leak', ev.event === 'alarm', undefined, { assetId });
    } else if (ev.event === 'cable_unplugged') {
      blindFloods.add(ev.component);
      e.sensorFault({ component: ev.component, event: ev.event, error: ev.event }, { assetId });
    }
  } else if (ev.component.startsWith('input')) {
    e.event('action', ev.event, { component: ev.component, event: ev.event }, { assetId });
  }
}

/** Runs `apply` with the device's blind flood components; returns the new state only if it changed. */
function remembering(ctx: AdapterContext, apply: (e: Emitter, blindFloods: Set<string>) => void): Normalised {
  const before = restoreState(ctx.state).blindFloods;
  const blindFloods = new Set(before);
  const e = emit(ctx);
  apply(e, blindFloods);
  const changed = blindFloods.size !== before.size || [...blindFloods].some((c) => !before.has(c));
  const state: ShellyState = { tag: 'shelly', blindFloods };
  return changed ? { ...e.out, state } : e.out;
}

function statusRoute(type: ComponentType, key: RegExp): RouteDefinition<z.ZodType> {
  return {
    topic: '{site}/{device}/status/{component}',
    where: { device: DEVICE, component: key },
    payload: 'json',
    schema: COMPONENTS[type].schema,
    toReadings(status, ctx) {
      // status_ntf publishes the component's whole status.
      const c = { key: ctx.params.component ?? type, type, status, complete: true };
      return remembering(ctx, (e, blind) => applyStatus(ctx, c, e, blind));
    },
  };
}

export const shelly = defineAdapter({
  id: 'shelly',
  description:
    'Shelly Gen2+ devices bridged under the site prefix (<site>/<shelly device id>/...); component instance ' +
    'n > 0 is the asset <device>-<type>-<n>',
  metrics: [
    'relay_on',
    'power_w',
    'voltage_v',
    'current_a',
    'energy_wh',
    'device_temperature_c',
    'water_leak',
    'temperature_c',
    'humidity_pct',
    'battery_pct',
    'rssi_dbm',
  ],
  routes: [
    statusRoute('switch', /^switch:\d+$/),
    statusRoute('pm1', /^pm1:\d+$/),
    statusRoute('flood', /^flood:\d+$/),
    statusRoute('temperature', /^temperature:\d+$/),
    statusRoute('humidity', /^humidity:\d+$/),
    statusRoute('devicepower', /^devicepower:\d+$/),
    statusRoute('wifi', /^wifi$/),
    {
      topic: '{site}/{device}/events/rpc',
      where: { device: DEVICE },
      payload: 'json',
      schema: rpcSchema,
      toReadings(frame, ctx) {
        // NotifyStatus carries only the fields that changed ("overlay the changes over a known
        // status", gen2/General/Notifications). No merge with the last full status is needed for
        // readings: each reading is judged on its own and an alarm stays raised until a reading
        // clears it, so an absent field simply means "unchanged". The one exception, a blind flood
        // sensor's errors, is remembered (ShellyState). A rule combining two metrics (relay on but
        // near-zero power) must keep the last value per metric itself.
        return remembering(ctx, (e, blind) => {
          for (const c of frame.statuses) applyStatus(ctx, c, e, blind);
          for (const ev of frame.events) applyEvent(ctx, ev, e, blind);
        });
      },
    },
    {
      topic: '{site}/{device}/online',
      where: { device: DEVICE },
      payload: 'text',
      schema: z.enum(['true', 'false']),
      toReadings(online, ctx) {
        const e = emit(ctx);
        e.event('availability', online === 'true' ? 'online' : 'offline');
        return e.out;
      },
    },
  ],
});
