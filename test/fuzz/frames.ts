import { seedMessages } from './fixtures.ts';
import {
  ackPacket,
  connectPacket,
  disconnectPacket,
  packet,
  pingreqPacket,
  publishPacket,
  remainingLength,
  subscribePacket,
  type Text,
  Type,
  unsubscribePacket,
} from './mqtt-encode.ts';
import { payloadFor } from './payloads.ts';
import type { Rng } from './random.ts';
import { adapterTopic, filterFor, oddTopic, SITES } from './topics.ts';

/** One frame of a connection's byte stream, named for the tally. */
export interface Frame {
  kind: string;
  bytes: Buffer;
}

const frame = (kind: string, bytes: Buffer): Frame => ({ kind, bytes });

const messageId = (rng: Rng): number => (rng.chance(0.02) ? 0 : rng.int(1, 65_535));

/** A gateway's own login, as the example config has it. */
export function gatewayConnect(rng: Rng, site: string): Frame {
  return frame(
    'connect',
    connectPacket({
      clientId: rng.pick([
        `${site}-z2m`,
        `DVES_${rng.int(0, 0xffffff).toString(16)}`,
        `mqttjs_${rng.int(0, 1e6)}`,
        '',
      ]),
      clean: rng.chance(0.9),
      keepalive: rng.pick([0, 10, 60, 65_535]),
      username: `${site}-gw`,
      password: Buffer.from(`${site}-demo`),
      ...(rng.chance(0.15)
        ? {
            will: {
              topic: publishTopic(rng, site),
              payload: payloadFor(rng, rng.pick(seedMessages())),
              qos: rng.int(0, 2),
              retain: rng.chance(0.2),
            },
          }
        : {}),
    }),
  );
}

/** Client ids, usernames: empty, at and past the limits, not UTF-8, with U+0000. */
function oddText(rng: Rng, site: string): Text {
  return rng.pick<() => Text>([
    () => '',
    () => 'x'.repeat(23),
    () => 'x'.repeat(rng.int(24, 256)),
    () => 'x'.repeat(rng.int(257, 5000)),
    () => `${site}-gw`,
    () => `${site}-gw\u0000evil`,
    () => '\u0000',
    () => Buffer.from([0x61, 0xff, 0x62]),
    () => '网关',
    () => '#',
    () => `${site}-GW`,
    () => ' ',
  ])();
}

/** A CONNECT that is wrong in some way: fields, flags, protocol, password. */
export function oddConnect(rng: Rng, site: string): Frame {
  const username = rng.chance(0.8) ? oddText(rng, site) : undefined;
  const password = rng.weighted<Buffer | undefined>([
    [Buffer.from(`${site}-demo`), 3],
    [Buffer.from(`${site}-wrong-${rng.int(0, 99)}`), 4],
    [Buffer.alloc(0), 1],
    [rng.bytes(rng.int(1, 3000)), 1],
    [undefined, 1],
  ]);
  const protocol = rng.weighted<[Text, number]>([
    [['MQTT', 4], 20],
    [['MQIsdp', 3], 2],
    [['MQTT', 5], 2],
    [['MQTT', rng.int(0, 255)], 1],
    [['mqtt', 4], 1],
    [[rng.bytes(rng.int(0, 8)), 4], 1],
  ]);
  const fields = {
    protocolName: protocol[0],
    level: protocol[1],
    clean: rng.chance(0.7),
    keepalive: rng.int(0, 65_535),
    clientId: oddText(rng, site),
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
    // Reserved bit set [MQTT-3.1.2-3], or any flag byte at all.
    ...(rng.chance(0.15) ? { flags: rng.chance(0.5) ? 0xc3 : rng.int(0, 255) } : {}),
  };
  return frame('connect-odd', connectPacket(fields));
}

/** A wrong password for a real gateway: what the login throttle is for. */
export function wrongPasswordConnect(rng: Rng, site: string): Frame {
  return frame(
    'connect-wrong-password',
    connectPacket({
      clientId: `guess-${rng.int(0, 1e6)}`,
      username: `${site}-gw`,
      password: Buffer.from(rng.pick([`${site}-demo1`, 'password', '123456', `${site}-Demo`, ''])),
    }),
  );
}

/** Mostly an adapter topic of the site; now and then another site's or one no adapter routes. */
function publishTopic(rng: Rng, site: string): Text {
  if (rng.chance(0.9)) return adapterTopic(rng, site, rng.pick(seedMessages()));
  if (rng.chance(0.5)) return adapterTopic(rng, rng.pick(SITES), rng.pick(seedMessages()));
  return oddTopic(rng, site);
}

/**
 * A PUBLISH with a mutated fixture payload. Untamed, about 1 in 20 also breaks the session (QoS 3,
 * a topic the broker refuses); `tame` ones only carry bad payloads, for long pipelines.
 */
