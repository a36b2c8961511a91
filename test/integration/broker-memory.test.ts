import type { Socket } from 'node:net';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { type BrokerProcess, spawnBroker } from '../helpers/broker-process.ts';
import { connectHeader, tcpSocket } from '../helpers/mqtt-wire.ts';
import { waitFor } from '../helpers/wait.ts';

const MiB = 1024 * 1024;
const mb = (bytes: number) => (bytes / MiB).toFixed(1);

/** Writes `data` (errors once the broker closes the socket are expected) and resolves on close. */
const sendUntilClosed = (socket: Socket, data: Buffer[]) =>
  new Promise<void>((resolve) => {
    if (socket.destroyed) return resolve();
    socket.once('close', () => resolve());
    for (const chunk of data) socket.write(chunk);
  });

describe('embedded broker: memory held by sockets that never log in', () => {
  let server: BrokerProcess | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  /** A gateway's message, recorded by the broker process. */
  const gatewayMessage = async (port: number, n: number) => {
    const gw = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
      username: 'xincheng-gw',
      password: 'xincheng-demo',
      clientId: 'xincheng-z2m',
      reconnectPeriod: 0,
    });
    await gw.publishAsync('xincheng/zigbee2mqtt/leak-b1-riser', '{"water_leak":false}', { qos: 1 });
    await gw.endAsync();
    await waitFor(() => (server?.recorded.length === n ? true : undefined), { what: `message ${n}` });
  };

  /** Runs `flood` while sampling the broker's RSS; returns the largest growth over the baseline. */
  const peakGrowth = async (broker: BrokerProcess, flood: () => Promise<void>) => {
    const baseline = broker.rssBytes();
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, broker.rssBytes());
    }, 10);
    try {
      await flood();
    } finally {
      clearInterval(sampler);
    }
    peak = Math.max(peak, broker.rssBytes());
    return { baseline, growth: peak - baseline };
  };

  it('300 sockets announcing 2 MiB CONNECTs leave its RSS nearly unchanged, and it still records', async () => {
    // The per-address cap would refuse most of these sockets first; here the CONNECT limit is tested.
    server = await spawnBroker({ maxConnectionsPerAddress: 1000 });
    const broker = server;
    await gatewayMessage(broker.port, 1); // first-use allocations belong in the baseline
    const body = Buffer.alloc(2 * MiB - 64);
    const sockets: Socket[] = [];
    const { baseline, growth } = await peakGrowth(broker, async () => {
      for (let i = 0; i < 300; i++) sockets.push(await tcpSocket(broker.port));
      // Each is dropped once its fixed header shows the size (the test times out otherwise).
      await Promise.all(sockets.map((s) => sendUntilClosed(s, [connectHeader(2 * MiB - 2), body])));
    });
    process.stdout.write(
      `broker RSS ${mb(baseline)} MB, at most +${mb(growth)} MB while 300 sockets sent 2 MiB partial CONNECTs\n`,
    );
    expect(growth).toBeLessThan(100 * MiB);
    await gatewayMessage(broker.port, 2);
  }, 120_000);

  it('300 sockets holding partial CONNECTs just under the limit cost little, and are dropped at the CONNECT timeout', async () => {
    server = await spawnBroker({ maxConnectionsPerAddress: 1000, connectTimeoutMs: 2000 });
    const broker = server;
    await gatewayMessage(broker.port, 1);
    const part = Buffer.alloc(15 * 1024);
    const sockets: Socket[] = [];
    const { baseline, growth } = await peakGrowth(broker, async () => {
      for (let i = 0; i < 300; i++) sockets.push(await tcpSocket(broker.port));
      // Held until the CONNECT timeout drops them.
      await Promise.all(sockets.map((s) => sendUntilClosed(s, [connectHeader(16 * 1024 - 4), part])));
    });
    process.stdout.write(
      `broker RSS ${mb(baseline)} MB, at most +${mb(growth)} MB while 300 sockets held 15 KiB partial CONNECTs\n`,
    );
    expect(growth).toBeLessThan(100 * MiB);
    await gatewayMessage(broker.port, 2);
  }, 120_000);
});
