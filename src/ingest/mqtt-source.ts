import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient, type Packet } from 'mqtt';
import type { Logger } from '../core/logger.ts';
import type { Service } from '../core/service.ts';
import type { IncomingMessage } from './ingest.ts';

/** Where messages go: `Ingest` in production. */
export interface MessageSink {
  accept(msg: IncomingMessage): Promise<void>;
}

export interface MqttSourceOptions {
  url: string;
  clientId: string;
  username?: string;
  password?: string;
  /** What to subscribe to (read at each connect). */
  filters: () => readonly string[];
  /** Subscribe as `$share/<group>/<filter>` (MQTT 5 shared subscriptions). */
  shareGroup?: string;
  /** How long the broker keeps the session (and queues messages) while xiaoer is away. */
  sessionExpirySeconds?: number;
  /**
   * Messages received and not yet acknowledged (QoS 1) or recorded (QoS 0) on this connection;
   * more are not read meanwhile. 1 is strictly one after the other.
   */
  inFlight?: number;
  /** The service's name in logs and health (one source per partition in a cluster). */
  name?: string;
}

export interface MqttSourceStats {
  clientId: string;
  connected: boolean;
  received: number;
  /** Recorded (what the sink accepted), acknowledged or not yet. */
  recorded: number;
  acknowledged: number;
  /** Received and not yet acknowledged (QoS 1) or recorded (QoS 0). */
  inFlight: number;
}

/** MQTT.js's private packet writer, which the PUBACKs go through (mqtt 5.x, `client.ts`). */
type SendPacket = (packet: Packet, cb?: (err?: Error) => void, ...rest: unknown[]) => void;

const DEFAULT_SESSION_EXPIRY_S = 86_400;
/** MQTT.js reads on at the event loop's next turn after this many messages. */
const YIELD_EVERY = 64;

interface HeldAck {
  ready: Promise<void>;
  release: () => void;
  /** The connection it came on (`#generation`). */
  generation: number;
}

/** How long `abort()` waits for messages being recorded (the store may be what failed). */
const ABORT_DRAIN_MS = 5000;
/** How long `stop()` waits for them before it disconnects anyway (they are sent again). */
const STOP_DRAIN_MS = 15_000;

/**
 * Ingest from an external broker (Mosquitto, EMQX) over MQTT 5. A persistent session (clean:
 * false and a session expiry) and QoS 1 subscriptions make the broker keep messages while xiaoer
 * is away, and a PUBACK goes out only once the message is recorded [MQTT-4.3.2-2].
 *
 * MQTT.js handles one PUBLISH at a time: it sends the PUBACK when `handleMessage` calls back, and
 * reads the next packet only after that. Recording one message at a time capped an external
 * broker's ingest at one store round trip per message, so messages are *pipelined*: MQTT.js is
 * let on to the next packet at once and messages are recorded side by side (each asset's still in
 * arrival order, by the alarm pipeline's per-asset queue), while each PUBACK is held back until
 * its message is recorded and every earlier one acknowledged: in the order the PUBLISHes came
 * [MQTT-4.6.0-2]. At most `inFlight` messages are between arrival and PUBACK; then the socket is
 * not read (the broker, not xiaoer, keeps the rest), and every 64 messages reading waits for the
 * event loop's next turn. A message that could not be recorded is never acknowledged, nor is any
 * after it: the connection is dropped, and the broker sends them all again on the resumed session.
 */
export class MqttSource implements Service {
  readonly name: string;
  readonly #opts: MqttSourceOptions;
  readonly #sink: MessageSink;
  readonly #log: Logger;
  readonly #inFlightMax: number;
  #client: MqttClient | undefined;
  /** Bumped when a connection ends: PUBACKs still waiting belong to it and are dropped. */
  #generation = 0;
  /** Settles when every earlier message of this connection was recorded and acknowledged. */
  #ackTail: Promise<void> = Promise.resolve();
  /**
   * QoS 1 messages by id, from their arrival until MQTT.js asks to send their PUBACK: `ready`
   * settles once they and every earlier message are recorded; `release` ends their count.
   */
  readonly #held = new Map<number, HeldAck>();
  /** MQTT.js callbacks waiting for room in the window (backpressure: the socket is not read). */
  readonly #waiting: (() => void)[] = [];
  #inFlight = 0;
  #idle: (() => void) | undefined;
  #stopping = false;
  readonly #stats = { received: 0, recorded: 0, acknowledged: 0 };

