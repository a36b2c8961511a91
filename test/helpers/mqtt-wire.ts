import { connect, type Socket } from 'node:net';
import { generate, type IConnectPacket, type Packet, parser } from 'mqtt-packet';
import { remainingLength } from '../fuzz/mqtt-encode.ts';

/**
 * Raw MQTT over TCP, for tests that act as an attacker or a device the client libraries would not
 * imitate: partial packets, empty client ids, a chosen source address on the loopback network.
 */

/** A CONNECT frame (MQTT 3.1.1, clean session unless told otherwise). */
export function connectFrame(opts: Omit<IConnectPacket, 'cmd'>): Buffer {
  const base = { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, keepalive: 30, ...opts } as const;
  if (opts.clientId !== '' || opts.clean !== false) return generate({ clean: true, ...base });
  // mqtt-packet will not encode a zero-byte id without a clean session [MQTT-3.1.3-7]; a test
  // needs one anyway, so the clean-session flag (0x02) is cleared after encoding.
  const frame = generate({ ...base, clean: true });
  let flags = 1;
  while ((frame[flags] as number) & 0x80) flags++;
  flags += 1 + 6 + 1; // end of the remaining length, protocol name "MQTT", protocol level
  frame[flags] = (frame[flags] as number) & ~0x02;
  return frame;
}

/** The fixed header of a CONNECT announcing `length` bytes to follow [MQTT-2.2.3]. */
export function connectHeader(length: number): Buffer {
  return Buffer.concat([Buffer.from([0x10]), remainingLength(length)]);
}

/** A connected socket; `localAddress` picks the source address (all of 127.0.0.0/8 is loopback). */
export function tcpSocket(port: number, localAddress?: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', ...(localAddress ? { localAddress } : {}) });
    socket.once('connect', () => {
      socket.off('error', reject);
      // Refused sockets are destroyed by the broker; that may surface as ECONNRESET here.
      socket.on('error', () => {});
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

export interface WireClient {
  socket: Socket;
  /** Packets the broker sent, in order. */
  packets: Packet[];
  closed: Promise<void>;
  /** The first packet of this type the broker sends, or `undefined` if the connection closes first. */
  packet(cmd: Packet['cmd']): Promise<Packet | undefined>;
}

/** Wraps a socket: decodes what the broker sends, and notes when the connection closes. */
export function wireClient(socket: Socket): WireClient {
  const packets: Packet[] = [];
  const waiters: { cmd: Packet['cmd']; resolve(p: Packet): void }[] = [];
  const decoder = parser();
  decoder.on('packet', (p) => {
    packets.push(p);
    for (const w of waiters.filter((x) => x.cmd === p.cmd)) w.resolve(p);
  });
  socket.on('data', (d) => decoder.parse(d));
  const closed = new Promise<void>((resolve) => {
    if (socket.destroyed) resolve();
    else socket.once('close', () => resolve());
  });
  const packet = (cmd: Packet['cmd']) => {
    const seen = packets.find((p) => p.cmd === cmd);
    if (seen) return Promise.resolve(seen);
    return Promise.race([
      new Promise<Packet>((resolve) => waiters.push({ cmd, resolve })),
      closed.then(() => undefined),
    ]);
  };
  return { socket, packets, closed, packet };
}

/** Sends a CONNECT and resolves with the CONNACK's return code, or `closed` without one. */
export async function tryConnect(
  port: number,
  opts: Omit<IConnectPacket, 'cmd'>,
  localAddress?: string,
): Promise<{ returnCode: number | 'closed'; sessionPresent: boolean; client: WireClient }> {
  const client = wireClient(await tcpSocket(port, localAddress));
  client.socket.write(connectFrame(opts));
  const ack = await client.packet('connack');
  if (ack?.cmd !== 'connack') return { returnCode: 'closed', sessionPresent: false, client };
  return { returnCode: ack.returnCode ?? 0, sessionPresent: ack.sessionPresent, client };
}
