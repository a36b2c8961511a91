import type { InfluxDB } from 'influx';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import type { Instant } from '../domain/types.ts';
import type { InfluxConfig } from './config.ts';
import { classifyWriteError, errorText, writeLines } from './influx-client.ts';
import { type TelemetryPoint, toInfluxPoint, toLine } from './points.ts';

/**
 * The writing end of the TelemetryWriter (src/telemetry/influx-writer.ts): one request per batch,
 * the database created when missing, bad points split out, and the figures health reports.
 */
export class InfluxSink {
  readonly #config: InfluxConfig;
  readonly #log: Logger;
  readonly #clock: Clock;
  #databaseReady = false;
  #databaseCheck: Promise<void> | undefined;
  readonly #rejectLogged = new Set<string>();
  written = 0;
  rejected = 0;
  lastError: string | null = null;
  lastWriteAt: Instant | null = null;

  constructor(deps: { config: InfluxConfig; log: Logger; clock: Clock }) {
    this.#config = deps.config;
    this.#log = deps.log;
    this.#clock = deps.clock;
  }

  /**
   * Writes a batch; a batch InfluxDB refuses as bad (400/413) is split in halves until the bad
   * points are alone, so one point with a conflicting field type does not cost the other 4999.
   * A point written twice is harmless (same series and timestamp: InfluxDB overwrites).
   */
  async write(client: InfluxDB, points: TelemetryPoint[]): Promise<void> {
    if (points.length === 0) return;
    try {
      await this.ensureDatabase(client);
      const sent = await writeLines(client, this.#config, points.map(toLine).join('\n'));
      if (!sent)
        await client.writePoints(points.map(toInfluxPoint), {
          precision: 'ms',
          ...(this.#config.retentionPolicy ? { retentionPolicy: this.#config.retentionPolicy } : {}),
        });
    } catch (err) {
      const failure = classifyWriteError(err);
      if (failure === 'database_missing') this.#databaseReady = false;
      if (failure !== 'reject') throw err;
      if (points.length === 1) {
        this.reject(1, errorText(err), (points[0] as TelemetryPoint).m);
        return;
      }
      const half = Math.ceil(points.length / 2);
      await this.write(client, points.slice(0, half));
      await this.write(client, points.slice(half));
      return;
    }
    this.written += points.length;
    this.lastWriteAt = this.#clock.now();
    if (this.lastError !== null) {
      this.#log.info({ recovered: this.lastError }, 'InfluxDB writes are succeeding again');
      this.lastError = null;
    }
  }

  /** CREATE DATABASE is idempotent; it is (re)issued before the first write and after a 404. */
  ensureDatabase(client: InfluxDB): Promise<void> {
    if (this.#databaseReady) return Promise.resolve();
    this.#databaseCheck ??= this.#createDatabase(client).finally(() => {
      this.#databaseCheck = undefined;
    });
    return this.#databaseCheck;
  }

  async #createDatabase(client: InfluxDB): Promise<void> {
    const { database, requestTimeoutMs } = this.#config;
    try {
      await withDeadline(client.createDatabase(database), requestTimeoutMs, 'CREATE DATABASE');
      this.#log.info({ database }, 'InfluxDB database ready');
    } catch (err) {
      if (classifyWriteError(err) === 'retry' && !isAuthError(err)) throw err;
      // A user without admin rights cannot create databases; the writes themselves will tell.
      this.#log.warn({ database, err: errorText(err) }, 'could not create the InfluxDB database');
    }
    this.#databaseReady = true;
  }

  reject(points: number, reason: string, metric: string): void {
    this.rejected += points;
    const key = `${metric}\0${reason.slice(0, 60)}`;
    if (this.#rejectLogged.has(key)) return;
    this.#rejectLogged.add(key);
    this.#log.warn({ metric, reason }, 'telemetry point rejected (logged once per metric and reason)');
  }

  noteFailure(err: unknown, during: string): void {
    const text = `${during}: ${errorText(err)}`;
    // One line per change of error, not one per retry while InfluxDB stays down.
    if (text !== this.lastError) this.#log.warn({ err: text }, 'InfluxDB unavailable; spooling');
    this.lastError = text;
  }
}

function isAuthError(err: unknown): boolean {
  const status = (err as { res?: { statusCode?: number } }).res?.statusCode;
  return status === 401 || status === 403;
}

/**
 * The influx client stops its socket time-out once an answer's headers have arrived, so a server
 * that stalls after them would hold the request (and the writer, and its shutdown) for ever. The
 * request itself cannot be aborted through the library; it is abandoned, and counts as failed.
 */
function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} got no complete answer within ${ms} ms`)), ms);
  });
  work.catch(() => {}); // an answer after the deadline must not become an unhandled rejection
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
