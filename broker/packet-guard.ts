import type { Socket } from 'node:net';
import { Duplex, Transform, type TransformCallback } from 'node:stream';

export interface PacketSizeLimits {
  /** The first packet, which must be the CONNECT [MQTT-3.1.0-1]: read before any login. */
  maxConnectBytes: number;
  /** Every later packet. */
  maxPacketBytes: number;
}

/**
 * Measures each MQTT packet's announced size from its fixed header [MQTT-2.2.3] and destroys the
 * connection when one is larger than allowed. aedes' parser would otherwise buffer a packet of up
 * to 256 MB (the protocol maximum) before anything, even the login, is checked.
 *
 * Only the first packet gets the small CONNECT limit. A client may send further packets right
 * after its CONNECT without waiting for the CONNACK (MQTT 3.1.1 section 3.1.4), so the stream
 * cannot tell here when the login has succeeded; the first packet is the only one known to come
 * before it. aedes pauses reading while it authenticates, so later packets wait in the socket.
 */
/**
 * Told of each chunk passed on and how many PUBLISH packets began in it; the next chunk is read
 * once `resume` is called (see broker/flow-control.ts).
 */
export type ChunkGate = (publishes: number, resume: () => void) => void;

const PUBLISH = 3;
/** PUBLISH packets handed to aedes in one turn of the event loop, per connection. */
const SLICE_PUBLISHES = 64;
/** A read with at least this many PUBLISH packets corks its socket and yields after it. */
const YIELD_AT = 8;

export class PacketSizeGuard extends Transform {
  readonly #limits: PacketSizeLimits;
  /** Set once the connection is known (its login); until then chunks pass at once. */
  gate: ChunkGate | undefined;
  #maxBytes: number;
  #state: 'type' | 'length' | 'body' = 'type';
  #length = 0;
  #multiplier = 1;
  #lengthBytes = 0;
  #remaining = 0;

  /** The connection's socket, corked while a slice is handled so its acknowledgements go out in one write. */
  readonly #socket: Socket | undefined;
  #corked = false;

  constructor(limits: PacketSizeLimits, socket?: Socket) {
    super();
    this.#limits = limits;
    this.#maxBytes = limits.maxConnectBytes;
    this.#socket = socket;
  }

  /**
   * Holds the socket's writes until the end of this turn of the event loop: the PUBACKs of a
   * slice of QoS 1 messages then leave in one system call instead of one each.
   */
  #cork(): void {
    const socket = this.#socket;
    if (!socket || this.#corked) return;
    this.#corked = true;
    socket.cork();
    setImmediate(() => {
      this.#corked = false;
      socket.uncork();
    });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.#scan(chunk, 0, done);
  }

  /**
   * Measures the packets of `chunk` from `from` on. With a gate, the bytes are passed on in slices
   * of at most SLICE_PUBLISHES PUBLISH packets, and the next slice is scanned only on a later turn
   * of the event loop (setImmediate), once the gate lets it: a 64 KiB read of small messages is a
   * few hundred messages, and handling them in one go would keep timers and the API waiting.
   */
  #scan(chunk: Buffer, from: number, done: TransformCallback): void {
    // The connection may have closed while a slice waited for its turn.
    if (this.destroyed) return;
    let i = from;
    let publishes = 0;
    while (i < chunk.length) {
      if (this.#state === 'type') {
        if (publishes === SLICE_PUBLISHES && this.gate) {
          const at = i;
          this.#cork();
          this.push(chunk.subarray(from, at));
          this.gate(publishes, () => setImmediate(() => this.#scan(chunk, at, done)));
          return;
        }
        if ((chunk[i++] as number) >> 4 === PUBLISH) publishes++;
        this.#state = 'length';
        this.#length = 0;
        this.#multiplier = 1;
        this.#lengthBytes = 0;
      } else if (this.#state === 'length') {
        const byte = chunk[i++] as number;
        this.#length += (byte & 0x7f) * this.#multiplier;
        this.#multiplier *= 128;
        this.#lengthBytes++;
        if (this.#length > this.#maxBytes || (byte & 0x80 && this.#lengthBytes >= 4)) {
          done(
            new Error(`MQTT packet of ${this.#length} bytes or more exceeds the limit of ${this.#maxBytes}`),
          );
          return;
        }
        if (!(byte & 0x80)) {
          // The first packet's size is known now: every later one is held to the general limit.
          this.#maxBytes = this.#limits.maxPacketBytes;
          this.#remaining = this.#length;
          this.#state = this.#remaining === 0 ? 'type' : 'body';
        }
      } else {
        const take = Math.min(this.#remaining, chunk.length - i);
        i += take;
        this.#remaining -= take;
        if (this.#remaining === 0) this.#state = 'type';
      }
    }
    const rest = from === 0 ? chunk : chunk.subarray(from);
    if (!this.gate) {
      done(null, rest);
      return;
    }
    // A read of a few messages (a gateway at a normal pace) costs neither a cork nor a yield: the
    // point of both is a read of many.
    if (publishes >= YIELD_AT) this.#cork();
    this.push(rest);
    // A large slice ends its turn: the next read waits for the loop's next turn too.
    this.gate(publishes, publishes >= YIELD_AT ? () => setImmediate(done) : () => done());
  }
}

/** The socket as aedes sees it: reads go through the guard, writes go straight to the socket. */
export function guardedConnection(
  socket: Socket,
  limits: PacketSizeLimits,
): { conn: Duplex; guard: PacketSizeGuard } {
  const guard = new PacketSizeGuard(limits, socket);
  socket.pipe(guard);
  const conn = Duplex.from({ readable: guard, writable: socket });
  const destroyAll = () => {
    socket.destroy();
    conn.destroy();
  };
  guard.once('error', destroyAll);
  // aedes listens for errors on `conn`; a reset socket must not become an uncaught exception.
  socket.on('error', destroyAll);
  socket.once('close', () => conn.destroy());
  return { conn, guard };
}
