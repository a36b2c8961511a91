import { connect, type Socket } from 'node:net';
import { FrameScanner, PacketType, publishPacketId } from '../../bench/mqtt-frames.ts';
import { type ConnectionPlan, planConnection } from './connection-plan.ts';
import { ackPacket, pingreqPacket, Type } from './mqtt-encode.ts';

/**
 * Runs fuzz connections against a broker until `frames` frames have been written: at most
 * `concurrency` connections open at once, each a planned sequence of frames, each waited for
 * until the broker has closed it. A connection the broker neither answers nor closes within
 * `hangMs` of the client's last word is a hang.
 */
export interface CampaignOptions {
  port: number;
  seed: number;
  frames: number;
  concurrency: number;
  hangMs: number;
  /** Called every `progressEveryMs` while the campaign runs. */
  onProgress?(tally: Readonly<CampaignTally>): void;
  progressEveryMs?: number;
}

export interface CampaignTally {
  /** Frames written in full to a socket the broker had not closed yet. */
  frames: number;
  bytes: number;
  connections: number;
  /** Frames written, by kind (`publish-qos1`, `malformed`, …). */
  byKind: Record<string, number>;
  /** CONNACK return codes seen [MQTT-3.2.2.3]: 0 accepted, 2 id, 3 unavailable (throttle), 4 login, 5 not authorised. */
  connacks: Record<string, number>;
  /** Connections the broker closed before the client was done. */
  closedByBroker: number;
  /** Connections that ended without any CONNACK. */
  withoutConnack: number;
  /** Sockets that could not connect at all. */
  connectErrors: number;
  /** Connection numbers (replay with `planConnection(seed, n)`) the broker left hanging. */
  hung: number[];
}

export async function runCampaign(opts: CampaignOptions): Promise<CampaignTally> {
  const tally: CampaignTally = {
    frames: 0,
    bytes: 0,
    connections: 0,
    byKind: {},
    connacks: {},
    closedByBroker: 0,
    withoutConnack: 0,
    connectErrors: 0,
    hung: [],
  };
  const ticker = opts.onProgress
    ? setInterval(() => opts.onProgress?.(tally), opts.progressEveryMs ?? 5000)
    : undefined;
  let next = 0;
  const worker = async () => {
    while (tally.frames < opts.frames) {
      const plan = planConnection(opts.seed, next++);
      await runConnection(opts, plan, tally);
    }
  };
  try {
    await Promise.all(Array.from({ length: opts.concurrency }, worker));
  } finally {
    if (ticker) clearInterval(ticker);
  }
  return tally;
}

/** What the broker sent back, read just enough to answer it and to see how the login went. */
class Replies {
  connack: number | undefined;
  readonly #waiters = new Map<number, (() => void)[]>();
  readonly #scanner: FrameScanner;

  constructor(socket: Socket, responsive: boolean) {
    this.#scanner = new FrameScanner((type, flags, buf, bodyStart) => {
      if (type === PacketType.connack) this.connack = buf[bodyStart + 1];
      for (const w of this.#waiters.get(type)?.splice(0) ?? []) w();
      if (!responsive || socket.destroyed) return;
      if (type === Type.pubrec) socket.write(ackPacket(Type.pubrel, buf.readUInt16BE(bodyStart)));
      else if (type === PacketType.publish && ((flags >> 1) & 3) === 1)
        socket.write(ackPacket(Type.puback, publishPacketId(buf, bodyStart)));
    });
    socket.on('data', (d) => this.#scanner.push(d));
  }

  /** The next packet of this type (CONNACK: the one already seen counts). */
  next(type: number): Promise<void> {
    if (type === PacketType.connack && this.connack !== undefined) return Promise.resolve();
    return new Promise((resolve) => {
      const list = this.#waiters.get(type) ?? [];
      list.push(resolve);
      this.#waiters.set(type, list);
    });
  }
}