  constructor(opts: MqttSourceOptions, sink: MessageSink, log: Logger) {
    this.#opts = opts;
    this.#sink = sink;
    this.#log = log;
    this.#inFlightMax = Math.max(1, opts.inFlight ?? 64);
    this.name = opts.name ?? 'mqtt-ingest';
  }

  stats(): MqttSourceStats {
    return {
      clientId: this.#opts.clientId,
      connected: this.#client?.connected ?? false,
      received: this.#stats.received,
      recorded: this.#stats.recorded,
      acknowledged: this.#stats.acknowledged,
      inFlight: this.#inFlight,
    };
  }

  async start(): Promise<void> {
    this.#stopping = false;
    const options: IClientOptions = {
      clientId: this.#opts.clientId,
      clean: false,
      protocolVersion: 5,
      // MQTT 5 ends a session when the connection closes unless it has an expiry [MQTT-3.1.2-23].
      properties: { sessionExpiryInterval: this.#opts.sessionExpirySeconds ?? DEFAULT_SESSION_EXPIRY_S },
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      ...(this.#opts.username ? { username: this.#opts.username } : {}),
      ...(this.#opts.password ? { password: this.#opts.password } : {}),
    };
    const client = mqtt.connect(this.#opts.url, options);
    this.#client = client;
    this.#holdAcks(client);
    client.handleMessage = (packet, done) => this.#handle(client, packet, done);
    client.on('error', (err) => this.#log.error({ err: err.message }, 'MQTT client error'));
    client.on('offline', () => this.#log.warn({ url: redact(this.#opts.url) }, 'MQTT broker unreachable'));
    client.on('close', () => this.#connectionEnded());
    // Subscribing on every connect is harmless with a resumed session, and needed after a
    // broker that lost its state; start() resolves only once the first SUBACK is in, so nothing
    // published after start() can miss the subscription.
    const subscribed = new Promise<void>((resolve, reject) => {
      client.on('connect', (connack) => {
        this.#log.info(
          {
            url: redact(this.#opts.url),
            clientId: this.#opts.clientId,
            sessionPresent: connack.sessionPresent,
          },
          'connected to MQTT broker',
        );
        const filters = this.#opts.filters();
        if (filters.length === 0) return resolve();
        const share = this.#opts.shareGroup;
        const request = Object.fromEntries(
          filters.map((f) => [share ? `$share/${share}/${f}` : f, { qos: 1 as const }]),
        );
        client.subscribe(request, (err, granted) => {
          const refused = granted?.filter((g) => g.qos > 2) ?? [];
          if (err || refused.length > 0) {
            const reason = err?.message ?? `refused: ${refused.map((g) => g.topic).join(', ')}`;
            this.#log.error({ err: reason }, 'MQTT subscribe failed');
            reject(new Error(`MQTT subscribe failed (${reason})`));
          } else resolve();
        });
      });
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`cannot reach the MQTT broker at ${redact(this.#opts.url)} (mqtt.url)`)),
        15_000,
      );
    });
    try {
      await Promise.race([subscribed, timeout]);
    } catch (err) {
      await client.endAsync(true);
      this.#client = undefined;
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Outbound messages (ticket notifications) over the same connection, at QoS 1. */
  async publish(topic: string, payload: string): Promise<void> {
    if (!this.#client) throw new Error('the MQTT client is not running');
    await this.#client.publishAsync(topic, payload, { qos: 1 });
  }

  /**
   * Takes no new message (those not taken stay unacknowledged: the broker keeps them for the
   * session), waits for those being recorded and their PUBACKs, then disconnects.
   */
  async stop(): Promise<void> {
    const client = this.#client;
    if (!client) return;
    this.#stopping = true;
    // No reconnect from here on: another instance may be about to take the session over.
    client.options.reconnectPeriod = 0;
    await this.#drained(STOP_DRAIN_MS);
    await this.#ackTail.catch(() => {});
    // A clean DISCONNECT after the PUBACKs are written; forced if the broker does not answer.
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), 5000);
    });
    if ((await Promise.race([client.endAsync(), late])) === 'late') await client.endAsync(true);
    clearTimeout(timer);
    this.#client = undefined;
  }

  /** Resolves when no message is in flight, or after `ms` (recording may hang on a failing store). */
  async #drained(ms: number): Promise<void> {
    if (this.#inFlight === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => {
        this.#idle = resolve;
      }),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, ms);
      }),
    ]);
    clearTimeout(timer);
  }

  /**
   * Drops the connection at once, acknowledging nothing more: this instance lost the right to
   * consume (src/cluster), and another takes the session over. Messages being recorded finish;
   * the broker sends the unacknowledged ones to the session's next holder.
   */
  async abort(): Promise<void> {
    const client = this.#client;
    if (!client) return;
    this.#stopping = true;
    this.#generation++;
    this.#client = undefined;
    client.options.reconnectPeriod = 0;
    await client.endAsync(true);
    // What was being recorded finishes before the caller lets go of its sites, for a while.
    await this.#drained(ABORT_DRAIN_MS);
  }

  #handle(client: MqttClient, packet: IPublishPacket, done: (err?: Error) => void): void {
    // Stopping: leave it unacknowledged; MQTT.js is not let on, so nothing more is read.
    if (this.#stopping) return;
    this.#stats.received++;
    this.#inFlight++;
    const generation = this.#generation;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.#settle();
    };
    const recorded = this.#sink.accept({
      topic: packet.topic,
      payload: toBytes(packet.payload),
      qos: packet.qos,
    });
    recorded.then(
      () => {
        this.#stats.recorded++;
      },
      (err: unknown) => {
        if (generation !== this.#generation) return;
        this.#log.error({ err, topic: packet.topic }, 'message not recorded; reconnecting for redelivery');
        // Without a PUBACK the broker resends the message when the session resumes [MQTT-4.4.0-1],
        // and every one after it, none of which is acknowledged now.
        this.#generation++;
        client.stream.destroy();
      },
    );
    if (packet.qos > 0 && packet.messageId !== undefined) {
      // Its PUBACK waits for it and for every earlier one; it counts until the PUBACK is written.
      const ready = this.#ackTail.then(() => recorded);
      ready.catch(() => {});
      this.#ackTail = ready;
      this.#held.set(packet.messageId, { ready, release, generation });
    } else {
      recorded.then(release, release);
    }
    // A QoS 1 message's PUBACK is asked for at once (and held, #holdAcks), and MQTT.js reads on
    // when that write is done: the window is applied there. A QoS 0 message has no PUBACK.
    if (this.#held.has(packet.messageId ?? -1)) done();
    else this.#readOn(generation, () => done());
  }

  /**
   * Lets MQTT.js read the next packet while fewer than `inFlight` messages are out, and every
   * `YIELD_EVERY` messages only at the event loop's next turn, so that a backlog read in one go
   * leaves timers, the store's commits and the API their turns.
   */
  #readOn(generation: number, next: () => void): void {
    const go = () => {
      if (generation === this.#generation) next();
    };
    if (this.#inFlight >= this.#inFlightMax) this.#waiting.push(go);
    else if (this.#stats.received % YIELD_EVERY === 0) setImmediate(go);
    else go();
  }

  #settle(): void {
    this.#inFlight--;
    this.#waiting.shift()?.();
    if (this.#inFlight === 0) {
      this.#idle?.();
      this.#idle = undefined;
    }
  }

  /**
   * PUBACKs MQTT.js sends for a message still being recorded wait for it (and for every earlier
   * one); MQTT.js is told at once that the PUBACK went, so that it reads on. A PUBACK of a
   * connection that has ended is dropped: MQTT.js would queue it for the next connection, where
   * its message id means another message.
   */
  #holdAcks(client: MqttClient): void {
    const internal = client as unknown as { _sendPacket: SendPacket };
    const send = internal._sendPacket.bind(client);
    internal._sendPacket = (packet, cb, ...rest) => {
      const id = packet.cmd === 'puback' ? packet.messageId : undefined;
      const held = id === undefined ? undefined : this.#held.get(id);
      if (id === undefined || held === undefined) return send(packet, cb, ...rest);
      this.#held.delete(id);
      held.ready.then(
        () => {
          if (held.generation === this.#generation && client.connected) {
            this.#stats.acknowledged++;
            send(packet);
          }
          held.release();
        },
        () => held.release(),
      );
      // MQTT.js reads the next packet when told its PUBACK is written: when there is room.
      this.#readOn(held.generation, () => cb?.());
    };
  }

  #connectionEnded(): void {
    this.#generation++;
    // Their PUBACKs will never be sent; each stops counting once its recording is over.
    for (const held of this.#held.values()) held.ready.then(held.release, held.release);
    this.#held.clear();
    this.#ackTail = Promise.resolve();
    // MQTT.js reads the next connection afresh; the old one's pending reads are void.
    this.#waiting.length = 0;
  }
}

function toBytes(payload: Buffer | string): Uint8Array {
  return typeof payload === 'string' ? Buffer.from(payload) : payload;
}

function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
