import path from 'node:path';
import type { InfluxDB } from 'influx';
import type { Clock } from '../core/clock.ts';
import type { EventBus } from '../core/event-bus.ts';
import type { Logger } from '../core/logger.ts';
import type { Service } from '../core/service.ts';
import type { Instant, Reading } from '../domain/types.ts';
import type { InfluxConfig } from './config.ts';
import {
  classifyWriteError,
  createAgent,
  createInfluxClient,
  errorText,
  type InfluxAgent,
} from './influx-client.ts';
import {
  type AssetKindLookup,
  isTelemetryPoint,
  type TelemetryPoint,
  toInfluxPoint,
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
  /** In memory: the batch being filled and the one being written. */
  pendingPoints: number;
  spooledPoints: number;
  spoolBytes: number;
  /** Dropped to keep the spool within `bufferMaxBytes` (oldest first), or after stop. */
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

/**
 * Batched writes of every reading to InfluxDB 1.x, never in the way of ingest: `write()` only
 * appends to an in-memory batch, cut every `batchSize` points or `flushIntervalMs`, and one write
 * is in flight at a time. A batch InfluxDB does not take (down, slower than `requestTimeoutMs`,
 * 5xx) goes to the on-disk spool, and while the spool holds anything every new batch goes there
 * too, behind it; a burst of over 2 × batchSize during a write spills there as well, and if that
 * write then fails its batch is put in front. So points reach InfluxDB in arrival order, with one
 * reader of the spool and no merge of two streams, and "drop the oldest" really drops the oldest.
 * A retry loop with backoff drains the spool oldest first.
 * A crash loses only what is in memory: readings not yet cut (at most `flushIntervalMs` of them,
 * and under 2 × batchSize) and the batch in flight if its write would have failed.
 */
export class TelemetryWriter implements Service {
  readonly name = 'telemetry';
  readonly #deps: TelemetryWriterDeps;
  #spool: Spool<TelemetryPoint> | undefined;
  #agent: InfluxAgent | undefined;
  #client: InfluxDB | undefined;
  #batch: TelemetryPoint[] = [];
  #direct: { points: number; done: Promise<void> } | undefined;
  #drain: Promise<void> | undefined;
  #retry: { timer: NodeJS.Timeout; wake: () => void } | undefined;
  #flushTimer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;
  #running = false;
  #databaseReady = false;
  #databaseCheck: Promise<void> | undefined;
  readonly #rejectLogged = new Set<string>();
  #counts = { dropped: 0, rejected: 0, written: 0 };
  #lastError: string | null = null;
  #lastWriteAt: Instant | null = null;

  constructor(deps: TelemetryWriterDeps) {
    this.#deps = deps;
  }

  async start(): Promise<void> {
    const { config, dataDir, bus, log } = this.#deps;
    const spool = new Spool<TelemetryPoint>(
      { dir: path.join(dataDir, 'telemetry-spool'), maxBytes: config.bufferMaxBytes },
      isTelemetryPoint,
    );
    await spool.open();
    this.#spool = spool;
    this.#agent = createAgent(config);
    this.#client = createInfluxClient(config, this.#agent, config.requestTimeoutMs);
    this.#running = true;
    this.#unsubscribe = bus.on('readings', (readings) => this.write(readings));
    this.#flushTimer = setInterval(() => this.#cut(), config.flushIntervalMs);
    log.info(
      { url: redactUrl(config.url), database: config.database, spooledPoints: spool.points },
      'telemetry writer started',
    );
    // Not awaited: InfluxDB being down must not hold up or fail start-up; writes wait for it.
    void this.#ensureDatabase(this.#client).catch((err: unknown) =>
      this.#noteFailure(err, 'create database'),
    );
    if (!spool.isEmpty) this.#startDrain(0);
  }

  /** Synchronous and cheap: converts and buffers; the write happens later. */
  write(readings: readonly Reading[]): void {
    if (!this.#running) {
      this.#counts.dropped += readings.length;
      return;
    }
    for (const reading of readings) {
      const reason = unwritableReason(reading);
      if (reason) {
        this.#reject(1, reason, reading.metric);
        continue;
      }
      this.#batch.push(toTelemetryPoint(reading, this.#deps.assetKind(reading.site, reading.assetId)));
    }
    if (this.#batch.length >= this.#deps.config.batchSize) this.#cut();
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#unsubscribe?.();
    clearInterval(this.#flushTimer);
    this.#retry?.wake();
    await Promise.all([this.#direct?.done, this.#drain]);
    await this.#flushOnStop();
    await this.#spool?.close();
    this.#agent?.destroy();
    this.#deps.log.info(this.stats(), 'telemetry writer stopped');
  }

  stats(): TelemetryStats {
    return {
      configured: true,
      pendingPoints: this.#batch.length + (this.#direct?.points ?? 0),
      spooledPoints: this.#spool?.points ?? 0,
      spoolBytes: this.#spool?.bytes ?? 0,
      droppedPoints: this.#counts.dropped + (this.#spool?.droppedPoints ?? 0),
      rejectedPoints: this.#counts.rejected + (this.#spool?.unreadableLines ?? 0),
      writtenPoints: this.#counts.written,
      lastError: this.#lastError,
      lastWriteAt: this.#lastWriteAt,
    };
  }

  /** Hands the filled batch on: directly to InfluxDB when nothing is queued, else to the spool. */
  #cut(): void {
    const spool = this.#spool;
    if (!this.#running || !spool || this.#batch.length === 0) return;
    const { batchSize } = this.#deps.config;
    if (!spool.isEmpty || this.#drain !== undefined) {
      this.#toSpool(this.#take(Number.POSITIVE_INFINITY), 0);
    } else if (!this.#direct) {
      const points = this.#take(batchSize);
      this.#direct = { points: points.length, done: this.#writeDirect(points) };
    } else if (this.#batch.length >= 2 * batchSize) {
      // InfluxDB is slower than ingest: spill to disk rather than grow memory. Should the write in
      // flight then fail, its batch is prepended, so the spool stays in arrival order.
      this.#toSpool(this.#take(Number.POSITIVE_INFINITY), 0);
    }
    // else: a direct write is in flight; the batch waits for it and is cut when it settles.
  }

  #take(max: number): TelemetryPoint[] {
    if (this.#batch.length <= max) {
      const all = this.#batch;
      this.#batch = [];
      return all;
    }
    return this.#batch.splice(0, max);
  }

  async #writeDirect(points: TelemetryPoint[]): Promise<void> {
    const client = this.#client as InfluxDB;
    try {
      await this.#writeSplitting(client, points);
    } catch (err) {
      this.#noteFailure(err, 'write');
      // Older than anything spilled to the spool while it was in flight: it goes in front.
      this.#toSpool(points, RETRY_INITIAL_MS, 'prepend');
    } finally {
      this.#direct = undefined;
    }
    if (this.#batch.length >= this.#deps.config.batchSize) this.#cut();
  }

  #toSpool(
    points: TelemetryPoint[],
    firstRetryDelayMs: number,
    where: 'append' | 'prepend' = 'append',
  ): void {
    const spool = this.#spool as Spool<TelemetryPoint>;
    (where === 'append' ? spool.append(points) : spool.prepend(points)).catch((err: unknown) => {
      this.#noteFailure(err, 'spool append');
      this.#deps.log.error({ err, points: points.length }, 'could not spool telemetry; points dropped');
    });
    this.#startDrain(firstRetryDelayMs);
  }

  #startDrain(firstDelayMs: number): void {
    if (this.#drain || !this.#running) return;
    this.#drain = this.#drainLoop(firstDelayMs);
  }

  /** Sends the spool oldest first, one chunk at a time, backing off while InfluxDB fails. */
  async #drainLoop(firstDelayMs: number): Promise<void> {
    const spool = this.#spool as Spool<TelemetryPoint>;
    const client = this.#client as InfluxDB;
    let delay = firstDelayMs;
    let drained = 0;
    // One write in flight at a time: a direct write still running goes first.
    await this.#direct?.done;
    while (this.#running) {
      if (delay > 0) await this.#sleep(delay);
      if (!this.#running) break;
      const chunk = await spool.next(this.#deps.config.batchSize);
      if (!chunk) {
        // Checked and cleared in one synchronous step, so a batch cut now starts a new drain.
        if (spool.isEmpty) {
          this.#drain = undefined;
          this.#deps.log.info({ points: drained }, 'telemetry spool drained');
          return;
        }
        continue;
      }
      try {
        await this.#writeSplitting(client, chunk.records);
        await spool.ack(chunk);
        drained += chunk.records.length;
        delay = 0;
      } catch (err) {
        this.#noteFailure(err, 'drain');
        delay = nextDelay(delay);
      }
    }
    this.#drain = undefined;
  }

  /**
   * Writes a batch; a batch InfluxDB refuses as bad (400/413) is split in halves until the bad
   * points are alone, so one point with a conflicting field type does not cost the other 4999.
   * A point written twice is harmless (same series and timestamp: InfluxDB overwrites).
   */
  async #writeSplitting(client: InfluxDB, points: TelemetryPoint[]): Promise<void> {
    if (points.length === 0) return;
    try {
      await this.#ensureDatabase(client);
      await client.writePoints(points.map(toInfluxPoint), {
        precision: 'ms',
        ...(this.#deps.config.retentionPolicy ? { retentionPolicy: this.#deps.config.retentionPolicy } : {}),
      });
    } catch (err) {
      const failure = classifyWriteError(err);
      if (failure === 'database_missing') this.#databaseReady = false;
      if (failure !== 'reject') throw err;
      if (points.length === 1) {
        this.#reject(1, errorText(err), (points[0] as TelemetryPoint).m);
        return;
      }
      const half = Math.ceil(points.length / 2);
      await this.#writeSplitting(client, points.slice(0, half));
      await this.#writeSplitting(client, points.slice(half));
      return;
    }
    this.#counts.written += points.length;
    this.#lastWriteAt = this.#deps.clock.now();
    if (this.#lastError !== null) {
      this.#deps.log.info({ recovered: this.#lastError }, 'InfluxDB writes are succeeding again');
      this.#lastError = null;
    }
  }

  /** CREATE DATABASE is idempotent; it is (re)issued before the first write and after a 404. */
  #ensureDatabase(client: InfluxDB): Promise<void> {
    if (this.#databaseReady) return Promise.resolve();
    this.#databaseCheck ??= this.#createDatabase(client).finally(() => {
      this.#databaseCheck = undefined;
    });
    return this.#databaseCheck;
  }

  async #createDatabase(client: InfluxDB): Promise<void> {
    const { database } = this.#deps.config;
    try {
      await client.createDatabase(database);
      this.#deps.log.info({ database }, 'InfluxDB database ready');
    } catch (err) {
      if (classifyWriteError(err) === 'retry' && !isAuthError(err)) throw err;
      // A user without admin rights cannot create databases; the writes themselves will tell.
      this.#deps.log.warn({ database, err: errorText(err) }, 'could not create the InfluxDB database');
    }
    this.#databaseReady = true;
  }

  /** The last batch: to InfluxDB if it answers quickly and nothing is spooled, else to disk. */
  async #flushOnStop(): Promise<void> {
    const spool = this.#spool;
    const points = this.#take(Number.POSITIVE_INFINITY);
    if (!spool || points.length === 0) return;
    if (spool.isEmpty && this.#agent) {
      const timeout = Math.min(this.#deps.config.requestTimeoutMs, STOP_WRITE_TIMEOUT_MS);
      const client = createInfluxClient(this.#deps.config, this.#agent, timeout);
      try {
        for (let i = 0; i < points.length; i += this.#deps.config.batchSize)
          await this.#writeSplitting(client, points.slice(i, i + this.#deps.config.batchSize));
        return;
      } catch (err) {
        this.#noteFailure(err, 'write on stop');
      }
    }
    await spool.append(points).catch((err: unknown) => this.#noteFailure(err, 'spool append on stop'));
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

  #reject(points: number, reason: string, metric: string): void {
    this.#counts.rejected += points;
    const key = `${metric}\0${reason.slice(0, 60)}`;
    if (this.#rejectLogged.has(key)) return;
    this.#rejectLogged.add(key);
    this.#deps.log.warn({ metric, reason }, 'telemetry point rejected (logged once per metric and reason)');
  }

  #noteFailure(err: unknown, during: string): void {
    const text = `${during}: ${errorText(err)}`;
    // One line per change of error, not one per retry while InfluxDB stays down.
    if (text !== this.#lastError) this.#deps.log.warn({ err: text }, 'InfluxDB unavailable; spooling');
    this.#lastError = text;
  }
}

function nextDelay(previous: number): number {
  const base = Math.min(RETRY_MAX_MS, Math.max(RETRY_INITIAL_MS, previous * 2));
  // ±20% jitter so several xiaoer instances do not retry in step after an InfluxDB restart.
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

function isAuthError(err: unknown): boolean {
  const status = (err as { res?: { statusCode?: number } }).res?.statusCode;
  return status === 401 || status === 403;
}

function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
