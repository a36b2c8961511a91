import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { addSite, type BrokerHarness, startBroker, whenClosed } from '../helpers/broker.ts';
import { tryConnect } from '../helpers/mqtt-wire.ts';
import { waitFor } from '../helpers/wait.ts';

const run = promisify(execFile);

/** Resolves when the client's connection closes; a test races it against a round trip. */
const closeOf = (client: MqttClient) =>
  whenClosed(client).then(() => {
    throw new Error('the connection was closed by the broker');
  });

describe('embedded broker: devices keep their own client ids, sessions are per login', () => {
  let h: BrokerHarness;
  afterEach(async () => {
    await h.stop();
  });

  // Site ids may contain "-": north's gateway once took over north-annex's session by using an id
  // that started with "north-", kicking the annex gateway and firing its will.
  const annexSite = () => startBroker({ configure: (c) => addSite(c, 'north-annex', 'north-annex-secret') });
  const annexLogin = { username: 'north-annex-gw', password: 'north-annex-secret' };
  const northLogin = { username: 'north-gw', password: 'north-demo' };

  it("one login's client id does not kick another login's connection or fire its will", async () => {
    h = await annexSite();
    const annex = await h.connect({
      ...annexLogin,
      clientId: 'north-annex-gw1',
      clean: false,
      will: {
        topic: 'north-annex/zigbee2mqtt/bridge/state',
        payload: Buffer.from('offline'),
        qos: 1,
        retain: false,
      },
    });
    const annexClosed = closeOf(annex);
    annexClosed.catch(() => {});
    const north = await h.connect({ ...northLogin, clientId: 'north-annex-gw1', clean: false });
    expect(north.sessionPresent).toBe(false);
    // A round trip on the annex connection: a kicked one would close instead of acknowledging.
    await Promise.race([
      annex.publishAsync('north-annex/zigbee2mqtt/leak-1', '{"water_leak":false}', { qos: 1 }),
      annexClosed,
    ]);
    expect(h.recorded.map((m) => m.topic)).toEqual(['north-annex/zigbee2mqtt/leak-1']);
    expect(h.gatewayChanges).toEqual(['north-annex connected', 'north connected']);
    const connected = h.logs.filter((l) => l.msg === 'client connected');
    expect(connected.map((l) => [l.clientId, l.login])).toEqual([
      ['north-annex-gw1', 'north-annex-gw'],
      ['north-annex-gw1', 'north-gw'],
    ]);
  });

  it("does not resume another login's persistent session or deliver its queued messages", async () => {
    // Subscribers (integrations reading xiaoer's outbound topics) keep sessions while away.
    h = await startBroker({
      configure: (c) => {
        c.mqtt.subscribers = [
          { username: 'reader-a', password: 'reader-a-secret', topics: ['xiaoer/out/#'] },
          { username: 'reader-b', password: 'reader-b-secret', topics: ['xiaoer/out/#'] },
        ];
      },
    });
    const readerA = { username: 'reader-a', password: 'reader-a-secret' };
    const readerB = { username: 'reader-b', password: 'reader-b-secret' };
    const a = await h.connect({ ...readerA, clientId: 'board-1', clean: false });
    await a.subscribeAsync('xiaoer/out/tickets/north', { qos: 1 });
    await a.endAsync();
    // Queued for A's offline session [MQTT-3.1.2-5].
    await h.broker.publish('xiaoer/out/tickets/north', 'for-a', 1);

    const b = await h.connect({ ...readerB, clientId: 'board-1', clean: false });
    const bGot: string[] = [];
    b.on('message', (_topic, payload) => bGot.push(payload.toString()));
    expect(b.sessionPresent).toBe(false);
    // A stored session's messages are sent right after the CONNACK, so they would come first.
    await b.subscribeAsync('xiaoer/out/tickets/east', { qos: 1 });
    await h.broker.publish('xiaoer/out/tickets/east', 'for-b', 1);
    await waitFor(() => (bGot.length > 0 ? true : undefined), { what: "B's own message" });
    expect(bGot).toEqual(['for-b']);

    // A's own session is intact: it resumes, with the message it missed.
    const back = await h.connect({ ...readerA, clientId: 'board-1', clean: false });
    const aGot: string[] = [];
    back.on('message', (_topic, payload) => aGot.push(payload.toString()));
    expect(back.sessionPresent).toBe(true);
    await waitFor(() => (aGot.length > 0 ? true : undefined), { what: 'the queued message' });
    expect(aGot).toEqual(['for-a']);
  });

  it('keeps no session for a gateway: nothing can pile up for one that subscribed and went away', async () => {
    h = await startBroker();
    const gw = await h.connect({ clientId: 'zigbee2mqtt-xincheng', clean: false });
    await gw.subscribeAsync('xincheng/zigbee2mqtt/bridge/request/#', { qos: 1 });
    await gw.endAsync();
    for (let i = 0; i < 50; i++)
      await h.broker.publish('xincheng/zigbee2mqtt/bridge/request/x', 'queued?', 1);
    const back = await h.connect({ clientId: 'zigbee2mqtt-xincheng', clean: false });
    const got: string[] = [];
    back.on('message', (topic) => got.push(topic));
    expect(back.sessionPresent).toBe(false);
    // Anything stored would be sent right after the CONNACK: a round trip shows there is none.
    await back.subscribeAsync('xincheng/zigbee2mqtt/bridge/response/#', { qos: 1 });
    expect(got).toEqual([]);
  });

  it('the same login and client id take over the old connection [MQTT-3.1.4-2]', async () => {
    h = await startBroker();
    const lwt = 'xincheng/tele/tasmota_1A2B3C/LWT';
    const first = await h.connect({
      clientId: 'DVES_1A2B3C',
      clean: false,
      will: { topic: lwt, payload: Buffer.from('Offline'), qos: 1, retain: true },
    });
    await first.subscribeAsync('xincheng/cmnd/tasmota_1A2B3C/#', { qos: 1 });
    const firstClosed = whenClosed(first);
    const second = await h.connect({ clientId: 'DVES_1A2B3C', clean: false });
    await firstClosed;
    // A gateway's session always starts clean (it has nothing to receive while away).
    expect(second.sessionPresent).toBe(false);
    // The old connection ended without DISCONNECT, so its will is published [MQTT-3.1.2-8].
    await waitFor(() => h.recorded.find((m) => m.topic === lwt), { what: 'the will of the old connection' });
    await waitFor(() => (h.gatewayChanges.length === 3 ? true : undefined), {
      what: 'three gateway changes',
    });
    expect(h.gatewayChanges).toEqual(['xincheng connected', 'xincheng disconnected', 'xincheng connected']);
  });

  it('accepts the client ids devices ship with: Tasmota, Shelly, Zigbee2MQTT (MQTT.js) and an empty one', async () => {
    h = await startBroker();
    for (const clientId of ['DVES_1A2B3C', 'shellyplus1pm-441793a3c1d4', undefined]) {
      const client = await h.connect(clientId === undefined ? {} : { clientId });
      expect(client.connected).toBe(true);
    }
    // MQTT.js' own default, which Zigbee2MQTT uses unless configured otherwise.
    expect(h.logs.filter((l) => l.msg === 'client connected').at(-1)?.clientId).toMatch(/^mqttjs_/);
    const login = { username: 'xincheng-gw', password: Buffer.from('xincheng-demo') };
    // A zero-byte id is the server's to assign, with a clean session [MQTT-3.1.3-6]/[MQTT-3.1.3-7].
    const empty = await tryConnect(h.port, { ...login, clientId: '', clean: true });
    expect(empty.returnCode).toBe(0);
    // ... and refused with "identifier rejected" without one [MQTT-3.1.3-8].
    const persistent = await tryConnect(h.port, { ...login, clientId: '', clean: false });
    expect(persistent.returnCode).toBe(2);
    await persistent.client.closed;
    for (const c of [empty, persistent]) c.client.socket.destroy();
  });

  it("runs the README's example with the real mosquitto_pub, as written", async () => {
    h = await startBroker();
    const args = [
      '-p',
      String(h.port),
      '-u',
      'xincheng-gw',
      '-P',
      'xincheng-demo',
      '-q',
      '1',
      '-t',
      'xincheng/zigbee2mqtt/leak-b1-riser',
      '-m',
      '{"water_leak":true,"battery":91}',
    ];
    await run('mosquitto_pub', args, { timeout: 15_000 });
    expect(h.recorded.map((m) => [m.topic, Buffer.from(m.payload).toString(), m.qos])).toEqual([
      ['xincheng/zigbee2mqtt/leak-b1-riser', '{"water_leak":true,"battery":91}', 1],
    ]);
    const connected = h.logs.find((l) => l.msg === 'client connected');
    expect(connected?.login).toBe('xincheng-gw');
    // mosquitto_pub 2.0 sends a zero-byte client id with a clean session; the broker assigns one.
    expect(connected?.clientId).toMatch(/^aedes_/);
  });
});
