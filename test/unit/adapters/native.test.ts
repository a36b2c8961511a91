import { describe, expect, it } from 'vitest';
import { adapters } from '../../../adapters/index.ts';
import {
  clampDeviceTime,
  MAX_CLOCK_AHEAD_MS,
  MAX_CLOCK_BEHIND_MS,
  nativeAvailSchema,
  nativeEventSchema,
  nativeStateSchema,
} from '../../../adapters/native.ts';
import { decodePayload } from '../../../src/ingest/decode.ts';
import { TopicRouter } from '../../../src/ingest/router.ts';

const RECEIVED_AT = Date.UTC(2025, 0, 15, 0, 30);
const router = new TopicRouter(adapters);

function run(topic: string, payload: unknown) {
  const m = router.match(topic);
  if (!m) throw new Error(`${topic} is not routed`);
  const decoded = decodePayload(new TextEncoder().encode(JSON.stringify(payload)), m.route.payload);
  if (!decoded.ok) throw new Error(decoded.detail);
  return m.route.toReadings(m.route.schema.parse(decoded.value), {
    site: m.site,
    deviceId: m.deviceId,
    params: m.params,
    topic,
    receivedAt: RECEIVED_AT,
  });
}

describe('clampDeviceTime', () => {
  it('keeps a device time from 24 h before to 5 min after reception, bounds included', () => {
    for (const ts of [
      RECEIVED_AT,
      RECEIVED_AT - 1,
      RECEIVED_AT - MAX_CLOCK_BEHIND_MS,
      RECEIVED_AT + MAX_CLOCK_AHEAD_MS,
    ]) {
      expect(clampDeviceTime(ts, RECEIVED_AT)).toBe(ts);
    }
  });

  it('uses the reception time for a clock too far ahead or behind', () => {
    expect(clampDeviceTime(RECEIVED_AT + MAX_CLOCK_AHEAD_MS + 1, RECEIVED_AT)).toBe(RECEIVED_AT);
    expect(clampDeviceTime(RECEIVED_AT - MAX_CLOCK_BEHIND_MS - 1, RECEIVED_AT)).toBe(RECEIVED_AT);
    expect(clampDeviceTime(0, RECEIVED_AT)).toBe(RECEIVED_AT);
  });

  it('uses the reception time when the device gives none or an impossible one', () => {
    expect(clampDeviceTime(undefined, RECEIVED_AT)).toBe(RECEIVED_AT);
    expect(clampDeviceTime(Number.NaN, RECEIVED_AT)).toBe(RECEIVED_AT);
  });

  it('is what the state, event and avail routes stamp', () => {
    const buffered = '2025-01-14T23:10:00Z'; // 80 min old: a device that buffered through an outage
    const tsOf = (out: ReturnType<typeof run>) => [...out.readings, ...out.events].map((x) => x.ts);
    const state = run('xincheng/xiaoer/plumbing/leak-b1-riser/state', { water_leak: true, ts: buffered });
    expect(tsOf(state)).toEqual([Date.parse(buffered)]);
    const epochMs = RECEIVED_AT - 2_000;
    const event = run('xincheng/xiaoer/lock/lock-3f-east/event', {
      kind: 'fault',
      code: 'jammed',
      ts: epochMs,
    });
    expect(tsOf(event)).toEqual([epochMs]);
    const ahead = run('xincheng/xiaoer/lock/lock-3f-east/avail', {
      state: 'offline',
      ts: '2025-01-15T00:36:00Z',
    });
    expect(tsOf(ahead)).toEqual([RECEIVED_AT]);
  });
});

describe('native adapter routing', () => {
  it('routes the three topics of the three kinds', () => {
    for (const kind of ['lock', 'hvac', 'plumbing']) {
      for (const leaf of ['state', 'event', 'avail']) {
        expect(router.match(`east/xiaoer/${kind}/dev-1/${leaf}`)?.route.adapterId).toBe('native');
      }
    }
  });

  it('does not route an unknown kind or an unknown leaf', () => {
    expect(router.match('east/xiaoer/lighting/lamp-1/state')).toBeUndefined();
    expect(router.match('east/xiaoer/Lock/lock-3f-east/state')).toBeUndefined();
    expect(router.match('east/xiaoer/lock/lock-3f-east/status')).toBeUndefined();
    expect(router.match('east/xiaoer/lock/lock-3f-east')).toBeUndefined();
  });

  it('hints the topic kind for the device, on every route', () => {
    expect(run('east/xiaoer/hvac/hvac-2f-office/state', { temperature_c: 21 }).kinds).toEqual({
      'hvac-2f-office': 'hvac',
    });
    expect(run('east/xiaoer/lock/lock-3f-east/avail', 'offline').kinds).toEqual({ 'lock-3f-east': 'lock' });
  });
});

