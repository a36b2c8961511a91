import { generate } from 'mqtt-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { type BrokerHarness, type LimitsOverride, startBroker } from '../helpers/broker.ts';
import { connectFrame, connectHeader, tcpSocket, wireClient } from '../helpers/mqtt-wire.ts';
import { watchProcessFaults } from '../helpers/process-faults.ts';
import { waitFor } from '../helpers/wait.ts';

const login = { username: 'xincheng-gw', password: Buffer.from('xincheng-demo') };

describe('embedded broker: what a connection may hold before it logs in', () => {
  let h: BrokerHarness;
  afterEach(async () => {
    await h.stop();
  });

  // A CONNECT timeout longer than any test here: a close can only come from the check under test.
  const start = (limits: LimitsOverride = {}) =>
    startBroker({ limits: { connectTimeoutMs: 60_000, ...limits } });

  // Found by the fuzz test: a packet larger than one socket read (64 KiB), sent in the same write as
  // the CONNECT, reached the broker's hooks before the login was decided, with no client id yet.
  it('survives a packet that arrives with the CONNECT before the login is decided, with or without a login', async () => {
    h = await start();
    const faults = watchProcessFaults();
    try {
      const big = Buffer.alloc(70_000, 0x61);
      for (const [who, creds] of [
        ['anonymous', {}],
        ['the gateway', login],
      ] as const) {
        for (const packet of [
          generate({
            cmd: 'publish',
            topic: 'xincheng/zigbee2mqtt/x',
            payload: big,
            qos: 0,
            dup: false,
            retain: false,
          }),
          generate({
            cmd: 'subscribe',
            messageId: 1,
            subscriptions: [{ topic: `xincheng/${'x'.repeat(69_990)}`, qos: 1 }],
          }),
        ]) {
          const socket = await tcpSocket(h.port);
          // The broker answers (a CONNACK) or closes: either way it has read the whole write.
          const answered = new Promise<void>((resolve) => {
            socket.once('data', () => resolve());
            socket.once('close', () => resolve());
          });
          socket.write(Buffer.concat([connectFrame({ clientId: `race-${who}`, ...creds }), packet]));
          await answered;
          socket.destroy();
        }
      }
      expect(faults.count).toBe(0);
      // And it still serves a gateway.
      const gw = await h.connect();
      await gw.publishAsync('xincheng/zigbee2mqtt/leak-b1-riser', '{"water_leak":true}', { qos: 1 });
      expect(h.recorded.map((m) => m.topic)).toContain('xincheng/zigbee2mqtt/leak-b1-riser');
    } finally {
      faults.stop();
    }
  });

  it('drops a CONNECT larger than maxConnectBytes at once, while later packets may be larger', async () => {
    h = await start();
    const client = wireClient(await tcpSocket(h.port));
    client.socket.write(connectHeader(20 * 1024)); // over the 16 KiB default, under maxPacketBytes
    client.socket.write(Buffer.alloc(1024));
    await client.closed;

    const gw = await h.connect({ clientId: 'xincheng-bms-bridge' });
    const big = JSON.stringify({ points: 'x'.repeat(100 * 1024) });
    await gw.publishAsync('xincheng/bms/export', big, { qos: 1 });
    expect(h.recorded.map((m) => m.payload.length)).toEqual([Buffer.byteLength(big)]);
  });

  it('drops a silent or partial CONNECT after connectTimeoutMs', async () => {
    h = await start({ connectTimeoutMs: 500 });
    const began = Date.now();
    const silent = wireClient(await tcpSocket(h.port));
    const partial = wireClient(await tcpSocket(h.port));
    const frame = connectFrame({ ...login, clientId: 'DVES_1A2B3C' });
    partial.socket.write(frame.subarray(0, frame.length - 5));
    await Promise.all([silent.closed, partial.closed]);
    const elapsed = Date.now() - began;
    process.stdout.write(`silent and partial CONNECTs dropped after ${elapsed} ms (timeout 500 ms)\n`);
    expect(elapsed).toBeGreaterThanOrEqual(450);
    expect(elapsed).toBeLessThan(10_000);
    expect(silent.packets).toEqual([]);
    expect(partial.packets).toEqual([]);
  });

  it('refuses sockets over the per-address and total caps at accept, while a gateway within them connects', async () => {
    h = await start({ maxConnectionsPerAddress: 3, maxConnections: 5 });
    const held = await Promise.all([1, 2, 3].map(() => tcpSocket(h.port, '127.0.0.2').then(wireClient)));
    // Accepts are handled in order, so the fourth from the same address meets a full cap.
    const fourth = wireClient(await tcpSocket(h.port, '127.0.0.2'));
    await fourth.closed;
    expect(held.map((c) => c.socket.destroyed)).toEqual([false, false, false]);

    const gw = await h.connect({ clientId: 'xincheng-z2m' });
    await gw.publishAsync('xincheng/zigbee2mqtt/leak-b1-riser', '{"water_leak":false}', { qos: 1 });
    expect(h.recorded).toHaveLength(1);

    const fifth = wireClient(await tcpSocket(h.port, '127.0.0.4'));
    const sixth = wireClient(await tcpSocket(h.port, '127.0.0.5'));
    await sixth.closed;
    expect(fifth.socket.destroyed).toBe(false);
    expect(h.broker.refusals.connections).toBe(2);
    const refused = h.logs.filter((l) => l.msg === 'MQTT connection refused');
    expect(refused.map((l) => [l.address, l.reason])).toEqual([
      ['127.0.0.2', 'address_cap'],
      ['127.0.0.5', 'total_cap'],
    ]);

    // A closed connection frees its slot.
    held[0]?.socket.destroy();
    const again = await waitFor(() => h.connect({ clientId: 'xincheng-z2m-2', localAddress: '127.0.0.2' }), {
      what: 'a free slot for 127.0.0.2',
    });
    expect(again.connected).toBe(true);
  });

  it('logs a flood of refused sockets from one address once, counting the rest', async () => {
    h = await start({ maxConnectionsPerAddress: 1 });
    const first = wireClient(await tcpSocket(h.port, '127.0.0.2'));
    for (let i = 0; i < 20; i++) await wireClient(await tcpSocket(h.port, '127.0.0.2')).closed;
    expect(first.socket.destroyed).toBe(false);
    expect(h.broker.refusals.connections).toBe(20);
    expect(h.logs.filter((l) => l.msg === 'MQTT connection refused')).toHaveLength(1);
  });
});
