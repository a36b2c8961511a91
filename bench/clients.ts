import { Agent, type IncomingMessage, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import {
  connectFrame,
  FrameScanner,
  PacketType,
  publishPacketId,
  subscribeFrame,
  writePuback,
} from './mqtt-frames.ts';
import { hrMicros } from './proc.ts';

/**
 * The clients that run in bench/run.ts itself: the raw MQTT subscriber of scenario A, and the
 * API load of scenario D (a paced request loop and Server-Sent Events listeners).
 */

/** A TCP socket speaking just enough MQTT 3.1.1 to subscribe and count (and acknowledge) PUBLISH. */
export class RawSubscriber {
  received = 0;
  readonly #socket: Socket;

  private constructor(socket: Socket) {
    this.#socket = socket;
  }

  static async connect(port: number, qos: 0 | 1, topic = '#'): Promise<RawSubscriber> {
    const socket = connect({ host: '127.0.0.1', port, noDelay: true });
    const sub = new RawSubscriber(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      const scanner = new FrameScanner((type, flags, buf, bodyStart) => {
        if (type === PacketType.connack) socket.write(subscribeFrame(topic, qos, 1));
        else if (type === PacketType.suback) resolve();
        else if (type === PacketType.publish) sub.#onPublish(flags, buf, bodyStart);
      });
      socket.on('data', (chunk) => {
        scanner.push(chunk);
        sub.#flushAcks();
      });
      socket.write(connectFrame({ clientId: `bench-sub-${process.pid}` }));
    });
    return sub;
  }

  #acks: number[] = [];

  #onPublish(flags: number, buf: Buffer, bodyStart: number): void {
    this.received++;
    if ((flags >> 1) & 3) this.#acks.push(publishPacketId(buf, bodyStart));
  }

  /** One write of every PUBACK owed for a read, rather than one per message. */
  #flushAcks(): void {
    if (this.#acks.length === 0) return;
    const out = Buffer.allocUnsafe(this.#acks.length * 4);
    for (const [i, id] of this.#acks.entries()) writePuback(out, i * 4, id);
    this.#acks = [];
    this.#socket.write(out);
  }

  close(): void {
    this.#socket.destroy();
  }
}

export async function login(baseUrl: string, username: string, password: string): Promise<string> {
  const res = await fetch(`${baseUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (!res.ok) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

export interface HttpWindow {
  requests: number;
  ok: number;
  failed: number;
  /** Requests not sent because 64 were already waiting: the API fell behind the pace. */
  skipped: number;
  latenciesMs: number[];
}

/** GET requests at a steady rate over keep-alive connections, until stopped. */
export class HttpLoad {
  readonly #url: URL;
  readonly #token: string;
  readonly #rate: number;
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 16 });
  #timer: NodeJS.Timeout | undefined;
  #outstanding = 0;
  #window: HttpWindow = emptyWindow();

  constructor(url: string, token: string, ratePerSecond: number) {
    this.#url = new URL(url);
    this.#token = token;
    this.#rate = ratePerSecond;
  }

  start(): void {
    const startedAt = performance.now();
    let issued = 0;
    this.#timer = setInterval(() => {
      const due = Math.floor(((performance.now() - startedAt) * this.#rate) / 1000) - issued;
      for (let i = 0; i < due; i++) {
        issued++;
        if (this.#outstanding >= 64) this.#window.skipped++;
        else this.#get();
      }
    }, 5);
  }

  #get(): void {
    const began = performance.now();
    this.#outstanding++;
    this.#window.requests++;
    const done = (ok: boolean) => {
      this.#outstanding--;
      this.#window.latenciesMs.push(performance.now() - began);
      if (ok) this.#window.ok++;
      else this.#window.failed++;
    };
    const req = request(
      this.#url,
      { agent: this.#agent, headers: { authorization: `Bearer ${this.#token}` } },
      (res) => {
        res.resume();
        res.once('end', () => done(res.statusCode === 200));
        res.once('error', () => done(false));
      },
    );
    req.once('error', () => done(false));
    req.end();
  }

  /** What happened since the last call. */
  take(): HttpWindow {
    const w = this.#window;
    this.#window = emptyWindow();
    return w;
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#agent.destroy();
  }
}

const emptyWindow = (): HttpWindow => ({ requests: 0, ok: 0, failed: 0, skipped: 0, latenciesMs: [] });

/**
 * Live-feed listeners on GET /api/live. All of them read every event; the first also notes
 * when each ticket's `raised` event reached it (publish → ticket visible through the API).
 */
export class SseClients {
  events = 0;
  readonly raisedSeen = new Map<string, number>();
  readonly #responses: IncomingMessage[] = [];
  readonly #agent = new Agent({ keepAlive: false, maxSockets: 1000 });

  async connect(url: string, token: string, count: number): Promise<void> {
    const opened = Array.from({ length: count }, (_, i) => this.#open(url, token, i === 0));
    await Promise.all(opened);
  }

  #open(url: string, token: string, probe: boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        { agent: this.#agent, headers: { authorization: `Bearer ${token}` } },
        (res) => {
          if (res.statusCode !== 200) {
            reject(new Error(`live feed answered ${res.statusCode}`));
            res.resume();
            return;
          }
          this.#responses.push(res);
          res.setEncoding('utf8');
          let pending = '';
          res.on('data', (text: string) => {
            pending += text;
            let end = pending.indexOf('\n\n');
            while (end >= 0) {
              this.#onBlock(pending.slice(0, end), probe);
              pending = pending.slice(end + 2);
              end = pending.indexOf('\n\n');
            }
          });
          res.on('error', () => undefined);
          resolve();
        },
      );
      req.once('error', reject);
      req.end();
    });
  }

  #onBlock(block: string, probe: boolean): void {
    if (!block.includes('event: ticket')) return;
    this.events++;
    if (!probe) return;
    const data = block.split('\n').find((line) => line.startsWith('data: '));
    if (!data) return;
    const { ticket, event } = JSON.parse(data.slice(6)) as {
      ticket: { site: string; assetId: string };
      event: { type: string };
    };
    const key = `${ticket.site}/${ticket.assetId}`;
    if (event.type === 'raised' && !this.raisedSeen.has(key)) this.raisedSeen.set(key, hrMicros());
  }

  get open(): number {
    return this.#responses.filter((r) => !r.destroyed && !r.complete).length;
  }

  close(): void {
    for (const res of this.#responses) res.destroy();
    this.#agent.destroy();
  }
}
