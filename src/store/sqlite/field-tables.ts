import type Database from 'better-sqlite3';
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

/**
 * The SQLite tables of the field work (issue 12): shifts, the knowledge base and settings. Kept
 * apart from sqlite-store.ts, which is about tickets.
 */
export class SqliteFieldTables {
  readonly #db: Database.Database;

  constructor(db: Database.Database) {
    this.#db = db;
  }

  startShift(s: NewShift, endOpenAt: Instant): { shift: Shift; ended?: Shift } {
    return this.#db.transaction(() => {
      const open = this.#openShift(s.username);
      // Never before it began: a clock set back must not make a shift end before its start.
      if (open) this.#end(open.id, Math.max(open.startedAt, endOpenAt));
      const info = this.#db
        .prepare('INSERT INTO shifts (username, site, started_at, via) VALUES (?, ?, ?, ?)')
        .run(s.username, s.site, s.startedAt, s.via);
      const shift = this.#shift(Number(info.lastInsertRowid));
      return open ? { shift, ended: this.#shift(open.id) } : { shift };
    })();
  }

  endShift(username: string, at: Instant): Shift | undefined {
    return this.#db.transaction(() => {
      const open = this.#openShift(username);
      if (!open) return undefined;
      this.#end(open.id, Math.max(open.startedAt, at));
      return this.#shift(open.id);
    })();
  }

  listOpenShifts(): Shift[] {
    return (
      this.#db.prepare('SELECT * FROM shifts WHERE ended_at IS NULL ORDER BY id').all() as ShiftRow[]
    ).map(rowToShift);
  }

  listKb(filter: KbFilter): KbEntry[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.category !== undefined) {
      where.push('category = ?');
      params.push(filter.category);
    }
    if (filter.fault !== undefined) {
      where.push('fault = ?');
      params.push(filter.fault);
    }
    if (filter.q) {
      const pattern = `%${likeLiteral(filter.q)}%`;
      where.push("(title LIKE ? ESCAPE '\\' OR hint LIKE ? ESCAPE '\\' OR body LIKE ? ESCAPE '\\')");
      params.push(pattern, pattern, pattern);
    }
    const sql = `SELECT * FROM kb_entries ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id`;
    return (this.#db.prepare(sql).all(...params) as KbRow[]).map(rowToKb);
  }

  getKb(id: number): KbEntry | undefined {
    const row = this.#db.prepare('SELECT * FROM kb_entries WHERE id = ?').get(id) as KbRow | undefined;
    return row ? rowToKb(row) : undefined;
  }

  addKb(e: NewKbEntry): KbEntry {
    const info = this.#db
      .prepare(
        `INSERT INTO kb_entries (category, fault, title, hint, body, created_by, created_at, updated_at,
           source_ticket_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(...kbValues(e));
    return this.getKb(Number(info.lastInsertRowid)) as KbEntry;
  }

  updateKb(id: number, patch: KbPatch): KbEntry {
    const sets = Object.entries(patch).filter(([, v]) => v !== undefined);
    const info = this.#db
      .prepare(
        `UPDATE kb_entries SET ${sets.map(([k]) => `${KB_COLUMNS[k as keyof KbPatch]} = ?`).join(', ')} WHERE id = ?`,
      )
      .run(...sets.map(([, v]) => v), id);
    if (info.changes === 0) throw notFound('knowledge-base entry', id);
    return this.getKb(id) as KbEntry;
  }

  deleteKb(id: number): void {
    const info = this.#db.prepare('DELETE FROM kb_entries WHERE id = ?').run(id);
    if (info.changes === 0) throw notFound('knowledge-base entry', id);
  }

  settingOrInit(key: string, init: string): string {
    return this.#db.transaction(() => {
      this.#db
        .prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING')
        .run(key, init);
      return (this.#db.prepare('SELECT value FROM settings WHERE key = ?').get(key) as { value: string })
        .value;
    })();
  }

  #openShift(username: string): Shift | undefined {
    const row = this.#db
      .prepare('SELECT * FROM shifts WHERE username = ? AND ended_at IS NULL')
      .get(username) as ShiftRow | undefined;
    return row ? rowToShift(row) : undefined;
  }

  #end(id: number, at: Instant): void {
    this.#db.prepare('UPDATE shifts SET ended_at = ? WHERE id = ?').run(at, id);
  }

  #shift(id: number): Shift {
    return rowToShift(this.#db.prepare('SELECT * FROM shifts WHERE id = ?').get(id) as ShiftRow);
  }
}
