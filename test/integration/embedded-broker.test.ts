import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddedBroker } from '../../broker/embedded-broker.ts';
import { Directory } from '../../src/config/directory.ts';
import type { IncomingMessage } from '../../src/ingest/ingest.ts';
import { exampleConfig, silentLog } from '../helpers/domain.ts';
import { waitFor } from '../helpers/wait.ts';

/** Each published message waits here until the test decides how recording ends. */
class ControlledRecorder {
  readonly pending: { msg: IncomingMessage; resolve(): void; reject(err: Error): void }[] = [];
  onPublish = (msg: IncomingMessage) =>
    new Promise<void>((resolve, reject) => {
      this.pending.push({ msg, resolve, reject });
    });
}

describe('embedded broker: acknowledgement only after recording', () => {
  let broker: EmbeddedBroker;
  let recorder: ControlledRecorder;
  const clients: MqttClient[] = [];

  const newBroker = (port = 0) =>
    new EmbeddedBroker({
      directory: new Directory(exampleConfig()),
      host: '127.0.0.1',
      port,
      maxPacketBytes: 2 * 1024 * 1024,
      limits: exampleConfig().mqtt,
      log: silentLog,
      onPublish: recorder.onPublish,
    });

  beforeEach(async () => {
    recorder = new ControlledRecorder();
    broker = newBroker();
    await broker.start();
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
    await broker.stop();
  });

  const connect = async (opts: mqtt.IClientOptions = {}) => {
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, {
      username: 'xincheng-gw',
      password: 'xincheng-demo',
      clientId: `xincheng-test-${Math.random().toString(16).slice(2, 8)}`,
      reconnectPeriod: 0,
      ...opts,
    });
    clients.push(c);
    return c;
  };

  it('withholds the QoS 1 PUBACK until the message is recorded', async () => {
    const gw = await connect();
    let acked = false;
    const ack = gw
      .publishAsync('xincheng/zigbee2mqtt/leak-b1-riser', '{"water_leak":true}', { qos: 1 })
      .then(() => {
        acked = true;
      });
    const pending = await waitFor(() => recorder.pending[0], { what: 'the message to reach the recorder' });
    // Not waiting for an outcome but giving a wrong one time to show: a PUBACK sent before the
    // recorder finished would arrive within this on any machine.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(acked).toBe(false);
    pending.resolve();
    await ack;
    expect(acked).toBe(true);
    expect(Buffer.from(pending.msg.payload).toString()).toBe('{"water_leak":true}');
  });

  it('sends no PUBACK when recording fails, and the gateway redelivers the message after reconnecting', async () => {
    const gw = await connect({ clientId: 'xincheng-gw-1', clean: false, reconnectPeriod: 200 });
    let acked = false;
    void gw.publishAsync('xincheng/zigbee2mqtt/leak-b1-riser', '{"water_leak":true}', { qos: 1 }).then(() => {
      acked = true;
    });
    const first = await waitFor(() => recorder.pending[0], { what: 'first delivery' });
    first.reject(new Error('disk full'));
    // MQTT.js keeps the unacknowledged message and resends it with DUP set [MQTT-4.4.0-1].
    const second = await waitFor(() => recorder.pending[1], { what: 'redelivery', timeoutMs: 5000 });
    expect(acked).toBe(false);
    expect(Buffer.from(second.msg.payload).toString()).toBe('{"water_leak":true}');
    second.resolve();
    await waitFor(() => (acked ? true : undefined), { what: 'PUBACK after redelivery' });
  });

  it('passes messages on other sites to nobody and closes the offending connection', async () => {
    const gw = await connect();
    const closed = new Promise<void>((resolve) => gw.once('close', () => resolve()));
    gw.publish('north/zigbee2mqtt/leak-b1-riser', '{"water_leak":true}', { qos: 1 });
    await closed;
    expect(recorder.pending).toEqual([]);
  });

  it('lets a gateway subscribe only within its own site', async () => {
    const gw = await connect();
    const granted = await gw.subscribeAsync('xincheng/#', { qos: 1 });
    expect(granted.map((g) => [g.topic, g.qos])).toEqual([['xincheng/#', 1]]);
    // SUBACK return code 0x80 (failure) [MQTT-3.9.3]: MQTT.js reports it as an error.
    await expect(gw.subscribeAsync('#', { qos: 1 })).rejects.toThrow(/Subscribe error/);
    await expect(gw.subscribeAsync('north/#', { qos: 0 })).rejects.toThrow(/Subscribe error/);
  });

  it('rejects topics deeper than the level limit without crashing', async () => {
    const gw = await connect();
    const closed = new Promise<void>((resolve) => gw.once('close', () => resolve()));
    gw.publish(`xincheng/${'x/'.repeat(40)}end`, 'deep', { qos: 0 });
    await closed;
    const again = await connect();
    expect(again.connected).toBe(true);
  });

  it('closes a connection that announces an oversized packet before buffering it', async () => {
    const { connect: tcp } = await import('node:net');
    const socket = tcp(broker.port, '127.0.0.1');
    socket.on('error', () => {});
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    // CONNECT (0x10) announcing 200 MB [MQTT-2.2.3]: 200 MB as a 4-byte variable length.
    const length = 200 * 1024 * 1024;
    const varint = [
      (length & 0x7f) | 0x80,
      ((length >> 7) & 0x7f) | 0x80,
      ((length >> 14) & 0x7f) | 0x80,
      (length >> 21) & 0x7f,
    ];
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write(Buffer.from([0x10, ...varint]));
    socket.write(Buffer.alloc(64 * 1024));
    await closed;
    expect(socket.destroyed).toBe(true);
    // The broker keeps serving others.
    expect((await connect()).connected).toBe(true);
  });

  it('does not record wills or late messages while shutting down', async () => {
    await connect({
      clientId: 'xincheng-will',
      will: {
        topic: 'xincheng/zigbee2mqtt/lock-3f-east/availability',
        payload: Buffer.from('offline'),
        qos: 1,
        retain: false,
      },
    });
    await broker.stop();
    expect(recorder.pending).toEqual([]);
    broker = newBroker();
    await broker.start();
  });

  it('names the setting to change when the port is taken', async () => {
    const second = newBroker(broker.port);
    await expect(second.start()).rejects.toThrow(
      `MQTT port ${broker.port} is already in use; choose another with MQTT_PORT`,
    );
  });
});
