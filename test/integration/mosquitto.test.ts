import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncomingMessage } from '../../src/ingest/ingest.ts';
import { MqttSource } from '../../src/ingest/mqtt-source.ts';
import { silentLog } from '../helpers/domain.ts';
import { type RunningMosquitto, startMosquitto } from '../helpers/mosquitto.ts';
import { startTestApp } from '../helpers/test-app.ts';
import { waitFor } from '../helpers/wait.ts';

describe('xiaoer against a real Mosquitto', () => {
  let broker: RunningMosquitto;
  beforeAll(async () => {
    broker = await startMosquitto();
  });
  afterAll(async () => {
    await broker.stop();
  });

  it('turns a Zigbee2MQTT leak into a ticket with the same deadlines as the embedded broker', async () => {
    const t = await startTestApp({
      mqttUrl: broker.url,
      override: (c) => {
        c.mqtt.url = broker.url;
        c.mqtt.clientId = 'xiaoer-leak-test';
      },
    });
    try {
      expect(t.app.ports.mqtt).toBeUndefined();
      const gw = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
      await gw.publishAsync('north/zigbee2mqtt/leak-b1-riser', JSON.stringify({ water_leak: true }), {
        qos: 1,
      });
      await gw.endAsync();
      const staff = await t.userToken('desk', 'staff');
      const ticket = await waitFor(
        async () => {
          const res = await t.request<{
            tickets: {
              site: string;
              fault: string;
              detectedAt: string;
              arrival: { dueAt: string };
              repair: { dueAt: string };
            }[];
          }>('GET', '/api/tickets?site=north', { token: staff });
          return res.body.tickets[0];
        },
        { what: 'ticket from Mosquitto' },
      );
      expect(ticket).toMatchObject({ site: 'north', fault: 'leak' });
      const detected = Date.parse(ticket.detectedAt);
      expect(Date.parse(ticket.arrival.dueAt) - detected).toBe(300_000);
      expect(Date.parse(ticket.repair.dueAt) - detected).toBe(3_600_000);
    } finally {
      await t.stop();
    }
  });

  it('shares a $share subscription between two sessions: each message to one of them', async () => {
    const got = new Map<string, string[]>([
      ['one', []],
      ['two', []],
    ]);
    const member = (name: string) =>
      new MqttSource(
        {
          url: broker.url,
          clientId: `xiaoer-share-${name}`,
          filters: () => ['+/tele/+/SENSOR'],
          shareGroup: 'xiaoer',
        },
        { accept: async (msg) => void got.get(name)?.push(msg.topic) },
        silentLog,
      );
    const [one, two] = [member('one'), member('two')];
    await one.start();
    await two.start();
    try {
      const c = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
      for (let n = 0; n < 40; n++) await c.publishAsync(`east/tele/plug-${n}/SENSOR`, '{}', { qos: 1 });
      await c.endAsync();
      const all = await waitFor(
        () => {
          const topics = [...(got.get('one') ?? []), ...(got.get('two') ?? [])];
          return topics.length >= 40 ? topics : undefined;
        },
        { what: 'forty messages between the two' },
      );
      expect(new Set(all).size).toBe(40);
      expect(all).toHaveLength(40);
      expect(got.get('one')?.length).toBeGreaterThan(0);
      expect(got.get('two')?.length).toBeGreaterThan(0);
    } finally {
      await one.stop();
      await two.stop();
    }
  });

  describe('at-least-once through the persistent session', () => {
    const received: { msg: IncomingMessage; settle: { resolve(): void; reject(e: Error): void } }[] = [];
    const sink = {
      accept: (msg: IncomingMessage) =>
        new Promise<void>((resolve, reject) => {
          received.push({ msg, settle: { resolve, reject } });
        }),
    };
    const source = (clientId: string) =>
      new MqttSource({ url: broker.url, clientId, filters: () => ['+/zigbee2mqtt/+'] }, sink, silentLog);
    const publish = async (topic: string, payload: string) => {
      const c = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
      await c.publishAsync(topic, payload, { qos: 1 });
      await c.endAsync();
    };

    it('gets a message again from the broker when recording it failed', async () => {
      received.length = 0;
      const s = source('xiaoer-redeliver');
      await s.start();
      await publish('east/zigbee2mqtt/leak-b1-riser', '{"water_leak":true}');
      const first = await waitFor(() => received[0], { what: 'first delivery' });
      first.settle.reject(new Error('store unavailable'));
      const second = await waitFor(() => received[1], { what: 'redelivery' });
      expect(Buffer.from(second.msg.payload).toString()).toBe('{"water_leak":true}');
      second.settle.resolve();
      await s.stop();
    });

    it('records messages side by side, and acknowledges none before it and those before it are recorded', async () => {
      received.length = 0;
      const s = source('xiaoer-pipeline');
      await s.start();
      for (const n of [1, 2, 3]) await publish(`east/zigbee2mqtt/leak-${n}`, `{"water_leak":true,"n":${n}}`);
      // All three are being recorded at once: MQTT.js alone hands over one at a time.
      await waitFor(() => (received.length === 3 ? true : undefined), { what: 'three messages in flight' });
      expect(s.stats().inFlight).toBe(3);
      // The later two are recorded, the first not yet: no PUBACK may go out, not even theirs.
      received[1]?.settle.resolve();
      received[2]?.settle.resolve();
      await waitFor(() => (s.stats().recorded === 2 ? true : undefined), { what: 'two recorded' });
      // They count against the window until their PUBACKs are written.
      expect(s.stats()).toMatchObject({ acknowledged: 0, inFlight: 3 });
      await s.abort();
      received.length = 0;
      const again = source('xiaoer-pipeline');
      const accepting = setInterval(() => {
        for (const r of received) r.settle.resolve();
      }, 10);
      try {
        await again.start();
        // Nothing was acknowledged, so the broker sends all three again on the resumed session.
        await waitFor(() => (received.length >= 3 ? true : undefined), { what: 'redelivery of all three' });
        expect(received.map((r) => r.msg.topic).sort()).toEqual([
          'east/zigbee2mqtt/leak-1',
          'east/zigbee2mqtt/leak-2',
          'east/zigbee2mqtt/leak-3',
        ]);
        await waitFor(() => (again.stats().acknowledged === 3 ? true : undefined), { what: 'three PUBACKs' });
      } finally {
        clearInterval(accepting);
        await again.stop();
      }
      received.length = 0;
    });

    it.each([1, 2])('reads no more than inFlight (%i) messages ahead of their PUBACKs', async (window) => {
      const pending: (() => void)[] = [];
      let mostUnacknowledged = 0;
      const s: MqttSource = new MqttSource(
        {
          url: broker.url,
          clientId: `xiaoer-window-${window}`,
          filters: () => [`window${window}/zigbee2mqtt/+`],
          inFlight: window,
        },
        {
          accept: () =>
            new Promise<void>((resolve) => {
              mostUnacknowledged = Math.max(mostUnacknowledged, s.stats().received - s.stats().acknowledged);
              pending.push(resolve);
            }),
        },
        silentLog,
      );
      await s.start();
      try {
        for (const n of [1, 2, 3, 4, 5])
          await publish(`window${window}/zigbee2mqtt/leak-${n}`, '{"water_leak":false}');
        await waitFor(() => (pending.length === window ? true : undefined), { what: 'a full window' });
        // Each PUBACK written lets one more in, never more.
        for (let acknowledged = 1; acknowledged <= 5; acknowledged++) {
          pending[acknowledged - 1]?.();
          await waitFor(() => (s.stats().acknowledged === acknowledged ? true : undefined), {
            what: `${acknowledged} acknowledged`,
          });
        }
        expect(s.stats()).toMatchObject({ received: 5, recorded: 5, acknowledged: 5, inFlight: 0 });
        expect(mostUnacknowledged).toBe(window);
      } finally {
        for (const resolve of pending) resolve();
        await s.stop();
      }
    });

    it('receives messages published while xiaoer was down, once it is back', async () => {
      received.length = 0;
      const first = source('xiaoer-offline');
      await first.start();
      await first.stop();
      for (const n of [1, 2, 3]) await publish(`east/zigbee2mqtt/leak-${n}`, `{"water_leak":true,"n":${n}}`);
      const again = source('xiaoer-offline');
      const accepting = setInterval(() => {
        for (const r of received) r.settle.resolve();
      }, 10);
      try {
        await again.start();
        await waitFor(() => (received.length >= 3 ? true : undefined), { what: 'queued messages' });
        expect(received.map((r) => r.msg.topic).sort()).toEqual([
          'east/zigbee2mqtt/leak-1',
          'east/zigbee2mqtt/leak-2',
          'east/zigbee2mqtt/leak-3',
        ]);
      } finally {
        clearInterval(accepting);
        // stop() waits for the messages being recorded.
        for (const r of received) r.settle.resolve();
        await again.stop();
      }
    });
  });
});
