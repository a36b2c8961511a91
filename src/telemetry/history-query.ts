import { XiaoerError } from '../core/errors.ts';
import type { InfluxConfig } from './config.ts';
import { MsgpackError, msgpackValues } from './msgpack.ts';

/** One series of an answer, or the part of it in one chunk (a long series comes in several). */
export interface SeriesPart {
  name: string;
  tags: Record<string, unknown>;
  columns: unknown[];
  values: unknown[][];
}

/**
 * InfluxDB sends this many points per series and chunk (about 40 kB), so memory stays small
 * whatever the window; from 2,000 to 50,000 made no difference to InfluxDB's work (measured).
 */
const CHUNK_POINTS = 2000;

/**
 * InfluxQL `SELECT`s against InfluxDB 1.x's `/query`, answered as chunked MessagePack (InfluxDB
 * encodes it about twice as fast as JSON, and its encoding is most of a long query's cost), with
 * every failure as a `XiaoerError` that names the server and says what went wrong.
 */
export class InfluxQuery {
  readonly #endpoint: string;
  /** The server as people see it in messages: no credentials. */
  readonly server: string;
  readonly #database: string;
  readonly #headers: Record<string, string>;
  readonly #timeoutMs: number;
  readonly #timeout = new AbortController();
  readonly #timer: NodeJS.Timeout;
  readonly #callerSignal: AbortSignal | undefined;
  /** Aborted by `close()`: a query still under way when the read ends (another one failed). */
  readonly #closed = new AbortController();
  readonly #signal: AbortSignal;

  constructor(config: InfluxConfig, timeoutMs: number, signal?: AbortSignal) {
    const url = new URL(config.url);
    const username = config.username ?? decodeURIComponent(url.username);
    const password = config.username ? (config.password ?? '') : decodeURIComponent(url.password);
    url.username = '';
    url.password = '';
    this.server = `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
    this.#endpoint = `${this.server}/query`;
    this.#database = config.database;
    // Uncompressed: fetch asks for gzip by default, and InfluxDB compressing what it sends costs
    // both ends more CPU than the bytes cost on a LAN (measured: ~1 s of 10 for a week of 300 assets).
    this.#headers = { Accept: 'application/x-msgpack', 'Accept-Encoding': 'identity' };
    if (username) {
      this.#headers.Authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
    }
    this.#timeoutMs = timeoutMs;
    this.#timer = setTimeout(() => this.#timeout.abort(), timeoutMs);
    this.#callerSignal = signal;
    const signals = [this.#timeout.signal, this.#closed.signal];
    this.#signal = AbortSignal.any(signal ? [signal, ...signals] : signals);
  }

  /** Ends every query still under way and stops the time-out's timer; the object is done. */
  close(): void {
    clearTimeout(this.#timer);
    this.#closed.abort();
  }

  /**
   * The series of one query's answer as they stream in. A consumer that stops early (or throws)
   * cancels the answer: the connection is closed rather than read to its end.
   */
  async *series(query: string): AsyncGenerator<SeriesPart> {
    const body = new URLSearchParams({
      db: this.#database,
      q: query,
      epoch: 'ms',
      chunked: 'true',
      chunk_size: String(CHUNK_POINTS),
    });
    let res: Response;
    try {
      res = await fetch(this.#endpoint, {
        method: 'POST',
        headers: this.#headers,
        body,
        signal: this.#signal,
      });
    } catch (err) {
      throw this.#failure(err);
    }
    if (!res.ok || !res.body) throw await this.#refused(res);
    try {
      for await (const answer of msgpackValues(res.body)) yield* this.#parts(answer);
    } catch (err) {
      throw this.#failure(err);
    }
  }

  /** The series of one chunk; a statement's error (no such database, a bad query) is thrown. */
  *#parts(answer: unknown): Generator<SeriesPart> {
    const { results, error } = (answer ?? {}) as { results?: unknown; error?: unknown };
    if (typeof error === 'string')
      throw this.failed(`InfluxDB at ${this.server} refused the query: ${error}`);
    if (!Array.isArray(results))
      throw this.failed(`InfluxDB at ${this.server} sent an answer without results`);
    for (const result of results as { error?: unknown; series?: unknown }[]) {
      if (typeof result?.error === 'string') throw this.#statementError(result.error);
      if (!Array.isArray(result?.series)) continue;
      for (const s of result.series as Record<string, unknown>[]) {
        if (typeof s.name !== 'string' || !Array.isArray(s.columns) || !Array.isArray(s.values))
          throw this.failed(`InfluxDB at ${this.server} sent a series without a name, columns or values`);
        yield {
          name: s.name,
          tags: (s.tags ?? {}) as Record<string, unknown>,
          columns: s.columns,
          values: s.values as unknown[][],
        };
      }
    }
  }

  failed(message: string, cause?: unknown): XiaoerError {
    return new XiaoerError('influx_query_failed', message, { httpStatus: 502, cause });
  }

  #statementError(error: string): XiaoerError {
    if (error.startsWith('database not found')) {
      return new XiaoerError(
        'influx_database_not_found',
        `InfluxDB at ${this.server} has no database "${this.#database}" (influx.database in the config): ` +
          'no telemetry has been written there',
        { httpStatus: 502 },
      );
    }
    return this.failed(`InfluxDB at ${this.server} could not run the history query: ${error}`);
  }

  /** An HTTP error before any data: credentials refused, a bad query, a proxy's error page. */
  async #refused(res: Response): Promise<XiaoerError> {
    const said = res.headers.get('x-influxdb-error') ?? (await res.text().catch(() => '')).slice(0, 200);
    if (res.status === 401 || res.status === 403) {
      return this.failed(
        `InfluxDB at ${this.server} refused xiaoer's credentials (HTTP ${res.status}): check ` +
          `influx.username and influx.password in the config${said ? ` (${said})` : ''}`,
      );
    }
    return this.failed(`InfluxDB at ${this.server} answered HTTP ${res.status}${said ? `: ${said}` : ''}`);
  }

  /** What went wrong on the way: aborted, timed out, unreadable, or the server not reachable. */
  #failure(err: unknown): XiaoerError {
    if (err instanceof XiaoerError) return err;
    if (this.#closed.signal.aborted) return new XiaoerError('history_aborted', 'The history read had ended');
    if (this.#callerSignal?.aborted) {
      return new XiaoerError('history_aborted', 'Reading telemetry history was cancelled', {
        httpStatus: 503,
        cause: err,
      });
    }
    if (this.#timeout.signal.aborted) {
      return new XiaoerError(
        'influx_timeout',
        `InfluxDB at ${this.server} did not finish sending the history within ${this.#timeoutMs / 1000} s`,
        { httpStatus: 504, cause: err },
      );
    }
    if (err instanceof MsgpackError)
      return this.failed(`InfluxDB at ${this.server} sent an answer xiaoer cannot read: ${err.message}`, err);
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (err as Error).message;
    return new XiaoerError(
      'influx_unreachable',
      `InfluxDB at ${this.server} is unreachable (${why}): telemetry history cannot be read`,
      { httpStatus: 503, cause: err },
    );
  }
}

/** InfluxQL string literal: `\` and `'` escaped, and a newline, which a literal may not hold. */
export function quoteString(value: string): string {
  return `'${value.replace(/[\\']/g, '\\$&').replace(/\n/g, '\\n')}'`;
}

/** InfluxQL identifier in double quotes: `\` and `"` escaped, and a newline. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/[\\"]/g, '\\$&').replace(/\n/g, '\\n')}"`;
}