/** Resolves with the winner of `events`, or 'timeout' after `ms` (a watchdog, not a pause). */
async function within<T>(events: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  try {
    return await Promise.race([events, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const writeAll = (socket: Socket, bytes: Buffer) =>
  new Promise<boolean>((resolve) => {
    if (socket.destroyed || !socket.writable) return resolve(false);
    socket.write(bytes, (err) => resolve(!err));
  });

async function runConnection(
  opts: CampaignOptions,
  plan: ConnectionPlan,
  tally: CampaignTally,
): Promise<void> {
  tally.connections++;
  const socket = connect({ port: opts.port, host: '127.0.0.1', localAddress: plan.address });
  socket.setNoDelay(true);
  // Resets and broken pipes are outcomes here, not errors: the broker drops bad clients.
  socket.on('error', () => {});
  let weEnded = false;
  let brokerClosedFirst = false;
  const closed = new Promise<'closed'>((resolve) =>
    socket.once('close', () => {
      brokerClosedFirst ||= !weEnded;
      resolve('closed');
    }),
  );
  socket.once('end', () => {
    brokerClosedFirst ||= !weEnded;
  });
  const replies = new Replies(socket, plan.responsive);
  const opened = await Promise.race([
    new Promise<'open'>((r) => socket.once('connect', () => r('open'))),
    closed,
  ]);
  if (opened === 'closed') {
    tally.connectErrors++;
    return;
  }
  const sent = await send(socket, plan, replies, closed, opts.hangMs, tally);
  const outcome =
    sent === 'timeout'
      ? sent
      : await finish(socket, plan, replies, closed, opts.hangMs, () => {
          weEnded = true;
        });
  if (outcome === 'timeout') tally.hung.push(plan.index);
  weEnded = true;
  socket.destroy();
  await closed;
  if (replies.connack === undefined) tally.withoutConnack++;
  else tally.connacks[replies.connack] = (tally.connacks[replies.connack] ?? 0) + 1;
  if (brokerClosedFirst) tally.closedByBroker++;
}

/** Writes the plan's chunks, counting what went out, until the broker closes the socket. */
async function send(
  socket: Socket,
  plan: ConnectionPlan,
  replies: Replies,
  closed: Promise<'closed'>,
  hangMs: number,
  tally: CampaignTally,
): Promise<'sent' | 'timeout'> {
  let done = 0;
  for (const [i, chunk] of plan.chunks.entries()) {
    if (!(await writeAll(socket, chunk.bytes))) break;
    for (const f of plan.frames.slice(done, chunk.framesDone))
      tally.byKind[f.kind] = (tally.byKind[f.kind] ?? 0) + 1;
    tally.frames += chunk.framesDone - done;
    tally.bytes += chunk.bytes.length;
    done = chunk.framesDone;
    if (i === 0 && plan.awaitConnack) {
      const answered = await within(Promise.race([replies.next(PacketType.connack), closed]), hangMs);
      if (answered === 'timeout') return 'timeout';
    }
  }
  return 'sent';
}

/**
 * The client's last word, then the broker's close. A FIN makes aedes drop what it has not parsed
 * yet, so a client that sent a CONNECT first waits for the CONNACK (or the close): the broker must
 * give one or the other within its CONNECT timeout. An orderly session then sends PINGREQ and
 * waits for PINGRESP: aedes answers it only once every packet before it was parsed and given to
 * the hooks (their answers, PUBACKs, may still follow).
 */
async function finish(
  socket: Socket,
  plan: ConnectionPlan,
  replies: Replies,
  closed: Promise<'closed'>,
  hangMs: number,
  ending: () => void,
): Promise<'closed' | 'timeout'> {
  if (plan.ending === 'reset') {
    ending();
    socket.resetAndDestroy();
    return closed;
  }
  if (plan.frames[0]?.kind.startsWith('connect')) {
    const answered = await within(Promise.race([replies.next(PacketType.connack), closed]), hangMs);
    if (answered === 'timeout') return 'timeout';
  }
  if (plan.ending === 'ping' && !socket.destroyed) {
    await writeAll(socket, pingreqPacket());
    const answered = await within(Promise.race([replies.next(PacketType.pingresp), closed]), hangMs);
    if (answered === 'timeout') return 'timeout';
  }
  ending();
  socket.end();
  return within(closed, hangMs);
}
