import type Database from 'better-sqlite3';
import { conflict, notFound } from '../../core/errors.ts';
import type { Callback, Ticket, TicketEvent } from '../../domain/types.ts';
import {
  CALLBACK_COLUMNS,
  type CallbackJoinedRow,
  type CallbackRow,
  joinedToCallbackEntry,
  rowToCallback,
} from '../rows.ts';
import type { CallbackEntry, CallbackFilter, NewTicketEvent } from '../store.ts';
import { rowToTicket, type TicketRow } from '../ticket-row.ts';

/** SQLite allows a bounded number of parameters per statement. */
const ID_CHUNK = 500;

/**
 * The satisfaction call-backs (issue 13, migration 009). Kept apart from sqlite-store.ts, which is
 * about the ticket lifecycle; the call-back's ticket event is written by the store's own writer.
 */
export class SqliteCallbacks {
  readonly #db: Database.Database;
  readonly #insertEvent: (ticket: Ticket, event: NewTicketEvent) => TicketEvent;

  constructor(db: Database.Database, insertEvent: (ticket: Ticket, event: NewTicketEvent) => TicketEvent) {
    this.#db = db;
    this.#insertEvent = insertEvent;
  }

  record(c: Callback, event: NewTicketEvent): { ticket: Ticket; event: TicketEvent } {
    return this.#db.transaction(() => {
      const row = this.#db.prepare('SELECT * FROM tickets WHERE id = ?').get(c.ticketId) as
        | TicketRow
        | undefined;
      if (!row) throw notFound('ticket', c.ticketId);
      const ticket = rowToTicket(row);
      if (ticket.status !== 'closed') {
        throw conflict(
          'ticket_not_closed',
          `ticket ${c.ticketId} is ${ticket.status}: call back once it is closed`,
          {
            status: ticket.status,
          },
        );
      }
      const info = this.#db
        .prepare(
          `INSERT INTO callbacks (ticket_id, reached, score, remark, recorded_by, recorded_at)
           VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (ticket_id) DO NOTHING`,
        )
        .run(c.ticketId, c.reached ? 1 : 0, c.score ?? null, c.remark ?? null, c.recordedBy, c.recordedAt);
      if (info.changes === 0) {
        throw conflict('callback_exists', `the call-back of ticket ${c.ticketId} is recorded already`);
      }
      return { ticket, event: this.#insertEvent(ticket, event) };
    })();
  }

  list(filter: CallbackFilter): CallbackEntry[] {
    const where = ["t.status = 'closed'", 't.parent_id IS NULL'];
    const params: unknown[] = [];
    where.push(filter.due ? 'c.ticket_id IS NULL' : 'c.ticket_id IS NOT NULL');
    // Tickets closed before the upgrade that brought call-backs are not due (migration 009).
    if (filter.due) {
      where.push(
        "t.closed_at > COALESCE((SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'callbacks.dueAfter'), -1)",
      );
    }
    if (filter.from !== undefined) {
      where.push('t.closed_at >= ?');
      params.push(filter.from);
    }
    if (filter.to !== undefined) {
      where.push('t.closed_at < ?');
      params.push(filter.to);
    }
    if (filter.site !== undefined) {
      where.push('t.site = ?');
      params.push(filter.site);
    }
    if (filter.sites) {
      const sites = filter.sites.length > 0 ? filter.sites : [''];
      where.push(`t.site IN (${sites.map(() => '?').join(', ')})`);
      params.push(...sites);
    }
    const order = filter.due ? 't.closed_at ASC, t.id ASC' : 'c.recorded_at DESC, t.id DESC';
    params.push(filter.limit ?? -1);
    const rows = this.#db
      .prepare(
        `SELECT t.*, ${CALLBACK_COLUMNS} FROM tickets t LEFT JOIN callbacks c ON c.ticket_id = t.id
         WHERE ${where.join(' AND ')} ORDER BY ${order} LIMIT ?`,
      )
      .all(...params) as CallbackJoinedRow[];
    return rows.map(joinedToCallbackEntry);
  }

  satisfaction(ticketIds: readonly number[]): Callback[] {
    const out: Callback[] = [];
    for (let i = 0; i < ticketIds.length; i += ID_CHUNK) {
      const ids = ticketIds.slice(i, i + ID_CHUNK);
      const rows = this.#db
        .prepare(
          `SELECT * FROM callbacks WHERE ticket_id IN (${ids.map(() => '?').join(', ')}) ORDER BY ticket_id`,
        )
        .all(...ids) as CallbackRow[];
      out.push(...rows.map(rowToCallback));
    }
    return out;
  }
}
