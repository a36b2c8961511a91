import type pg from 'pg';
import { notFound } from '../../core/errors.ts';
import type { Instant, KbEntry, Shift } from '../../domain/types.ts';
import {
  KB_COLUMNS,
  type KbRow,
  kbValues,
  likeLiteral,
  rowToKb,
  rowToShift,
  type ShiftRow,
} from '../rows.ts';
import type { KbFilter, KbPatch, NewKbEntry, NewShift } from '../store.ts';
import { changes, inTransaction, isUniqueViolation, one, rows } from './pg-client.ts';

/** Attempts of a check-in that raced another of the same user (see `startShift`). */
const SHIFT_ATTEMPTS = 3;

/**
 * The PostgreSQL tables of the field work (issue 12): shifts, the knowledge base and settings.
 * Kept apart from postgres-store.ts, which is about tickets.
 */
export class PostgresFieldTables {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  /**
   * The partial unique index `shifts_one_open_per_user` keeps one open shift per user. Two
   * check-ins of the same user racing (two processes) both find no open shift; the second INSERT
   * waits for the first to commit and then violates the index. It is tried again, and then finds
   * the first one's shift open and ends it, as if the two had come one after the other.
   */
  async startShift(s: NewShift, endOpenAt: Instant): Promise<{ shift: Shift; ended?: Shift }> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await inTransaction(this.#pool, async (client) => {
          // Never before it began: a clock set back must not make a shift end before its start.
          const ended = await one<ShiftRow>(
            client,
            `UPDATE shifts SET ended_at = GREATEST(started_at, $2) WHERE username = $1 AND ended_at IS NULL
             RETURNING *`,
            [s.username, endOpenAt],
          );
          const started = (await one<ShiftRow>(
            client,
            'INSERT INTO shifts (username, site, started_at, via) VALUES ($1, $2, $3, $4) RETURNING *',
            [s.username, s.site, s.startedAt, s.via],
          )) as ShiftRow;
          const shift = rowToShift(started);
          return ended ? { shift, ended: rowToShift(ended) } : { shift };
        });
      } catch (err) {
        if (attempt >= SHIFT_ATTEMPTS || !isUniqueViolation(err, 'shifts_one_open_per_user')) throw err;
      }
    }
  }

  async endShift(username: string, at: Instant): Promise<Shift | undefined> {
    const row = await one<ShiftRow>(
      this.#pool,
      `UPDATE shifts SET ended_at = GREATEST(started_at, $2) WHERE username = $1 AND ended_at IS NULL
       RETURNING *`,
      [username, at],
    );
    return row ? rowToShift(row) : undefined;
  }

  async listOpenShifts(): Promise<Shift[]> {
    return (await rows<ShiftRow>(this.#pool, 'SELECT * FROM shifts WHERE ended_at IS NULL ORDER BY id')).map(
      rowToShift,
    );
  }

  async listKb(filter: KbFilter): Promise<KbEntry[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const param = (v: unknown) => {
      params.push(v);
      return `$${params.length}`;
    };
    if (filter.category !== undefined) where.push(`category = ${param(filter.category)}`);
    if (filter.fault !== undefined) where.push(`fault = ${param(filter.fault)}`);
    if (filter.q) {
      // ILIKE: SQLite's LIKE ignores the case of ASCII letters, PostgreSQL's LIKE does not.
      const p = param(`%${likeLiteral(filter.q)}%`);
      where.push(
        `(title ILIKE ${p} ESCAPE '\\' OR hint ILIKE ${p} ESCAPE '\\' OR body ILIKE ${p} ESCAPE '\\')`,
      );
    }
    const sql = `SELECT * FROM kb_entries ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id`;
    return (await rows<KbRow>(this.#pool, sql, params)).map(rowToKb);
  }

  async getKb(id: number): Promise<KbEntry | undefined> {
    const row = await one<KbRow>(this.#pool, 'SELECT * FROM kb_entries WHERE id = $1', [id]);
    return row ? rowToKb(row) : undefined;
  }

  async addKb(e: NewKbEntry): Promise<KbEntry> {
    const row = (await one<KbRow>(
      this.#pool,
      `INSERT INTO kb_entries (category, fault, title, hint, body, created_by, created_at, updated_at,
         source_ticket_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *`,
      kbValues(e),
    )) as KbRow;
    return rowToKb(row);
  }

  async updateKb(id: number, patch: KbPatch): Promise<KbEntry> {
    const sets = Object.entries(patch).filter(([, v]) => v !== undefined);
    const row = await one<KbRow>(
      this.#pool,
      `UPDATE kb_entries SET ${sets.map(([k], i) => `${KB_COLUMNS[k as keyof KbPatch]} = $${i + 1}`).join(', ')}
       WHERE id = $${sets.length + 1} RETURNING *`,
      [...sets.map(([, v]) => v), id],
    );
    if (!row) throw notFound('knowledge-base entry', id);
    return rowToKb(row);
  }

  async deleteKb(id: number): Promise<void> {
    if ((await changes(this.#pool, 'DELETE FROM kb_entries WHERE id = $1', [id])) === 0) {
      throw notFound('knowledge-base entry', id);
    }
  }

  /**
   * Two statements, not one: an INSERT ... ON CONFLICT DO NOTHING that meets a row committed by
   * another process after the statement began waits for it but does not return it, and a SELECT
   * in the same statement would not see it (the statement's snapshot is older). The SELECT after
   * it runs with a new snapshot (READ COMMITTED), so the first value stored wins everywhere.
   */
  async settingOrInit(key: string, init: string): Promise<string> {
    const inserted = await one<{ value: string }>(
      this.#pool,
      'INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING RETURNING value',
      [key, init],
    );
    if (inserted) return inserted.value;
    const row = (await one<{ value: string }>(this.#pool, 'SELECT value FROM settings WHERE key = $1', [
      key,
    ])) as { value: string };
    return row.value;
  }
}
