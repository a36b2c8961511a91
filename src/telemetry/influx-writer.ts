import path from 'node:path';
import type { InfluxDB } from 'influx';
import type { Clock } from '../core/clock.ts';
import type { EventBus } from '../core/event-bus.ts';
import type { Logger } from '../core/logger.ts';
import type { Service } from '../core/service.ts';
import type { Instant, Reading } from '../domain/types.ts';
import type { InfluxConfig } from './config.ts';
import { createAgent, createInfluxClient, type InfluxAgent } from './influx-client.ts';
import { InfluxSink } from './influx-sink.ts';
import {
  type AssetKindLookup,
  isTelemetryPoint,
  type TelemetryPoint,
  toTelemetryPoint,
  unwritableReason,
} from './points.ts';
import { Spool } from './spool.ts';

export interface TelemetryWriterDeps {
  config: InfluxConfig;
  dataDir: string;
  assetKind: AssetKindLookup;
  bus: EventBus;
  log: Logger;
  clock: Clock;
}

export interface TelemetryStats {
  configured: true;
  /**
   * In memory, not yet in InfluxDB nor on disk: the batch being filled, batches waiting for a
   * write, the write under way, and appends waiting for the disk. Bounded by `maxPendingPoints`.
   */
  pendingPoints: number;
  /** On disk in the spool, waiting to be sent. */
  spooledPoints: number;
  spoolBytes: number;
  /** Dropped to keep the spool within `bufferMaxBytes` or memory within `maxPendingPoints` (oldest first), or after stop. */
  droppedPoints: number;
  /** Refused as unwritable: non-finite numbers, bad names, or a 400 from InfluxDB (type conflict). */
  rejectedPoints: number;
  writtenPoints: number;
  lastError: string | null;
  lastWriteAt: Instant | null;
}

const RETRY_INITIAL_MS = 500;
const RETRY_MAX_MS = 10_000;
/** stop() waits this long at most for InfluxDB before the last batch goes to the spool. */
const STOP_WRITE_TIMEOUT_MS = 2000;
/** While behind, one request carries up to this many batches (fewer, larger requests catch up faster). */
const MAX_BATCHES_PER_WRITE = 4;
/** While behind, this many requests are in flight at once. */
const WRITES_IN_FLIGHT = 2;
const DEFAULT_MAX_PENDING_POINTS = 200_000;

/**
 * Batched writes of every reading to InfluxDB 1.x, never in the way of ingest: `write()` only
 * appends to an in-memory batch, cut every `batchSize` points or `flushIntervalMs`. One sender
 * loop writes: the spool first, oldest first, then the batches waiting in memory; a batch at a
 * time while it keeps up, and when behind rounds of WRITES_IN_FLIGHT concurrent requests of up to
 * MAX_BATCHES_PER_WRITE batches each.
 * Batches wait in memory while InfluxDB keeps up; they go to the on-disk spool, behind what it
 * holds, when a write has failed (down, slower than `requestTimeoutMs`, 5xx; until one succeeds)
 * or when more than 60% of `maxPendingPoints` (at least a round) is waiting. A batch whose write fails is put in front of the spool,
 * being older than anything spooled meanwhile. So points reach InfluxDB in arrival order and
 * "drop the oldest" really drops the oldest; and once the spool is read to its end the sender
 * takes the batches in memory directly, so a backlog shrinks under sustained input instead of
 * every later batch making the round trip through the disk (the benchmark's scenario D).
 * Memory is bounded: past `maxPendingPoints` waiting in memory (appends waiting for the disk
 * included), the oldest waiting points are dropped and counted.
 * A crash loses only what is in memory: readings not yet cut (at most `flushIntervalMs` of them),
 * the batches waiting or being written (up to 60% of `maxPendingPoints` and a round), and appends
 * not yet on disk.
 */
export class TelemetryWriter implements Service {
  readonly name = 'telemetry';
  readonly #deps: TelemetryWriterDeps;
  #spool: Spool<TelemetryPoint> | undefined;
  #agent: InfluxAgent | undefined;
  #client: InfluxDB | undefined;
  #batch: TelemetryPoint[] = [];
  /** Cut batches waiting for the sender, oldest first; all newer than anything spooled. */
  #ready: TelemetryPoint[][] = [];
  #readyPoints = 0;
  /** Points of the write under way when they were taken from memory (not from the spool). */
  #sendingPoints = 0;
  #sender: Promise<void> | undefined;
  /** The last write failed: batches go to disk at once instead of waiting in memory. */
  #failing = false;
  #maxPending = DEFAULT_MAX_PENDING_POINTS;
  #shedding = false;
  #drainedSinceLog = 0;
  #retry: { timer: NodeJS.Timeout; wake: () => void } | undefined;
  #flushTimer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;
  #running = false;
  #dropped = 0;
  readonly #sink: InfluxSink;

