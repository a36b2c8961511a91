import type { z } from 'zod';
import type {
  DeviceEvent,
  DeviceEventKind,
  Instant,
  Normalised,
  Reading,
  ReadingValue,
} from '../src/domain/types.ts';
import type { MetricName } from './metrics.ts';
import { compileTopic, type TopicPattern } from './topic.ts';

/** How the payload bytes are turned into the value the schema checks (`binary`: the bytes as they are). */
export type PayloadEncoding = 'json' | 'text' | 'json-or-text' | 'binary';

export type { Normalised } from '../src/domain/types.ts';

/** What an adapter's pure function knows besides the payload. */
export interface AdapterContext {
  site: string;
  /** The asset the topic names; readings may still name other assets (e.g. one per probe). */
  deviceId: string;
  /** Every capture of the topic pattern. */
  params: Readonly<Record<string, string>>;
  topic: string;
  receivedAt: Instant;
  /**
   * What this route returned as `state` for the same site and `stateKey` before (Sparkplug alias
   * maps and sequence numbers). Held in memory by the ingest; lost on restart.
   */
  state?: unknown;
}

export interface RouteDefinition<S extends z.ZodType> {
  /** e.g. `{site}/zigbee2mqtt/{device}`; `{site}` is required, and `{device}` unless `deviceId` is given. */
  topic: string;
  payload: PayloadEncoding;
  schema: S;
  /** Device names on this topic that are not devices (e.g. Zigbee2MQTT's `bridge`). */
  ignoreDevices?: readonly string[];
  /** Patterns captures must match for the route to apply (e.g. `{ device: /^shelly/ }`). */
  where?: Readonly<Record<string, RegExp>>;
  /** The asset id from the captures, when it is not simply `{device}`. */
  deviceId?(params: Readonly<Record<string, string>>): string;
  /** Which messages share adapter state (default: the device id). */
  stateKey?(params: Readonly<Record<string, string>>): string;
  /** Pure: no I/O, no clock. */
  toReadings(payload: z.output<S>, ctx: AdapterContext): Normalised;
}

export interface Route {
  adapterId: string;
  pattern: TopicPattern;
  payload: PayloadEncoding;
  schema: z.ZodType;
  ignoreDevices: ReadonlySet<string>;
  where: Readonly<Record<string, RegExp>>;
  deviceId(params: Readonly<Record<string, string>>): string | undefined;
  stateKey(params: Readonly<Record<string, string>>): string;
  toReadings(payload: unknown, ctx: AdapterContext): Normalised;
}

export interface Adapter {
  id: string;
  description: string;
  /** The canonical metrics (adapters/metrics.ts) its readings may carry. */
  metrics: readonly MetricName[];
  /**
   * Free-form metrics it passes through besides (kept as telemetry, never named by a rule), and
   * how they are named; absent: none.
   */
  passThrough?: string;
  routes: readonly Route[];
}

// Each route keeps its own schema type; this helper checks each one separately.
type Routes<T extends readonly z.ZodType[]> = { [K in keyof T]: RouteDefinition<T[K]> };

export function defineAdapter<const T extends readonly z.ZodType[]>(def: {
  id: string;
  description: string;
  metrics: readonly MetricName[];
  passThrough?: string;
  routes: Routes<T>;
}): Adapter {
  const routes = (def.routes as readonly RouteDefinition<z.ZodType>[]).map((r): Route => {
    const pattern = compileTopic(r.topic);
    if (!r.topic.includes('{site}') || (!r.topic.includes('{device}') && !r.deviceId)) {
      throw new Error(
        `adapter ${def.id}: route "${r.topic}" must capture {site}, and {device} or give deviceId()`,
      );
    }
    const deviceId = r.deviceId ?? ((params: Readonly<Record<string, string>>) => params.device);
    return {
      adapterId: def.id,
      pattern,
      payload: r.payload,
      schema: r.schema,
      ignoreDevices: new Set(r.ignoreDevices ?? []),
      where: r.where ?? {},
      deviceId,
      stateKey: r.stateKey ?? ((params) => deviceId(params) ?? ''),
      toReadings: r.toReadings as Route['toReadings'],
    };
  });
  return {
    id: def.id,
    description: def.description,
    metrics: def.metrics,
    ...(def.passThrough ? { passThrough: def.passThrough } : {}),
    routes,
  };
}

/**
 * The canonical fault of a sensor or probe that cannot measure (an unplugged flood probe, a DS18B20
 * sentinel, a Bad quality), whatever the device calls it, so that one `fault_event` rule with
 * `code: sensor_fault` covers every family. The device's own word goes in the detail's `error`.
 */
export const SENSOR_FAULT = 'sensor_fault';

/** What a sensor fault says: the device's own word for it (or ours when it has none), and where. */
export type SensorFaultDetail = { error: string } & Record<string, unknown>;

/** A reading whose number is NaN or infinite: no rule can judge it, so the message is refused. */
export class NonFiniteReadingError extends Error {
  readonly code = 'reading_not_finite';
  override readonly name = 'NonFiniteReadingError';
}

type EmitOptions = { assetId?: string; ts?: Instant };

/**
 * How a device that is a gateway (a Tasmota ZbBridge, a Sparkplug edge node) is named when it
 * announces itself: `<adapter id>:<asset id>`, what `sites[].gateway.presence` names.
 */
export const gatewayName = (adapterId: string, assetId: string): string => `${adapterId}:${assetId}`;

/** Builders that stamp site, asset and time from the context, so adapters only name metrics. */
export function emit(ctx: AdapterContext) {
  const out: Normalised = { readings: [], events: [] };
  const event = (
    kind: DeviceEventKind,
    code: string,
    detail?: Record<string, unknown>,
    opts: EmitOptions = {},
  ): void => {
    const e: DeviceEvent = {
      site: ctx.site,
      assetId: opts.assetId ?? ctx.deviceId,
      kind,
      code,
      ts: opts.ts ?? ctx.receivedAt,
    };
    if (detail) e.detail = detail;
    out.events.push(e);
  };
  return {
    out,
    /**
     * `opts.assetId` for a reading of another asset than the topic's (a probe, a Sparkplug device).
     * Throws `NonFiniteReadingError` for NaN or ±Infinity: adapters check their conversions, this is
     * the last line of defence (the ingest dead-letters the message as `invalid_value`).
     */
    reading(metric: string, value: ReadingValue, unit?: string, opts: EmitOptions = {}) {
      if (typeof value === 'number' && !Number.isFinite(value)) {
        throw new NonFiniteReadingError(`reading ${metric}: ${value} is not a finite number`);
      }
      const r: Reading = {
        site: ctx.site,
        assetId: opts.assetId ?? ctx.deviceId,
        metric,
        value,
        ts: opts.ts ?? ctx.receivedAt,
      };
      if (unit) r.unit = unit;
      out.readings.push(r);
    },
    event,
    /** A `sensor_fault` event (see SENSOR_FAULT). */
    sensorFault(detail: SensorFaultDetail, opts: EmitOptions = {}) {
      event('fault', SENSOR_FAULT, detail, opts);
    },
    /** The message announces a gateway up or down (GatewayPresence); the last call wins. */
    presence(gateway: string, online: boolean) {
      out.presence = { site: ctx.site, gateway, online };
    },
  };
}

export type Emitter = ReturnType<typeof emit>;