describe('native payloads', () => {
  it('checks the type of canonical metrics and reports the field', () => {
    const result = nativeStateSchema.safeParse({ battery_pct: '80', water_leak: true });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]).toMatchObject({
      path: ['battery_pct'],
      message: 'expected number, received string',
    });
  });

  it('accepts any scalar for a snake_case metric it does not know, Object prototype names included', () => {
    expect(nativeStateSchema.safeParse({ door_open: true, constructor: 1, toString: 2 }).success).toBe(false);
    const out = run('east/xiaoer/lock/lock-3f-east/state', { door_open: true, constructor: 'x' });
    expect(out.readings.map((r) => [r.metric, r.value, r.unit])).toEqual([
      ['door_open', true, undefined],
      ['constructor', 'x', undefined],
    ]);
  });

  it('rejects a negative or fractional epoch ts, and over-long strings', () => {
    expect(nativeStateSchema.safeParse({ water_leak: true, ts: -1 }).success).toBe(false);
    expect(nativeStateSchema.safeParse({ water_leak: true, ts: 1736901000000.5 }).success).toBe(false);
    expect(nativeStateSchema.safeParse({ lock_state: 'x'.repeat(257) }).success).toBe(false);
  });

  it('takes null as unknown for canonical and other metrics: no reading, no type error', () => {
    const out = run('east/xiaoer/plumbing/leak-b1-riser/state', {
      water_leak: null,
      battery_pct: null,
      probe_ohms: null,
      pressure_kpa: 301.5,
    });
    expect(out.readings.map((r) => [r.metric, r.value])).toEqual([['pressure_kpa', 301.5]]);
  });

  it('takes a null ts (a device clock not set yet) as the time of receipt, on every topic', () => {
    const state = run('east/xiaoer/plumbing/leak-b1-riser/state', { water_leak: true, ts: null });
    expect(state.readings.map((r) => r.ts)).toEqual([RECEIVED_AT]);
    const event = run('east/xiaoer/lock/lock-3f-east/event', { kind: 'fault', code: 'jammed', ts: null });
    expect(event.events.map((e) => e.ts)).toEqual([RECEIVED_AT]);
    const avail = run('east/xiaoer/lock/lock-3f-east/avail', { state: 'offline', ts: null });
    expect(avail.events.map((e) => e.ts)).toEqual([RECEIVED_AT]);
  });

  it('refuses a number beyond a double (JSON 1e400) under the metric name', () => {
    const result = nativeStateSchema.safeParse(JSON.parse('{"pressure_kpa":1e400}'));
    expect(result.error?.issues[0]?.path).toEqual(['pressure_kpa']);
  });

  it('accepts an empty state (a heartbeat) with no readings', () => {
    expect(run('east/xiaoer/lock/lock-3f-east/state', {}).readings).toEqual([]);
  });

  it('accepts only snake_case event codes and fault/action kinds', () => {
    expect(nativeEventSchema.safeParse({ kind: 'fault', code: 'Jammed' }).success).toBe(false);
    expect(nativeEventSchema.safeParse({ kind: 'alarm', code: 'jammed' }).success).toBe(false);
    expect(nativeEventSchema.safeParse({ kind: 'fault', code: 'sensor_fault' }).success).toBe(true);
  });

  it('accepts availability as text, a JSON string or an object with an optional ts', () => {
    expect(nativeAvailSchema.parse('online')).toEqual({ state: 'online', ts: undefined });
    expect(nativeAvailSchema.parse({ state: 'offline', ts: RECEIVED_AT })).toEqual({
      state: 'offline',
      ts: RECEIVED_AT,
    });
    expect(nativeAvailSchema.safeParse({ state: 'offline', reason: 'lwt' }).success).toBe(false);
  });
});
