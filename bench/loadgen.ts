import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { type Device, type FleetSpec, leakPayload, normalPayload, siteFleet, topicOf } from './fleet.ts';
import {
  connectFrame,
  disconnectFrame,
  FrameScanner,
  nextPacketId,
  PacketType,
  type PublishTemplate,
  publishTemplate,
} from './mqtt-frames.ts';
import { hrMicros } from './proc.ts';
import { serveRpc } from './rpc.ts';

/**
 * The load generator (a child process of bench/run.ts): gateway connections that write
 * pre-encoded PUBLISH frames in batches, honouring TCP backpressure and, at QoS 1, a window of
 * unacknowledged packets per connection. Either as fast as the broker takes them, at a steady
 * rate, or one message per device (`sweep`).
 */

export interface LoadSpec {
  host: string;
  port: number;
  qos: 0 | 1;
  fleet: FleetSpec;
  connectionsPerSite: number;
  /** Every n-th message of a connection is a leak on the next fault-pool device; 0: none. */
  faultEvery: number;
  /** Where each site's fault pool continues, so no two phases fault the same asset. */
  faultCursor: Record<string, number>;
  /** Messages per second over all connections; absent: as fast as the broker takes them. */
  rate?: number;
  /** One message per device of the fleet, then idle. */
  sweep?: boolean;
  /** Messages per connection, then idle (a fixed amount to drain through an external broker). */
  limit?: number;
  /** Unacknowledged QoS 1 packets per connection. */
  window: number;
  /** Frames per write. */
  batch: number;
}

export interface LoadSample {
  sent: number;
  acked: number;
  /** Share of the generator's event loop that was busy since the last sample (0..1). */
  busy: number;
}

export interface LoadResult extends LoadSample {
  /** `<site>/<asset>` → when its leak was written (µs on the shared monotonic clock). */
  faultSends: [string, number][];
  faultCursor: Record<string, number>;
}

interface Item {
  tpl: PublishTemplate;
  faultKey?: string;
}

/** Per site: the normal frames cycled through and the fault frames used once each. */
class SiteFrames {
  readonly normal: PublishTemplate[];
  readonly fault: { tpl: PublishTemplate; key: string }[];
  readonly sweep: PublishTemplate[];
  cursor: number;

  constructor(spec: LoadSpec, site: string) {
    const fleet = siteFleet(spec.fleet, site);
    const tpl = (d: Device, payload: string) => publishTemplate(topicOf(d), payload, spec.qos);
    this.normal = fleet.normal.map((d) => tpl(d, normalPayload(d)));
    this.fault = fleet.fault.map((d) => ({ tpl: tpl(d, leakPayload(d.n, true)), key: `${site}/${d.id}` }));
    // A sweep repeats the seeded leaks (their tickets stay open) and reports normal values elsewhere.
    this.sweep = spec.sweep
      ? [
          ...this.normal,
          ...fleet.fault.map((d) => tpl(d, leakPayload(d.n, false))),
          ...fleet.seeded.map((d) => tpl(d, leakPayload(d.n, true))),
        ]
      : [];
    this.cursor = spec.faultCursor[site] ?? 0;
  }

  nextFault(): { tpl: PublishTemplate; key: string } | undefined {
    if (this.fault.length === 0) return undefined;
    return this.fault[this.cursor++ % this.fault.length];
  }
}

class Publisher {
  readonly #socket: Socket;
  readonly #spec: LoadSpec;
  readonly #frames: SiteFrames;
  readonly #faultSends: Map<string, number>;
  #normalPos: number;
  #sweepPos: number;
  #nextId = 1;
  /** Messages picked so far: `sent` grows only once a whole batch is written. */
  #picked = 0;
  #waitingForAck = false;
  #running = false;
  #connected: { resolve(): void; reject(e: Error): void } | undefined;
  sent = 0;
  acked = 0;
  /** When the first frame was written and the last PUBACK read (µs on the shared monotonic clock). */
  firstWriteAt: number | undefined;
  lastAckAt: number | undefined;

