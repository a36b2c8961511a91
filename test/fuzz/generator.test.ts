import { type Packet, parser } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { planConnection } from './connection-plan.ts';
import { gatewayConnect, publishFrame } from './frames.ts';
import { ackPacket, subscribePacket, unsubscribePacket } from './mqtt-encode.ts';
import { Rng } from './random.ts';
import { spareSentinel } from './topics.ts';

/** Decodes bytes with mqtt-packet, the parser aedes itself uses. */
function decode(bytes: Buffer): { packets: Packet[]; errors: string[] } {
  const packets: Packet[] = [];
  const errors: string[] = [];
  const p = parser({ protocolVersion: 4 });
  p.on('packet', (x) => packets.push(x));
  p.on('error', (e) => errors.push(e.message));
  p.parse(bytes);
  return { packets, errors };
}

describe('MQTT fuzz generator', () => {
  it('encodes a gateway login and tame publishes that mqtt-packet decodes to what was meant', () => {
    const rng = new Rng(7);
    for (let i = 0; i < 50; i++) {
      const { packets, errors } = decode(gatewayConnect(rng, 'north').bytes);
      expect(errors).toEqual([]);
      expect(packets[0]).toMatchObject({ cmd: 'connect', protocolVersion: 4, username: 'north-gw' });
      expect(String((packets[0] as { password?: Buffer }).password)).toBe('north-demo');
    }
    for (let i = 0; i < 300; i++) {
      const frame = publishFrame(rng, 'east', true);
      const { packets, errors } = decode(frame.bytes);
      expect(errors).toEqual([]);
      expect(packets).toHaveLength(1);
      expect(packets[0]).toMatchObject({ cmd: 'publish', qos: Number(frame.kind.slice(-1)) });
      expect((packets[0] as { topic: string }).topic.startsWith('east/')).toBe(true);
    }
  });

  it('encodes SUBSCRIBE, UNSUBSCRIBE and the acknowledgements by the standard', () => {
    expect(decode(subscribePacket(9, [{ topic: 'north/#', qos: 1 }])).packets[0]).toMatchObject({
      cmd: 'subscribe',
      messageId: 9,
      subscriptions: [{ topic: 'north/#', qos: 1 }],
    });
    expect(decode(unsubscribePacket(10, ['north/#'])).packets[0]).toMatchObject({
      cmd: 'unsubscribe',
      messageId: 10,
      unsubscriptions: ['north/#'],
    });
    expect(decode(ackPacket(6, 11)).packets[0]).toMatchObject({ cmd: 'pubrel', messageId: 11 });
  });

  it('derives the same connections from the same seed, and others from another', () => {
    const bytes = (seed: number, index: number) =>
      Buffer.concat(planConnection(seed, index).frames.map((f) => f.bytes));
    for (const index of [0, 7, 1234]) {
      expect(bytes(42, index).equals(bytes(42, index))).toBe(true);
      expect(bytes(42, index).equals(bytes(43, index))).toBe(false);
    }
  });

  it('splits a connection into chunks that add up to its frames', () => {
    for (let index = 0; index < 200; index++) {
      const plan = planConnection(5, index);
      const frames = Buffer.concat(plan.frames.map((f) => f.bytes));
      expect(Buffer.concat(plan.chunks.map((c) => c.bytes)).equals(frames)).toBe(true);
      expect(plan.chunks.at(-1)?.framesDone).toBe(plan.frames.length);
    }
  });

  it('keeps its own topics off the sentinel asset, which the leak check afterwards uses', () => {
    expect(spareSentinel('xincheng/zigbee2mqtt/leak-b1-riser')).toBe(
      'xincheng/zigbee2mqtt/leak-b1-riser-fuzz',
    );
    expect(spareSentinel('xincheng/v3/app/devices/leak-b1-riser/up')).toBe(
      'xincheng/v3/app/devices/leak-b1-riser-fuzz/up',
    );
    expect(spareSentinel('north/zigbee2mqtt/leak-b1-riser')).toBe('north/zigbee2mqtt/leak-b1-riser');
  });
});
