import { generate } from 'mqtt-packet';

/**
 * Pre-encoded MQTT 3.1.1 frames for the load generator and a minimal frame scanner for the raw
 * clients. The generator writes Buffers it built once, so it measures the broker, not an MQTT
 * library's encoder (an MQTT.js publisher saturates before the broker does).
 */

/** Control packet types [MQTT-2.2.1]. */
export const PacketType = {
  connack: 2,
  publish: 3,
  puback: 4,
  suback: 9,
  pingresp: 13,
} as const;

export interface ConnectOptions {
  clientId: string;
  username?: string;
  password?: string;
  keepalive?: number;
}

export function connectFrame(opts: ConnectOptions): Buffer {
  return generate({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clean: true,
    clientId: opts.clientId,
    keepalive: opts.keepalive ?? 60,
    ...(opts.username !== undefined ? { username: opts.username } : {}),
    ...(opts.password !== undefined ? { password: Buffer.from(opts.password) } : {}),
  });
}

export function subscribeFrame(topic: string, qos: 0 | 1, messageId: number): Buffer {
  return generate({ cmd: 'subscribe', messageId, subscriptions: [{ topic, qos }] });
}

export function disconnectFrame(): Buffer {
  return generate({ cmd: 'disconnect' });
}

/** PUBACK is always 4 bytes: 0x40, remaining length 2, packet id [MQTT-3.4]. */
export function writePuback(target: Buffer, offset: number, messageId: number): void {
  target[offset] = PacketType.puback << 4;
  target[offset + 1] = 2;
  target.writeUInt16BE(messageId, offset + 2);
}

/** A PUBLISH frame built once; QoS 1 frames get their packet id written in at `idOffset`. */
export interface PublishTemplate {
  frame: Buffer;
  /** Byte offset of the 2-byte packet identifier, for QoS 1 [MQTT-3.3.2.2]. */
  idOffset: number | undefined;
}

export function publishTemplate(topic: string, payload: string | Buffer, qos: 0 | 1): PublishTemplate {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const frame = generate({
    cmd: 'publish',
    topic,
    payload: body,
    qos,
    retain: false,
    dup: false,
    ...(qos === 1 ? { messageId: 1 } : {}),
  });
  if (qos === 0) return { frame, idOffset: undefined };
  const header = readRemainingLength(frame, 1) as { bytes: number };
  return { frame, idOffset: 1 + header.bytes + 2 + Buffer.byteLength(topic) };
}

/** Packet ids run 1..65535; 0 is not a valid identifier [MQTT-2.3.1-1]. */
export function nextPacketId(id: number): number {
  return id >= 65_535 ? 1 : id + 1;
}

/** The packet id of a QoS > 0 PUBLISH whose variable header starts at `bodyStart`. */
export function publishPacketId(buf: Buffer, bodyStart: number): number {
  const topicLength = buf.readUInt16BE(bodyStart);
  return buf.readUInt16BE(bodyStart + 2 + topicLength);
}

export type PacketHandler = (
  type: number,
  flags: number,
  buf: Buffer,
  bodyStart: number,
  bodyLength: number,
) => void;

/**
 * Splits a TCP byte stream into MQTT packets by their fixed header alone, without decoding
 * them: enough to count PUBLISH and PUBACK packets at several hundred thousand per second.
 * A packet cut across two reads is kept until the rest arrives.
 */
export class FrameScanner {
  #rest: Buffer | undefined;
  readonly #onPacket: PacketHandler;

  constructor(onPacket: PacketHandler) {
    this.#onPacket = onPacket;
  }

  push(chunk: Buffer): void {
    const buf = this.#rest ? Buffer.concat([this.#rest, chunk]) : chunk;
    this.#rest = undefined;
    let pos = 0;
    while (pos < buf.length) {
      const header = readRemainingLength(buf, pos + 1);
      if (!header) break;
      const bodyStart = pos + 1 + header.bytes;
      const end = bodyStart + header.length;
      if (end > buf.length) break;
      const first = buf[pos] as number;
      this.#onPacket(first >> 4, first & 0x0f, buf, bodyStart, header.length);
      pos = end;
    }
    if (pos < buf.length) this.#rest = buf.subarray(pos);
  }
}

/** Decodes the variable-length Remaining Length at `pos`; undefined while incomplete. */
export function readRemainingLength(buf: Buffer, pos: number): { length: number; bytes: number } | undefined {
  let length = 0;
  let multiplier = 1;
  for (let i = 0; i < 4; i++) {
    if (pos + i >= buf.length) return undefined;
    const byte = buf[pos + i] as number;
    length += (byte & 0x7f) * multiplier;
    if (!(byte & 0x80)) return { length, bytes: i + 1 };
    multiplier *= 128;
  }
  throw new Error('malformed Remaining Length (more than 4 bytes) [MQTT-2.2.3]');
}