  constructor(spec: LoadSpec, frames: SiteFrames, index: number, faultSends: Map<string, number>) {
    this.#spec = spec;
    this.#frames = frames;
    this.#faultSends = faultSends;
    // Connections of one site start at different devices so they do not send in lockstep.
    this.#normalPos = Math.floor((frames.normal.length * index) / spec.connectionsPerSite);
    this.#sweepPos = index;
    this.#socket = connect({ host: spec.host, port: spec.port, noDelay: true });
    const scanner = new FrameScanner((type, _flags, buf, bodyStart) => this.#onPacket(type, buf, bodyStart));
    this.#socket.on('data', (chunk) => scanner.push(chunk));
    this.#socket.on('error', (err) => this.#connected?.reject(err));
  }

  get inflight(): number {
    return this.sent - this.acked;
  }

  connect(site: string, clientId: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#connected = { resolve, reject };
      this.#socket.write(connectFrame({ clientId, username: `${site}-gw`, password: `${site}-demo` }));
    });
  }

  #onPacket(type: number, buf: Buffer, bodyStart: number): void {
    if (type === PacketType.puback) {
      this.acked++;
      this.lastAckAt = hrMicros();
      if (this.#waitingForAck && this.inflight <= this.#spec.window - this.#spec.batch) {
        this.#waitingForAck = false;
        this.pump();
      }
    } else if (type === PacketType.connack) {
      const code = buf[bodyStart + 1];
      if (code === 0) this.#connected?.resolve();
      else this.#connected?.reject(new Error(`CONNACK return code ${code}`));
    }
  }

  /** Room for `wanted` more frames now: QoS 1 waits for acknowledgements beyond the window. */
  #room(wanted: number): number {
    if (this.#spec.qos === 0) return wanted;
    return Math.max(0, Math.min(wanted, this.#spec.window - this.inflight));
  }

  #next(): Item | undefined {
    if (this.#spec.sweep) {
      const tpl = this.#frames.sweep[this.#sweepPos];
      this.#sweepPos += this.#spec.connectionsPerSite;
      return tpl ? { tpl } : undefined;
    }
    const every = this.#spec.faultEvery;
    // Counted per message picked: `sent` is the same for every message of a batch, so with
    // batches of 100 a test on it never met 999 of 1000.
    if (every > 0 && this.#picked++ % every === every - 1) {
      const fault = this.#frames.nextFault();
      if (fault) return { tpl: fault.tpl, faultKey: fault.key };
    }
    const tpl = this.#frames.normal[this.#normalPos++ % this.#frames.normal.length] as PublishTemplate;
    return { tpl };
  }

  /** Builds one batch as a single Buffer (a copy, so packet ids can be written in) and writes it. */
  writeBatch(count: number): boolean {
    const items: Item[] = [];
    let bytes = 0;
    for (let i = 0; i < count; i++) {
      const item = this.#next();
      if (!item) break;
      items.push(item);
      bytes += item.tpl.frame.length;
    }
    if (items.length === 0) return true;
    const buf = Buffer.allocUnsafe(bytes);
    let offset = 0;
    const now = hrMicros();
    this.firstWriteAt ??= now;
    for (const { tpl, faultKey } of items) {
      tpl.frame.copy(buf, offset);
      if (tpl.idOffset !== undefined) {
        buf.writeUInt16BE(this.#nextId, offset + tpl.idOffset);
        this.#nextId = nextPacketId(this.#nextId);
      }
      if (faultKey !== undefined && !this.#faultSends.has(faultKey)) this.#faultSends.set(faultKey, now);
      offset += tpl.frame.length;
    }
    this.sent += items.length;
    if (this.#spec.qos === 0) this.acked += items.length;
    return this.#socket.write(buf);
  }

  /** As fast as the broker takes it: a few batches per turn of the event loop, then yield. */
  pump = (): void => {
    for (let i = 0; i < 8 && this.#running; i++) {
      if (this.#spec.sweep && this.#sweepPos >= this.#frames.sweep.length) {
        this.#running = false;
        return;
      }
      const left = this.#spec.limit === undefined ? this.#spec.batch : this.#spec.limit - this.sent;
      if (left <= 0) {
        this.#running = false;
        return;
      }
      const n = this.#room(Math.min(this.#spec.batch, left));
      if (n === 0) {
        this.#waitingForAck = true;
        return;
      }
      if (!this.writeBatch(n)) {
        this.#socket.once('drain', this.pump);
        return;
      }
    }
    if (this.#running) setImmediate(this.pump);
  };

  /** Paced: writes what is due at `perSecond` since `startedAt`, if the window allows. */
  tick(perSecond: number, startedAt: number): void {
    const due = Math.floor(((performance.now() - startedAt) * perSecond) / 1000) - this.sent;
    const n = this.#room(Math.min(due, this.#spec.batch * 8));
    if (n > 0) this.writeBatch(n);
  }

  start(paced: boolean): void {
    this.#running = true;
    if (!paced) this.pump();
  }

  halt(): void {
    this.#running = false;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#socket.once('close', () => resolve()));
    this.#socket.end(disconnectFrame());
    const timer = setTimeout(() => this.#socket.destroy(), 2000);
    await closed;
    clearTimeout(timer);
  }
}

const state: {
  spec?: LoadSpec;
  publishers: Publisher[];
  sites: Map<string, SiteFrames>;
  faultSends: Map<string, number>;
  ticker?: NodeJS.Timeout;
  elu: ReturnType<typeof performance.eventLoopUtilization>;
} = { publishers: [], sites: new Map(), faultSends: new Map(), elu: performance.eventLoopUtilization() };

function sample(): LoadSample {
  let sent = 0;
  let acked = 0;
  for (const p of state.publishers) {
    sent += p.sent;
    acked += p.acked;
  }
  const elu = performance.eventLoopUtilization(state.elu);
  state.elu = performance.eventLoopUtilization();
  return { sent, acked, busy: elu.utilization };
}

async function start(spec: LoadSpec): Promise<void> {
  state.spec = spec;
  for (const site of spec.fleet.sites) {
    const frames = new SiteFrames(spec, site);
    state.sites.set(site, frames);
    for (let i = 0; i < spec.connectionsPerSite; i++) {
      const p = new Publisher(spec, frames, i, state.faultSends);
      await p.connect(site, `${site}-bench-${i}`);
      state.publishers.push(p);
    }
  }
  state.elu = performance.eventLoopUtilization();
  const paced = spec.rate !== undefined;
  for (const p of state.publishers) p.start(paced);
  if (spec.rate !== undefined) {
    const perConnection = spec.rate / state.publishers.length;
    const startedAt = performance.now();
    state.ticker = setInterval(() => {
      for (const p of state.publishers) p.tick(perConnection, startedAt);
    }, 1);
  }
}

async function stop(): Promise<LoadResult> {
  clearInterval(state.ticker);
  for (const p of state.publishers) p.halt();
  // QoS 1: give the broker a moment to acknowledge what is in flight, so counts are complete.
  const deadline = performance.now() + 3000;
  while (state.publishers.some((p) => p.inflight > 0) && performance.now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
  const last = sample();
  await Promise.all(state.publishers.map((p) => p.close()));
  const faultCursor: Record<string, number> = {};
  for (const [site, frames] of state.sites) faultCursor[site] = frames.cursor;
  return { ...last, faultSends: [...state.faultSends], faultCursor };
}

/** Resolves once a sweep is written and (QoS 1) acknowledged. */
async function sweepDone(): Promise<LoadSample> {
  const total = [...state.sites.values()].reduce((n, s) => n + s.sweep.length, 0);
  for (;;) {
    const s = sample();
    if (s.acked >= total) return s;
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface LimitDone extends LoadSample {
  /** First frame written by any connection, and the last PUBACK any read (µs, monotonic). */
  firstWriteAt: number;
  lastAckAt: number;
}

/** Resolves once every connection has written its `limit` and (QoS 1) had it acknowledged. */
async function limitDone(): Promise<LimitDone> {
  const limit = state.spec?.limit ?? 0;
  for (;;) {
    const s = sample();
    if (state.publishers.every((p) => p.sent >= limit && p.inflight === 0)) {
      const firsts = state.publishers.map((p) => p.firstWriteAt ?? Number.NaN);
      const lasts = state.publishers.map((p) => p.lastAckAt ?? p.firstWriteAt ?? Number.NaN);
      return { ...s, firstWriteAt: Math.min(...firsts), lastAckAt: Math.max(...lasts) };
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

serveRpc({ start, sample, stop, sweepDone, limitDone });
