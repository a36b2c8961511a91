import type pg from 'pg';
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
import { changes, inTransaction, one, rows } from './pg-client.ts';
import { appendTicketEvent } from './ticket-log.ts';

/**
 * The satisfaction call-backs (issue 13). Kept apart from postgres-store.ts, which is about the
 * ticket lifecycle; the call-back's ticket event goes through the same log writer.
 */
export class PostgresCallbacks {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async record(c: Callback, event: NewTicketEvent): Promise<{ ticket: Ticket; event: TicketEvent }> {
    return inTransaction(this.#pool, async (client) => {
      // FOR SHARE: a reopening racing the call-back waits for it, or the call-back for the
      // reopening (and then sees the ticket open). Taken before the event-log lock, like the row
      // writes of the other ticket transactions.
      const row = await one<TicketRow>(client, 'SELECT * FROM tickets WHERE id = $1 FOR SHARE', [c.ticketId]);
      if (!row) throw notFound('ticket', c.ticketId);
      const ticket = rowToTicket(row);
      if (ticket.status !== 'closed') {
        throw conflict(
          'ticket_not_closed',
          `ticket ${c.ticketId} is ${ticket.status}: call back once it is closed`,
          { status: ticket.status },
        );
      }
      const inserted = await changes(
        client,
        `INSERT INTO callbacks (ticket_id, reached, score, remark, recorded_by, recorded_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (ticket_id) DO NOTHING`,
        [c.ticketId, c.reached, c.score ?? null, c.remark ?? null, c.recordedBy, c.recordedAt],
      );
      if (inserted === 0) {
        throw conflict('callback_exists', `the call-back of ticket ${c.ticketId} is recorded already`);
      }
      return { ticket, event: await appendTicketEvent(client, ticket, event) };
    });
  }

  async list(filter: CallbackFilter): Promise<CallbackEntry[]> {
    const where = ["t.status = 'closed'", 't.parent_id IS NULL'];
    const params: unknown[] = [];
    const param = (v: unknown) => {
      params.push(v);
      return `$${params.length}`;
    };
    where.push(filter.due ? 'c.ticket_id IS NULL' : 'c.ticket_id IS NOT NULL');
    // Tickets closed before call-backs existed are not due (SQLite's migration 009).
    if (filter.due) {
      where.push(
        "t.closed_at > COALESCE((SELECT value::bigint FROM settings WHERE key = 'callbacks.dueAfter'), -1)",
      );
    }
    if (filter.from !== undefined) where.push(`t.closed_at >= ${param(filter.from)}`);
    if (filter.to !== undefined) where.push(`t.closed_at < ${param(filter.to)}`);
    if (filter.site !== undefined) where.push(`t.site = ${param(filter.site)}`);
    if (filter.sites) where.push(`t.site = ANY(${param(filter.sites)}::text[])`);
    const order = filter.due ? 't.closed_at ASC, t.id ASC' : 'c.recorded_at DESC, t.id DESC';
    const result = await rows<CallbackJoinedRow>(
      this.#pool,
      `SELECT t.*, ${CALLBACK_COLUMNS} FROM tickets t LEFT JOIN callbacks c ON c.ticket_id = t.id
       WHERE ${where.join(' AND ')} ORDER BY ${order} LIMIT ${param(filter.limit ?? null)}`,
      params,
    );
    return result.map(joinedToCallbackEntry);
  }

  async satisfaction(ticketIds: readonly number[]): Promise<Callback[]> {
    if (ticketIds.length === 0) return [];
    return (
      await rows<CallbackRow>(
        this.#pool,
        'SELECT * FROM callbacks WHERE ticket_id = ANY($1::bigint[]) ORDER BY ticket_id',
        [ticketIds],
      )
    ).map(rowToCallback);
  }
}
