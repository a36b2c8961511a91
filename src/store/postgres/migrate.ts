import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { PROJECT_ROOT } from '../../core/paths.ts';
import { inTransaction, rows } from './pg-client.ts';

// The SQL files stay in the source tree; the compiled output (build/) reads them there, as the
// SQLite store does.
export const MIGRATIONS_DIR = path.join(PROJECT_ROOT, 'src/store/postgres/migrations');

/** The advisory lock held (for the transaction) around a whole migration run. */
export const MIGRATION_LOCK_KEY = 7_801_302_000;

/**
 * Runs the numbered SQL files not applied yet, all in one transaction under an advisory lock:
 * instances starting together queue on the lock, and each after the first finds the migrations
 * recorded in `schema_migrations` and has nothing left to do. PostgreSQL's DDL is transactional,
 * so a failing migration leaves nothing behind. Advisory locks are per database.
 */
export async function runMigrations(pool: pg.Pool): Promise<string[]> {
  const files = readdirSync(MIGRATIONS_DIR)
    .filter((f) => /^\d+_.+\.sql$/.test(f))
    .sort();
  return inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)',
    );
    const applied = new Set(
      (await rows<{ version: number }>(client, 'SELECT version FROM schema_migrations')).map(
        (r) => r.version,
      ),
    );
    const ran: string[] = [];
    for (const file of files) {
      const version = Number.parseInt(file, 10);
      if (applied.has(version)) continue;
      // No parameters: pg sends it as a simple query, which may hold several statements.
      await client.query(readFileSync(path.join(MIGRATIONS_DIR, file), 'utf8'));
      await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
        version,
        file,
        Date.now(),
      ]);
      ran.push(file);
    }
    return ran;
  });
}
