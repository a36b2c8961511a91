import type { z } from 'zod';
import type { DeviceEvent, DeviceEventKind, Instant, Reading, ReadingValue } from '../src/domain/types.ts';
import { compileTopic, type TopicPattern } from './topic.ts';

/** How the payload bytes are turned into the value the schema checks. */
export type PayloadEncoding = 'json' | 'text' | 'json-or-text';

export interface Normalised {
  readings: Reading[];
  events: DeviceEvent[];
}

/** What an adapter's pure function knows besides the payload. */
export interface AdapterContext {
  site: string;
  deviceId: string;
  topic: string;
  receivedAt: Instant;
}

export interface RouteDefinition<S extends z.ZodType> {
  /** e.g. `{site}/zigbee2mqtt/{device}`; `{site}` and `{device}` are required captures. */
  topic: string;
  payload: PayloadEncoding;
  schema: S;
  /** Device names on this topic that are not devices (e.g. Zigbee2MQTT's `bridge`). */
  ignoreDevices?: readonly string[];
  /** Pure: no I/O, no clock. */
  toReadings(payload: z.output<S>, ctx: AdapterContext): Normalised;
}

export interface Route {
  adapterId: string;
  pattern: TopicPattern;
  payload: PayloadEncoding;
  schema: z.ZodType;
  ignoreDevices: ReadonlySet<string>;
  toReadings(payload: unknown, ctx: AdapterContext): Normalised;
}

export interface Adapter {
  id: string;
  description: string;
  routes: readonly Route[];
}

// Each route keeps its own schema type; this helper checks each one separately.
type Routes<T extends readonly z.ZodType[]> = { [K in keyof T]: RouteDefinition<T[K]> };

export function defineAdapter<const T extends readonly z.ZodType[]>(def: {
  id: string;
  description: string;
  routes: Routes<T>;
}): Adapter {
  const routes = (def.routes as readonly RouteDefinition<z.ZodType>[]).map((r): Route => {
    const pattern = compileTopic(r.topic);
    if (!r.topic.includes('{site}') || !r.topic.includes('{device}')) {
      throw new Error(`adapter ${def.id}: route "${r.topic}" must capture {site} and {device}`);
    }
    return {
      adapterId: def.id,
      pattern,
      payload: r.payload,
      schema: r.schema,
      ignoreDevices: new Set(r.ignoreDevices ?? []),
      toReadings: r.toReadings as Route['toReadings'],
    };
  });
  return { id: def.id, description: def.description, routes };
}

/** Builders that stamp site, asset and time from the context, so adapters only name metrics. */
export function emit(ctx: AdapterContext) {
  const out: Normalised = { readings: [], events: [] };
  return {
    out,
    reading(metric: string, value: ReadingValue, unit?: string) {
      const r: Reading = { site: ctx.site, assetId: ctx.deviceId, metric, value, ts: ctx.receivedAt };
      if (unit) r.unit = unit;
      out.readings.push(r);
    },
    event(kind: DeviceEventKind, code: string, detail?: Record<string, unknown>) {
      const e: DeviceEvent = { site: ctx.site, assetId: ctx.deviceId, kind, code, ts: ctx.receivedAt };
      if (detail) e.detail = detail;
      out.events.push(e);
    },
  };
}