  constructor(deps: TelemetryWriterDeps) {
    this.#deps = deps;
    this.#sink = new InfluxSink(deps);
  }

  async start(): Promise<void> {
    const { config, dataDir, bus, log } = this.#deps;
    const spool = new Spool<TelemetryPoint>(
      { dir: path.join(dataDir, 'telemetry-spool'), maxBytes: config.bufferMaxBytes },
      isTelemetryPoint,
    );
    await spool.open();
    this.#spool = spool;
    this.#maxPending = config.maxPendingPoints ?? Math.max(DEFAULT_MAX_PENDING_POINTS, 8 * config.batchSize);
    this.#agent = createAgent(config);
    this.#client = createInfluxClient(config, this.#agent, config.requestTimeoutMs);
    this.#running = true;
    this.#unsubscribe = bus.on('readings', (readings) => this.write(readings));
    this.#flushTimer = setInterval(() => this.#cut(true), config.flushIntervalMs);
    log.info(
      { url: redactUrl(config.url), database: config.database, spooledPoints: spool.points },
      'telemetry writer started',
    );
    // Not awaited: InfluxDB being down must not hold up or fail start-up; writes wait for it.
    void this.#sink
      .ensureDatabase(this.#client)
      .catch((err: unknown) => this.#sink.noteFailure(err, 'create database'));
    if (!spool.isEmpty) this.#startSender(0);
  }

  /** Synchronous and cheap: converts and buffers; the write happens later. */
  write(readings: readonly Reading[]): void {
    if (!this.#running) {
      this.#dropped += readings.length;
      return;
    }
    // A message's readings are mostly of one asset: its kind is looked up once.
    let site: string | undefined;
    let assetId: string | undefined;
    let kind: string | undefined;
    for (const reading of readings) {
      const reason = unwritableReason(reading);
      if (reason) {
        this.#sink.reject(1, reason, reading.metric);
        continue;
      }
      if (reading.assetId !== assetId || reading.site !== site) {
        site = reading.site;
        assetId = reading.assetId;
        kind = this.#deps.assetKind(site, assetId);
      }
      this.#batch.push(toTelemetryPoint(reading, kind));
    }
    if (this.#batch.length >= this.#deps.config.batchSize) this.#cut(false);
    const pending = this.#pendingPoints();
    // Down to 90% of the bound at once, so that shedding costs little per reading.
    if (pending > this.#maxPending) this.#shed(pending - Math.floor(this.#maxPending * 0.9));
    else if (this.#shedding && pending < this.#maxPending / 2) this.#shedding = false;
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#unsubscribe?.();
    clearInterval(this.#flushTimer);
    this.#retry?.wake();
    await this.#sender;
    await this.#flushOnStop();
    await this.#spool?.close();
    this.#agent?.destroy();
    this.#deps.log.info(this.stats(), 'telemetry writer stopped');
  }

  stats(): TelemetryStats {
    return {
      configured: true,
      pendingPoints: this.#pendingPoints(),
      spooledPoints: this.#spool?.points ?? 0,
      spoolBytes: this.#spool?.bytes ?? 0,
      droppedPoints: this.#dropped + (this.#spool?.droppedPoints ?? 0),
      rejectedPoints: this.#sink.rejected + (this.#spool?.unreadableLines ?? 0),
      writtenPoints: this.#sink.written,
      lastError: this.#sink.lastError,
      lastWriteAt: this.#sink.lastWriteAt,
    };
  }

  /**
   * While InfluxDB answers, batches wait in memory up to 60% of the bound: above half of it the
   * embedded broker holds reading (`behind()`), so under a flood they are written from memory
   * rather than written to disk and read back, which would cost the flooded event loop twice.
   */
  #spillAbove(): number {
    return Math.max(this.#roundPoints(), Math.floor(this.#maxPending * 0.6));
  }

  /**
   * Behind while InfluxDB answers: half the memory bound is waiting. The broker then holds reading
   * (backpressure) so points are written rather than shed; while InfluxDB fails, points go to the
   * spool instead and ingest does not wait for a database that is down.
   */
  behind(): boolean {
    return !this.#failing && this.#pendingPoints() > this.#maxPending / 2;
  }

  #pendingPoints(): number {
    return this.#batch.length + this.#readyPoints + this.#sendingPoints + (this.#spool?.queuedPoints ?? 0);
  }

  /** Hands whole batches (on the timer, every point) from the batch being filled to the sender. */
  #cut(all: boolean): void {
    if (!this.#running || this.#batch.length === 0) return;
    const { batchSize } = this.#deps.config;
    const n = all ? this.#batch.length : this.#batch.length - (this.#batch.length % batchSize);
    if (n === 0) return;
    let points = this.#batch;
    if (n === points.length) this.#batch = [];
    else points = this.#batch.splice(0, n);
    this.#ready.push(points);
    this.#readyPoints += n;
    if (this.#failing || this.#readyPoints > this.#spillAbove()) this.#spill();
    this.#startSender(0);
  }

  /** Up to `max` of the oldest points waiting in memory. */
  #takeReady(max: number): TelemetryPoint[] {
    const taken: TelemetryPoint[][] = [];
    let n = 0;
    while (n < max && this.#ready.length > 0) {
      const first = this.#ready[0] as TelemetryPoint[];
      if (n + first.length <= max) {
        this.#ready.shift();
        taken.push(first);
        n += first.length;
      } else {
        taken.push(first.splice(0, max - n));
        n = max;
      }
    }
    this.#readyPoints -= n;
    return taken.length === 1 ? (taken[0] as TelemetryPoint[]) : taken.flat();
  }

  /** Every batch waiting in memory goes to the spool, behind what it holds: they are the newest. */
  #spill(): void {
    if (this.#readyPoints > 0) this.#toSpool(this.#takeReady(Number.POSITIVE_INFINITY), 'append');
  }

  #toSpool(points: TelemetryPoint[], where: 'append' | 'prepend'): void {
    const spool = this.#spool as Spool<TelemetryPoint>;
    (where === 'append' ? spool.append(points) : spool.prepend(points)).catch((err: unknown) => {
      this.#sink.noteFailure(err, 'spool append');
      this.#deps.log.error({ err, points: points.length }, 'could not spool telemetry; points dropped');
    });
  }

  /** Drops `excess` points, the oldest waiting first, as the spool does when it is full. */
  #shed(excess: number): void {
    let left = excess - (this.#spool as Spool<TelemetryPoint>).dropQueued(excess);
    while (left > 0 && this.#ready.length > 0) {
      const first = this.#ready[0] as TelemetryPoint[];
      const n = Math.min(first.length, left);
      if (n === first.length) this.#ready.shift();
      else first.splice(0, n);
      this.#readyPoints -= n;
      this.#dropped += n;
      left -= n;
    }
    // Only when the writes and appends under way alone hold more than the bound.
    const n = Math.min(left, this.#batch.length);
    this.#batch.splice(0, n);
    this.#dropped += n;
    if (this.#shedding) return;
    this.#shedding = true;
    this.#deps.log.warn(
      { maxPendingPoints: this.#maxPending, lastError: this.#sink.lastError },
      'telemetry cannot keep up (InfluxDB and the spool both behind); dropping the oldest points in memory',
    );
  }

  #startSender(firstDelayMs: number): void {
    if (this.#sender || !this.#running) return;
    this.#sender = this.#sendLoop(firstDelayMs);
  }

  /** The only writer to InfluxDB: the spool first, then memory; backs off while InfluxDB fails. */
  async #sendLoop(firstDelayMs: number): Promise<void> {
    const spool = this.#spool as Spool<TelemetryPoint>;
    // Lets `#startSender` store this promise before the loop can find nothing to do and clear it.
    await Promise.resolve();
    let delay = firstDelayMs;
    while (this.#running) {
      if (delay > 0) await this.#sleep(delay);
      if (!this.#running) break;
      if (spool.isEmpty && this.#drainedSinceLog > 0) {
        this.#deps.log.info({ points: this.#drainedSinceLog }, 'telemetry spool drained');
        this.#drainedSinceLog = 0;
      }
      // Checked and cleared in one synchronous step, so a batch cut from now on starts a new loop.
      if (spool.isEmpty && this.#readyPoints === 0) {
        this.#sender = undefined;
        return;
      }
      const ok = spool.isEmpty ? await this.#sendReady() : await this.#sendSpooled(spool);
      delay = ok ? 0 : nextDelay(delay);
    }
    this.#sender = undefined;
  }

  /** Writes the oldest batches waiting in memory; the spool is empty, so they are the oldest of all. */
  async #sendReady(): Promise<boolean> {
    const points = this.#takeReady(this.#roundPoints());
    this.#sendingPoints = points.length;
    try {
      const { failed, error } = await this.#writeRound(points);
      if (failed.length === 0) return true;
      // Older than anything spilled to the spool while they were in flight: they go in front.
      this.#toSpool(failed, 'prepend');
      this.#failed(error, 'write');
      return false;
    } finally {
      this.#sendingPoints = 0;
    }
  }

  /** Writes the oldest chunk of the spool and acknowledges it. */
  async #sendSpooled(spool: Spool<TelemetryPoint>): Promise<boolean> {
    let chunk: Awaited<ReturnType<Spool<TelemetryPoint>['next']>>;
    try {
      chunk = await spool.next(this.#roundPoints());
    } catch (err) {
      this.#sink.noteFailure(err, 'spool read');
      return false;
    }
    if (!chunk) return true;
    const { failed, error } = await this.#writeRound(chunk.records);
    if (failed.length > 0) {
      // Not acknowledged: the whole chunk is sent again (a point written twice is harmless).
      this.#failed(error, 'drain');
      return false;
    }
    this.#drainedSinceLog += chunk.records.length;
    // A failed deletion leaves a read segment behind; it is skipped, and deleted on the next open.
    await spool.ack(chunk).catch((err: unknown) => this.#sink.noteFailure(err, 'spool delete'));
    return true;
  }

  /** Points one round of the sender takes: WRITES_IN_FLIGHT requests of MAX_BATCHES_PER_WRITE batches. */
  #roundPoints(): number {
    return WRITES_IN_FLIGHT * MAX_BATCHES_PER_WRITE * this.#deps.config.batchSize;
  }

  /**
   * More than one batch goes out as WRITES_IN_FLIGHT concurrent requests: on a busy event loop a
   * request waits for turns of the loop to send its body and read its answer, and two overlap.
   * Returns the points of the requests that failed, in arrival order.
   */
  async #writeRound(points: TelemetryPoint[]): Promise<{ failed: TelemetryPoint[]; error: unknown }> {
    const size = Math.ceil(points.length / WRITES_IN_FLIGHT);
    const parts: TelemetryPoint[][] = [];
    if (points.length <= this.#deps.config.batchSize) parts.push(points);
    else for (let i = 0; i < points.length; i += size) parts.push(points.slice(i, i + size));
    const client = this.#client as InfluxDB;
    const results = await Promise.allSettled(parts.map((part) => this.#sink.write(client, part)));
    let failed: TelemetryPoint[] = [];
    let error: unknown;
    results.forEach((result, i) => {
      if (result.status === 'fulfilled') return;
      failed = failed.concat(parts[i] as TelemetryPoint[]);
      error ??= result.reason;
    });
    if (failed.length === 0) this.#failing = false;
    return { failed, error };
  }

  /** A write failed: until one succeeds, batches go to disk rather than wait in memory. */
  #failed(err: unknown, during: string): void {
    this.#sink.noteFailure(err, during);
    this.#failing = true;
    this.#spill();
  }

  /** What is left in memory: to InfluxDB if it answers quickly and nothing is spooled, else to disk. */
  async #flushOnStop(): Promise<void> {
    const spool = this.#spool;
    const points = this.#takeReady(Number.POSITIVE_INFINITY).concat(this.#batch);
    this.#batch = [];
    if (!spool || points.length === 0) return;
    if (spool.isEmpty && !this.#failing && this.#agent) {
      const timeout = Math.min(this.#deps.config.requestTimeoutMs, STOP_WRITE_TIMEOUT_MS);
      const client = createInfluxClient(this.#deps.config, this.#agent, timeout);
      const size = MAX_BATCHES_PER_WRITE * this.#deps.config.batchSize;
      try {
        for (let i = 0; i < points.length; i += size)
          await this.#sink.write(client, points.slice(i, i + size));
        return;
      } catch (err) {
        this.#sink.noteFailure(err, 'write on stop');
      }
    }
    await spool.append(points).catch((err: unknown) => this.#sink.noteFailure(err, 'spool append on stop'));
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.#retry = undefined;
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.#retry = { timer, wake };
    });
  }
}

function nextDelay(previous: number): number {
  const base = Math.min(RETRY_MAX_MS, Math.max(RETRY_INITIAL_MS, previous * 2));
  // ±20% jitter so several xiaoer instances do not retry in step after an InfluxDB restart.
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
