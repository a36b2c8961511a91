import pg from 'pg';
import type { Logger } from '../../core/logger.ts';

/** The pool, or one client of it inside a transaction: whatever a query runs on. */
export type Db = pg.Pool | pg.PoolClient;

const INT8_OID = 20;

/**
 * BIGINT (instants in epoch milliseconds, ids, counts) as a JavaScript number, for this pool only:
 * pg's global type parsers are left alone (other pools in the process may want strings). The
 * domain's instants and ids stay far below 2^53.
 */
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary'
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

export function createPool(url: string, opts: { poolSize?: number; log?: Logger }): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.poolSize ?? 10,
    types,
    application_name: 'xiaoer',
    // A connection to a host that vanished is noticed in about a minute, not the kernel's two hours.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    connectionTimeoutMillis: 10_000,
    // A transaction left open by a process that stopped answering holds the event log's lock:
    // PostgreSQL ends it rather than let every instance's ticket writes wait for it.
    idle_in_transaction_session_timeout: 30_000,
    statement_timeout: 120_000,
  });
  // An idle client losing its connection (server restart, network) is reported here; without a
  // listener the pool's 'error' event would end the process. The pool replaces the client.
  pool.on('error', (err) => opts.log?.warn({ err }, 'postgres: idle connection lost'));
  return pool;
}

/** The rows of a query, typed by the caller (the row interfaces are shared with SQLite). */
export async function rows<T>(db: Db, sql: string, params: readonly unknown[] = []): Promise<T[]> {
  return (await db.query(sql, params as unknown[])).rows as T[];
}

export async function one<T>(db: Db, sql: string, params: readonly unknown[] = []): Promise<T | undefined> {
  return (await rows<T>(db, sql, params))[0];
}

/** Rows changed by an INSERT, UPDATE or DELETE. */
export async function changes(db: Db, sql: string, params: readonly unknown[] = []): Promise<number> {
  return (await db.query(sql, params as unknown[])).rowCount ?? 0;
}

/**
 * Runs `work` in one transaction on one pooled client: BEGIN, COMMIT, or ROLLBACK when it throws
 * (the error is rethrown). A client whose ROLLBACK failed is discarded rather than returned to
 * the pool, as its connection is in an unknown state.
 */
export async function inTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    try {
      await client.query('ROLLBACK');
    } catch (rollbackErr) {
      broken = rollbackErr as Error;
    }
    throw err;
  } finally {
    client.release(broken);
  }
}

/** A unique_violation (SQLSTATE 23505), of that index or constraint if one is named. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as { code?: string; constraint?: string };
  return e.code === '23505' && (constraint === undefined || e.constraint === constraint);
}
