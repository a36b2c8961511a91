import { z } from 'zod';
import type { Instant } from '../src/domain/types.ts';
import { type AdapterContext, defineAdapter, emit } from './define.ts';
import { isMetric, METRICS, type MetricName } from './metrics.ts';

/**
 * xiaoer's own format, for devices and gateways built to speak it (contract: docs/native-format.md):
 *   `<site>/xiaoer/<kind>/<device>/state`  JSON object of canonical metric -> value, optional `ts`
 *   `<site>/xiaoer/<kind>/<device>/event`  `{"kind":"fault"|"action","code":..,"detail":{..},"ts":..}`
 *   `<site>/xiaoer/<kind>/<device>/avail`  `online` / `offline`, or `{"state":"offline"}`
 * `<kind>` (lock, hvac, plumbing) is the kind hint for a device no admin has confirmed yet.
 */

/**
 * How far a device clock may run ahead of xiaoer's before its time is ignored. A little skew is
 * normal (NTP-less devices, the broker hop); beyond this the clock is simply wrong.
 */
export const MAX_CLOCK_AHEAD_MS = 5 * 60_000;
/**
 * How old a device time may be. A device that buffered a reading while its network was down
 * reports when it detected the fault, and that is when the SLA clocks must start (a ticket's
 * `detectedAt`). Older than this, it is far likelier a clock reset to 1970/2000 than a real backlog,
 * and a ticket born days overdue helps nobody.
 */
export const MAX_CLOCK_BEHIND_MS = 24 * 60 * 60_000;

/**
 * The time to stamp on what a device reports: its own clock when that is plausible, else the time
 * xiaoer received the message. Detection time drives the SLA, so a wrong device clock must not
 * start the clocks in the future (hiding a breach) or far in the past (a breach on arrival).
 */
export function clampDeviceTime(deviceTs: number | null | undefined, receivedAt: Instant): Instant {
  if (deviceTs == null || !Number.isFinite(deviceTs)) return receivedAt;
  if (deviceTs > receivedAt + MAX_CLOCK_AHEAD_MS) return receivedAt;
  if (deviceTs < receivedAt - MAX_CLOCK_BEHIND_MS) return receivedAt;
  return deviceTs;
}

/**
 * ISO 8601 with a zone (`Z` or `+08:00`: a local time without one is ambiguous), or epoch
 * milliseconds. A malformed `ts` is a contract error and rejects the message; a well-formed but
 * implausible one (a reset clock) is a field condition and is clamped.
 */
export const deviceTimestamp = z.union(
  [z.iso.datetime({ offset: true }).transform((s) => Date.parse(s)), z.number().int().nonnegative()],
  { error: 'expected ISO 8601 with a zone (Z or +08:00) or epoch milliseconds' },
);
/** `ts` is optional, and null from a device whose clock is not set yet: the time of receipt. */
const optionalTs = deviceTimestamp.nullish();

const NAME = /^[a-z][a-z0-9_]*$/;
const MAX_NAME = 64;
const MAX_TEXT = 256;
const MAX_METRICS = 100;

/** The canonical metrics (adapters/metrics.ts): their value type is checked and their unit filled in. */
const canonical = (name: string) => (isMetric(name) ? METRICS[name] : undefined);

// `null`: the device does not know the value now (not read yet, sensor busy): no reading, and it
// neither raises nor clears anything. A sensor that cannot measure sends a sensor_fault event.
// zod 4's number() refuses NaN and ±Infinity (JSON's 1e400).
const metricValue = z.union([z.number(), z.boolean(), z.string().max(MAX_TEXT), z.null()], {
  error: `expected a number, a boolean, a string of at most ${MAX_TEXT} characters, or null`,
});

export const nativeStateSchema = z
  .object({ ts: optionalTs })
  .catchall(metricValue)
  .superRefine((state, ctx) => {
    const names = Object.keys(state).filter((k) => k !== 'ts');
    if (names.length > MAX_METRICS) {
      ctx.addIssue({ code: 'custom', message: `at most ${MAX_METRICS} metrics per message`, path: [] });
    }
    for (const name of names) {
      if (!NAME.test(name) || name.length > MAX_NAME) {
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: 'metric names are snake_case: [a-z][a-z0-9_]*',
        });
        continue;
      }
      const expected = canonical(name)?.type;
      if (expected && state[name] !== null && typeof state[name] !== expected) {
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: `expected ${expected}, received ${typeof state[name]}`,
        });
      }
    }
  });

const code = z.string().max(MAX_NAME).regex(NAME, 'codes are snake_case: [a-z][a-z0-9_]*');

// Availability has its own topic (and is what a last-will message carries), so not here.
export const nativeEventSchema = z.strictObject({
  kind: z.enum(['fault', 'action']),
  code,
  detail: z.record(z.string(), z.json()).optional(),
  ts: optionalTs,
});

const availability = z.enum(['online', 'offline']);
export const nativeAvailSchema = z.union([
  availability.transform((state) => ({ state, ts: undefined })),
  z.strictObject({ state: availability, ts: optionalTs }),
]);

const KINDS = { kind: /^(lock|hvac|plumbing)$/ };

function kindHint(ctx: AdapterContext): Record<string, string> {
  return ctx.params.kind ? { [ctx.deviceId]: ctx.params.kind } : {};
}

export const native = defineAdapter({
  id: 'native',
  description: "Devices speaking xiaoer's own format (docs/native-format.md)",
  metrics: Object.keys(METRICS) as MetricName[],
  passThrough: 'any other snake_case name a native device reports, as it is',
  routes: [
    {
      topic: '{site}/xiaoer/{kind}/{device}/state',
      payload: 'json',
      schema: nativeStateSchema,
      where: KINDS,
      toReadings({ ts, ...metrics }, ctx) {
        const e = emit(ctx);
        const at = clampDeviceTime(ts, ctx.receivedAt);
        for (const [name, value] of Object.entries(metrics)) {
          if (value !== null) e.reading(name, value, canonical(name)?.unit, { ts: at });
        }
        return { ...e.out, kinds: kindHint(ctx) };
      },
    },
    {
      topic: '{site}/xiaoer/{kind}/{device}/event',
      payload: 'json',
      schema: nativeEventSchema,
      where: KINDS,
      toReadings(event, ctx) {
        const e = emit(ctx);
        e.event(event.kind, event.code, event.detail, { ts: clampDeviceTime(event.ts, ctx.receivedAt) });
        return { ...e.out, kinds: kindHint(ctx) };
      },
    },
    {
      topic: '{site}/xiaoer/{kind}/{device}/avail',
      payload: 'json-or-text',
      schema: nativeAvailSchema,
      where: KINDS,
      toReadings(avail, ctx) {
        const e = emit(ctx);
        e.event('availability', avail.state, undefined, { ts: clampDeviceTime(avail.ts, ctx.receivedAt) });
        return { ...e.out, kinds: kindHint(ctx) };
      },
    },
  ],
});
