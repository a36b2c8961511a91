import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { PacketSizeGuard } from '../../../broker/packet-guard.ts';

const LIMITS = { maxConnectBytes: 1024, maxPacketBytes: 4096 };

const connect = mqttPacket.generate({
  cmd: 'connect',
  protocolId: 'MQTT',
  protocolVersion: 4,
  clean: true,
  clientId: 'gw',
  keepalive: 60,
});
const publish = (n: number) =>
  mqttPacket.generate({
    cmd: 'publish',
    topic: 'xincheng/zigbee2mqtt/leak-b1-riser',
    payload: Buffer.from(`{"water_leak":false,"n":${n}}`),
    qos: 0,
    retain: false,
    dup: false,
  });

/** Runs `bytes` through a guard whose gate records each slice's publish count and lets it go. */
async function through(bytes: Buffer): Promise<{ out: Buffer; slices: number[] }> {
  const guard = new PacketSizeGuard(LIMITS);
  const slices: number[] = [];
  guard.gate = (publishes, resume) => {
    slices.push(publishes);
    resume();
  };
  const parts: Buffer[] = [];
  guard.on('data', (b: Buffer) => parts.push(b));
  const ended = new Promise((resolve, reject) => {
    guard.once('end', resolve);
    guard.once('error', reject);
  });
  guard.end(bytes);
  await ended;
  return { out: Buffer.concat(parts), slices };
}

describe('packet guard', () => {
  it('passes a read of 200 messages on in slices of at most 64 publishes, byte for byte', async () => {
    const bytes = Buffer.concat([connect, ...Array.from({ length: 200 }, (_, n) => publish(n))]);
    const { out, slices } = await through(bytes);
    expect(out.equals(bytes)).toBe(true);
    expect(slices).toEqual([64, 64, 64, 8]);
  });

  it('counts a publish whose bytes are split over two reads once, in the read it began in', async () => {
    const guard = new PacketSizeGuard(LIMITS);
    const slices: number[] = [];
    guard.gate = (publishes, resume) => {
      slices.push(publishes);
      resume();
    };
    guard.resume();
    const p = publish(1);
    const done = new Promise((resolve) => guard.once('end', resolve));
    guard.write(Buffer.concat([connect, p.subarray(0, 5)]));
    guard.end(p.subarray(5));
    await done;
    expect(slices).toEqual([1, 0]);
  });

  it('refuses a first packet over the CONNECT limit before any body byte is buffered', async () => {
    const huge = Buffer.from([0x10, 0xff, 0xff, 0x03]);
    await expect(through(huge)).rejects.toThrow(/exceeds the limit of 1024/);
  });
});
