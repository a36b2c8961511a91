import { type Packet, parser } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import {
  connectFrame,
  FrameScanner,
  nextPacketId,
  PacketType,
  publishPacketId,
  publishTemplate,
  readRemainingLength,
  subscribeFrame,
  writePuback,
} from '../../../bench/mqtt-frames.ts';

/** Decodes frames with mqtt-packet's own parser, the one aedes uses. */
function decode(buf: Buffer): Packet[] {
  const packets: Packet[] = [];
  const p = parser({ protocolVersion: 4 });
  p.on('packet', (packet: Packet) => packets.push(packet));
  p.on('error', (err: Error) => {
    throw err;
  });
  p.parse(buf);
  return packets;
}

describe('pre-built frames', () => {
  it('logs a gateway in with MQTT 3.1.1', () => {
    const [packet] = decode(
      connectFrame({ clientId: 'north-bench-0', username: 'north-gw', password: 'north-demo' }),
    );
    expect(packet).toMatchObject({
      cmd: 'connect',
      protocolVersion: 4,
      clientId: 'north-bench-0',
      username: 'north-gw',
    });
    expect(String((packet as { password: Buffer }).password)).toBe('north-demo');
  });

  it.each([
    ['a short payload', 'north/zigbee2mqtt/leak-f000001', '{"water_leak":true}'],
    ['a payload needing a 2-byte Remaining Length', 'xincheng/zigbee2mqtt/trv-n000002', 'x'.repeat(300)],
    ['a payload needing a 3-byte Remaining Length', 'east/zigbee2mqtt/lock', 'y'.repeat(20_000)],
  ])('writes the QoS 1 packet id at the right offset for %s', (_name, topic, payload) => {
    const tpl = publishTemplate(topic, payload, 1);
    const frame = Buffer.from(tpl.frame);
    frame.writeUInt16BE(0xbeef, tpl.idOffset as number);
    const [packet] = decode(frame);
    expect(packet).toMatchObject({ cmd: 'publish', qos: 1, topic, messageId: 0xbeef });
    expect(String((packet as { payload: Buffer }).payload)).toBe(payload);
  });

  it('has no packet id at QoS 0', () => {
    const tpl = publishTemplate('east/zigbee2mqtt/x', '{}', 0);
    expect(tpl.idOffset).toBeUndefined();
    expect(decode(tpl.frame)[0]).toMatchObject({ cmd: 'publish', qos: 0, topic: 'east/zigbee2mqtt/x' });
  });

  it('builds PUBACK and SUBSCRIBE frames the parser accepts', () => {
    const puback = Buffer.alloc(4);
    writePuback(puback, 0, 65_535);
    expect(decode(puback)[0]).toMatchObject({ cmd: 'puback', messageId: 65_535 });
    expect(decode(subscribeFrame('#', 1, 7))[0]).toMatchObject({
      cmd: 'subscribe',
      messageId: 7,
      subscriptions: [{ topic: '#', qos: 1 }],
    });
  });

  it('numbers packets 1..65535 and never 0 [MQTT-2.3.1-1]', () => {
    expect(nextPacketId(1)).toBe(2);
    expect(nextPacketId(65_535)).toBe(1);
  });
});

describe('Remaining Length [MQTT-2.2.3]', () => {
  it.each([
    [[0x00], 0, 1],
    [[0x7f], 127, 1],
    [[0x80, 0x01], 128, 2],
    [[0xff, 0x7f], 16_383, 2],
    [[0x80, 0x80, 0x01], 16_384, 3],
    [[0xff, 0xff, 0xff, 0x7f], 268_435_455, 4],
  ])('decodes %j as %i', (bytes, length, used) => {
    expect(readRemainingLength(Buffer.from([0x30, ...bytes]), 1)).toEqual({ length, bytes: used });
  });

  it('waits for the rest of a length cut between two reads', () => {
    expect(readRemainingLength(Buffer.from([0x30, 0x80]), 1)).toBeUndefined();
  });

  it('refuses a fifth length byte', () => {
    expect(() => readRemainingLength(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]), 1)).toThrow(
      /malformed/,
    );
  });
});

describe('FrameScanner', () => {
  const frames = [
    ...Array.from({ length: 5 }, (_, i) => {
      const tpl = publishTemplate(`north/zigbee2mqtt/dev-${i}`, 'z'.repeat(i * 60), 1);
      const f = Buffer.from(tpl.frame);
      f.writeUInt16BE(100 + i, tpl.idOffset as number);
      return f;
    }),
    Buffer.from([0x40, 0x02, 0x00, 0x09]),
  ];
  const stream = Buffer.concat(frames);

  it('finds every packet, its type and its packet id, however the stream is cut', () => {
    for (let cut = 1; cut < stream.length; cut += 7) {
      const seen: string[] = [];
      const scanner = new FrameScanner((type, flags, buf, bodyStart) => {
        if (type === PacketType.publish)
          seen.push(`publish qos${(flags >> 1) & 3} #${publishPacketId(buf, bodyStart)}`);
        else seen.push(`type ${type}`);
      });
      for (let i = 0; i < stream.length; i += cut) scanner.push(stream.subarray(i, i + cut));
      expect(seen).toEqual([
        'publish qos1 #100',
        'publish qos1 #101',
        'publish qos1 #102',
        'publish qos1 #103',
        'publish qos1 #104',
        `type ${PacketType.puback}`,
      ]);
    }
  });
});