export function publishFrame(rng: Rng, site: string, tame = false): Frame {
  const seed = rng.pick(seedMessages());
  const qos = rng.weighted<number>([
    [0, 45],
    [1, 40],
    [2, 14],
    [3, tame ? 0 : 1], // malformed [MQTT-3.3.1-4]
  ]);
  const topic = tame || rng.chance(0.97) ? adapterTopic(rng, site, seed, tame) : oddTopic(rng, site);
  const bytes = publishPacket({
    topic,
    payload: payloadFor(rng, seed),
    qos,
    retain: rng.chance(0.05),
    dup: rng.chance(0.05),
    messageId: tame ? rng.int(1, 65_535) : messageId(rng),
  });
  return frame(`publish-qos${qos}`, bytes);
}

/** Broken at the framing level: the broker must drop the connection, nothing worse. */
export function malformedFrame(rng: Rng): Frame {
  const bytes = rng.pick<() => Buffer>([
    () => Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x7f]), // a 5-byte Remaining Length [MQTT-2.2.3]
    () =>
      Buffer.concat([Buffer.from([0x30]), remainingLength(rng.int(3_000_000, 268_435_455)), rng.bytes(8)]),
    () => Buffer.from([0x30, 0x80, 0x00]), // a non-minimal length encoding
    () => packet(0, 0, rng.bytes(rng.int(0, 10))), // reserved type 0
    () => packet(15, 0, rng.bytes(rng.int(0, 10))), // reserved type 15 (AUTH, MQTT 5 only)
    () => packet(Type.subscribe, 0, rng.bytes(rng.int(0, 20))), // wrong SUBSCRIBE flags
    () => packet(Type.pingreq, 0x0f, Buffer.alloc(0)),
    () => packet(Type.pubrel, 0, Buffer.from([0, 1])), // PUBREL without its 0010 flags
    () => packet(Type.publish, 0x02, Buffer.from([0, 5, 0x61])), // topic length past the packet
    () => packet(Type.subscribe, 0x02, Buffer.from([0, 1])), // a SUBSCRIBE with no filter [MQTT-3.8.3-3]
    () => packet(Type.unsubscribe, 0x02, Buffer.from([0, 1])),
    () => packet(Type.connect, 0, Buffer.from([0, 4, 0x4d, 0x51])), // a CONNECT that ends inside its fields
  ])();
  return frame('malformed', bytes);
}

/**
 * Bytes after which the broker may rightly wait for more: random bytes (they may announce a
 * length), a header announcing more than follows, a packet cut short.
 */
export function truncatedFrame(rng: Rng): Frame {
  const bytes = rng.pick<() => Buffer>([
    () => rng.bytes(rng.int(1, 300)),
    () => Buffer.concat([Buffer.from([0x32]), remainingLength(rng.int(10, 5000)), rng.bytes(rng.int(0, 9))]),
    () => {
      const whole = publishPacket({
        topic: 'xincheng/zigbee2mqtt/x',
        payload: Buffer.from('{}'),
        qos: 1,
        messageId: 7,
      });
      return whole.subarray(0, rng.int(1, whole.length - 1));
    },
  ])();
  return frame('truncated', bytes);
}

function subscribeFrame(rng: Rng, site: string): Frame {
  const qos = () =>
    rng.weighted<number>([
      [0, 30],
      [1, 30],
      [2, 10],
      [3, 1],
    ]);
  const filters = Array.from({ length: rng.int(1, 3) }, () => ({ topic: filterFor(rng, site), qos: qos() }));
  return frame('subscribe', subscribePacket(messageId(rng), filters));
}

function unsubscribeFrame(rng: Rng, site: string): Frame {
  const filters = Array.from({ length: rng.int(1, 3) }, () => filterFor(rng, site));
  return frame('unsubscribe', unsubscribePacket(messageId(rng), filters));
}

/**
 * Anything a logged-in client may send after its CONNECT. About 1 frame in 20 makes the broker
 * close the connection (a refused topic or filter, broken framing, a second CONNECT, DISCONNECT),
 * so a session gets through some 20 frames on average before it ends.
 */
export function sessionFrame(rng: Rng, site: string): Frame {
  return rng.weighted<() => Frame>([
    [() => publishFrame(rng, site), 70],
    [() => subscribeFrame(rng, site), 5],
    [() => unsubscribeFrame(rng, site), 3],
    [() => frame('pingreq', pingreqPacket()), 6],
    [() => frame('ack', ackPacket(rng.pick([4, 5, 6, 7] as const), messageId(rng))), 6],
    [() => ({ ...oddConnect(rng, site), kind: 'connect-again' }), 1], // a second CONNECT [MQTT-3.1.0-2]
    [() => malformedFrame(rng), 1.5],
    [() => truncatedFrame(rng), 0.5],
    [() => frame('disconnect', disconnectPacket()), 1],
  ])();
}
