/**
 * Shelly logic the fixtures cannot show well: the `where` constraints that keep the generic
 * `{site}/{device}/...` shape off other ecosystems' topics, the asset kinds, and per-component
 * validation inside NotifyFullStatus. Payload cases live in test/fixtures/shelly/.
 */
import { describe, expect, it } from 'vitest';
import { adapters } from '../../../adapters/index.ts';
import { componentAsset, shelly } from '../../../adapters/shelly.ts';
import { decodePayload } from '../../../src/ingest/decode.ts';
import { TopicRouter } from '../../../src/ingest/router.ts';

const router = new TopicRouter([shelly]);
const FLOOD = 'shellyfloodg4-a0b1c2d3e4f5';

function run(topic: string, payload: unknown) {
  const m = router.match(topic);
  if (!m) throw new Error(`${topic} is not routed`);
  const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
  const decoded = decodePayload(new TextEncoder().encode(text), m.route.payload);
  if (!decoded.ok) throw new Error(decoded.detail);
  const parsed = m.route.schema.safeParse(decoded.value);
  if (!parsed.success) return { rejected: parsed.error.issues.map((i) => i.path.join('.')) };
  return m.route.toReadings(parsed.data, {
    site: m.site,
    deviceId: m.deviceId,
    params: m.params,
    topic,
    receivedAt: Date.UTC(2025, 0, 15, 8, 30),
  });
}

describe('shelly topic constraints', () => {
  // Same level count as the Shelly routes; only the `shelly` device prefix tells them apart.
  it.each([
    'xincheng/zigbee2mqtt/online',
    'xincheng/zigbee2mqtt/status/availability',
    'xincheng/zigbee2mqtt/events/rpc',
    'xincheng/zigbee2mqtt/status/switch:0',
    'xincheng/tele/status/SENSOR',
    'xincheng/xiaoer/status/flood:0',
    'xincheng/bridge/online',
  ])('never takes %s', (topic) => {
    expect(router.match(topic)).toBeUndefined();
  });

  it('leaves Zigbee2MQTT topics to zigbee2mqtt in the full registry', () => {
    const all = new TopicRouter(adapters);
    for (const topic of ['xincheng/zigbee2mqtt/online', 'xincheng/zigbee2mqtt/status/availability']) {
      expect(all.match(topic)?.route.adapterId).toBe('zigbee2mqtt');
    }
  });

  it('takes status topics only for components it maps, so sys/cloud/input are not dead letters', () => {
    expect(router.match(`xincheng/${FLOOD}/status/flood:0`)?.route.adapterId).toBe('shelly');
    for (const component of ['sys', 'cloud', 'input:0', 'ble', 'switch', 'switch:x']) {
      expect(router.match(`xincheng/${FLOOD}/status/${component}`)).toBeUndefined();
    }
  });
});

describe('shelly assets and kinds', () => {
  it('names instance 0 after the device and instance n after <device>-<type>-<n>', () => {
    expect(componentAsset('shellypro4pm-c8f09e8a1b2c', 'switch:0')).toBe('shellypro4pm-c8f09e8a1b2c');
    expect(componentAsset('shellypro4pm-c8f09e8a1b2c', 'switch:3')).toBe(
      'shellypro4pm-c8f09e8a1b2c-switch-3',
    );
    expect(componentAsset('shellyplus1-e465b8a1c2d3', 'temperature:100')).toBe(
      'shellyplus1-e465b8a1c2d3-temperature-100',
    );
    expect(componentAsset('shellyplus1-e465b8a1c2d3', 'wifi')).toBe('shellyplus1-e465b8a1c2d3');
  });

  it('declares a flood sensor plumbing, from its status and from its events', () => {
    expect(run(`xincheng/${FLOOD}/status/flood:0`, { id: 0, alarm: false, mute: false })).toMatchObject({
      kinds: { [FLOOD]: 'plumbing' },
    });
    const frame = {
      method: 'NotifyEvent',
      params: { ts: 1, events: [{ component: 'flood:1', id: 1, event: 'alarm', ts: 1 }] },
    };
    expect(run(`xincheng/${FLOOD}/events/rpc`, frame)).toMatchObject({
      kinds: { [`${FLOOD}-flood-1`]: 'plumbing' },
      readings: [{ assetId: `${FLOOD}-flood-1`, metric: 'water_leak', value: true }],
    });
  });

  it('claims no kind for a switch: it may drive a pump, a valve or a light', () => {
    const out = run('xincheng/shellyplus1pm-441793d69718/status/switch:0', { id: 0, output: true });
    expect(out).not.toHaveProperty('kinds');
  });
});

