/**
 * MQTT 3.1.1 packets encoded by hand, so the fuzz can also write what no client library would:
 * reserved flag bits, invalid UTF-8 and U+0000 in strings, a password without a username, QoS 3.
 * With ordinary arguments the bytes are exactly what the standard prescribes (the generator's
 * unit test decodes them with mqtt-packet).
 */

/** Control packet types [MQTT-2.2.1]. */
export const Type = {
  connect: 1,
  publish: 3,
  puback: 4,
  pubrec: 5,
  pubrel: 6,
  pubcomp: 7,
  subscribe: 8,
  unsubscribe: 10,
  pingreq: 12,
  disconnect: 14,
} as const;

export type Text = string | Buffer;

const bytesOf = (t: Text): Buffer => (typeof t === 'string' ? Buffer.from(t, 'utf8') : t);

/** The variable-length Remaining Length [MQTT-2.2.3]; values past 268,435,455 take a 5th byte (malformed). */
export function remainingLength(n: number): Buffer {
  const out: number[] = [];
  let rest = n;
  do {
    const digit = rest % 128;
    rest = Math.floor(rest / 128);
    out.push(rest > 0 ? digit | 0x80 : digit);
  } while (rest > 0);
  return Buffer.from(out);
}

/** Fixed header (type, flags, length) and body. */
export function packet(type: number, flags: number, body: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from([((type & 0x0f) << 4) | (flags & 0x0f)]),
    remainingLength(body.length),
    body,
  ]);
}

/** A UTF-8 string field: 2-byte length, then the bytes [MQTT-1.5.3]; longer ones are cut at 65,535. */
export function mqttString(t: Text): Buffer {
  const b = bytesOf(t).subarray(0, 0xffff);
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
}

const u16 = (n: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n & 0xffff);
  return b;
};

export interface ConnectFields {
  /** "MQTT" for 3.1.1, "MQIsdp" for 3.1. */
  protocolName?: Text;
  /** 4 for 3.1.1 [MQTT-3.1.2-2]. */
  level?: number;
  clean?: boolean;
  keepalive?: number;
  clientId: Text;
  will?: { topic: Text; payload: Buffer; qos: number; retain: boolean };
  username?: Text;
  password?: Buffer;
  /** Replaces the computed connect flags byte, reserved bit and impossible combinations included. */
  flags?: number;
}

/** CONNECT [MQTT-3.1]: flags follow from the fields unless `flags` is given. */
export function connectPacket(f: ConnectFields): Buffer {
  let flags = 0;
  if (f.clean ?? true) flags |= 0x02;
  if (f.will) flags |= 0x04 | ((f.will.qos & 0x03) << 3) | (f.will.retain ? 0x20 : 0);
  if (f.password !== undefined) flags |= 0x40;
  if (f.username !== undefined) flags |= 0x80;
  const parts = [
    mqttString(f.protocolName ?? 'MQTT'),
    Buffer.from([f.level ?? 4, f.flags ?? flags]),
    u16(f.keepalive ?? 30),
    mqttString(f.clientId),
  ];
  if (f.will) parts.push(mqttString(f.will.topic), mqttString(f.will.payload));
  if (f.username !== undefined) parts.push(mqttString(f.username));
  if (f.password !== undefined) parts.push(mqttString(f.password));
  return packet(Type.connect, 0, Buffer.concat(parts));
}

export interface PublishFields {
  topic: Text;
  payload: Buffer;
  /** 0, 1, 2; 3 is malformed [MQTT-3.3.1-4]. */
  qos: number;
  retain?: boolean;
  dup?: boolean;
  /** Required for QoS 1 and 2; 0 is not a valid id [MQTT-2.3.1-1]. */
  messageId?: number;
}

/** PUBLISH [MQTT-3.3]. */
export function publishPacket(p: PublishFields): Buffer {
  const flags = ((p.dup ? 1 : 0) << 3) | ((p.qos & 0x03) << 1) | (p.retain ? 1 : 0);
  const id = p.qos > 0 ? u16(p.messageId ?? 1) : Buffer.alloc(0);
  return packet(Type.publish, flags, Buffer.concat([mqttString(p.topic), id, p.payload]));
}

/** SUBSCRIBE [MQTT-3.8]: the flags must be 0010 [MQTT-3.8.1-1], unless a test says otherwise. */
export function subscribePacket(
  messageId: number,
  filters: readonly { topic: Text; qos: number }[],
  flags = 0x02,
): Buffer {
  const body = [u16(messageId), ...filters.flatMap((f) => [mqttString(f.topic), Buffer.from([f.qos])])];
  return packet(Type.subscribe, flags, Buffer.concat(body));
}

/** UNSUBSCRIBE [MQTT-3.10]: flags 0010 as for SUBSCRIBE [MQTT-3.10.1-1]. */
export function unsubscribePacket(messageId: number, filters: readonly Text[], flags = 0x02): Buffer {
  return packet(Type.unsubscribe, flags, Buffer.concat([u16(messageId), ...filters.map(mqttString)]));
}

/** PUBACK, PUBREC, PUBCOMP (flags 0) and PUBREL (flags 0010 [MQTT-3.6.1-1]). */
export function ackPacket(type: 4 | 5 | 6 | 7, messageId: number): Buffer {
  return packet(type, type === Type.pubrel ? 0x02 : 0, u16(messageId));
}

export const pingreqPacket = (): Buffer => packet(Type.pingreq, 0, Buffer.alloc(0));
export const disconnectPacket = (): Buffer => packet(Type.disconnect, 0, Buffer.alloc(0));