describe('shelly NotifyFullStatus validation', () => {
  const full = (extra: Record<string, unknown>) => ({
    method: 'NotifyFullStatus',
    params: { ts: 1, 'switch:0': { id: 0, output: true, apower: 300 }, ...extra },
  });

  it('does not hold unmapped components to a mapped one’s schema (a BLU device’s numeric battery)', () => {
    const out = run(
      'xincheng/shellyplus1pm-441793d69718/events/rpc',
      full({ 'bthomedevice:200': { id: 200, battery: 100, rssi: -70 } }),
    );
    expect(out).toMatchObject({ readings: [{ metric: 'relay_on' }, { metric: 'power_w', value: 300 }] });
  });

  it('rejects the frame at the path of a mistyped mapped component', () => {
    const out = run(
      'xincheng/shellyplus1pm-441793d69718/events/rpc',
      full({ 'devicepower:0': { id: 0, battery: 100 } }),
    );
    expect(out).toEqual({ rejected: ['params.devicepower:0.battery'] });
  });

  it('accepts JSON-RPC methods it does not map, without recording anything', () => {
    const out = run('xincheng/shellyplus1pm-441793d69718/events/rpc', {
      method: 'NotifyUnmapped',
      params: {},
    });
    expect(out).toMatchObject({ readings: [], events: [] });
  });
});

describe('shelly device errors and blind flood sensors', () => {
  /** Routes and parses like the ingest, threading the route state of one device between messages. */
  function device() {
    let state: unknown;
    return (topic: string, payload: unknown) => {
      const m = router.match(topic);
      if (!m) throw new Error(`${topic} is not routed`);
      const parsed = m.route.schema.safeParse(payload);
      if (!parsed.success) throw new Error(parsed.error.message);
      const out = m.route.toReadings(parsed.data, {
        site: m.site,
        deviceId: m.deviceId,
        params: m.params,
        topic,
        receivedAt: Date.UTC(2025, 0, 15, 8, 30),
        state,
      });
      if (out.state !== undefined) state = out.state;
      return out;
    };
  }
  const rpc = `xincheng/${FLOOD}/events/rpc`;
  const floodEvent = (event: string) => ({
    method: 'NotifyEvent',
    params: { ts: 1, events: [{ component: 'flood:0', id: 0, event, ts: 1 }] },
  });

  it('ignores alarm_off from a sensor that reported cable_unplugged, until a status clears its errors', () => {
    const send = device();
    expect(send(rpc, floodEvent('cable_unplugged')).events).toMatchObject([
      { kind: 'fault', code: 'sensor_fault', detail: { component: 'flood:0', error: 'cable_unplugged' } },
    ]);
    expect(send(rpc, floodEvent('alarm_off')).readings).toEqual([]);
    expect(send(rpc, floodEvent('alarm')).readings).toMatchObject([{ metric: 'water_leak', value: true }]);
    send(`xincheng/${FLOOD}/status/flood:0`, { id: 0, alarm: true, mute: false });
    expect(send(rpc, floodEvent('alarm_off')).readings).toMatchObject([
      { metric: 'water_leak', value: false },
    ]);
  });

  it('keeps blindness per component: flood:1 unplugged does not silence flood:0', () => {
    const send = device();
    send(`xincheng/${FLOOD}/status/flood:1`, { id: 1, alarm: null, errors: ['cable_unplugged'] });
    const out = send(rpc, { method: 'NotifyStatus', params: { ts: 1, 'flood:0': { id: 0, alarm: false } } });
    expect(out.readings).toMatchObject([{ assetId: FLOOD, metric: 'water_leak', value: false }]);
  });

  it.each([
    ['devicepower:0', { id: 0, battery: { V: null, percent: null }, errors: ['read'] }, 'sensor_fault'],
    ['pm1:0', { id: 0, voltage: 230, errors: ['out_of_range:voltage'] }, 'sensor_fault'],
    ['switch:0', { id: 0, output: false, errors: ['overtemp'] }, 'overtemp'],
    ['switch:0', { id: 0, output: false, errors: ['overvoltage'] }, 'overvoltage'],
  ])('maps %s error %j to fault code %s, keeping the word in detail.error', (component, status, code) => {
    const out = run(`north/shellyplus1pm-441793d69718/status/${component}`, status);
    expect(out).toMatchObject({
      events: [{ kind: 'fault', code, detail: { component, error: status.errors[0] } }],
    });
  });
});
