import type pg from 'pg';
import type { Ticket, TicketEvent } from '../../domain/types.ts';
import type { NewTicketEvent } from '../store.ts';
import { one } from './pg-client.ts';

/** The channel each appended ticket event is announced on (NOTIFY), its id as the payload. */
export const TICKET_LOG_CHANNEL = 'xiaoer_ticket_log';

/**
 * The advisory lock (transaction-scoped) every writer of `ticket_events` takes right before its
 * insert, so before the identity sequence hands it an id. Readers page through the log with
 * `id > after`. Ids are handed out when rows are inserted, but transactions commit in their own
 * order: without the lock, process A could draw id 41, process B id 42 and commit first, and a
 * reader reading then would see 42, move its position past 41 and never read it. Under the lock,
 * ids are drawn in lock order, and each holder's commit is visible before the next can draw one
 * (PostgreSQL releases a transaction's locks after its commit became visible), so the log becomes
 * visible in id order on the whole cluster.
 *
 * The price: the tail of every ticket transaction (this insert, its NOTIFY, the COMMIT) runs one
 * at a time across the cluster. Deadlock-free because a holder waits for no other lock: its ticket
 * and work-order rows are written before it takes this one, and the foreign-key check of the
 * insert takes a KEY SHARE lock on the ticket, which no writer blocks (ticket updates take FOR NO
 * KEY UPDATE, as `tickets_open_key` is a partial index; see migrations/001_init.sql).
 */
export const TICKET_LOG_LOCK_KEY = 7_801_302_001;

/**
 * Appends a ticket's event to the log with the ticket as it is after the change (the log's
 * snapshot), in the caller's transaction, and announces it on `TICKET_LOG_CHANNEL`; PostgreSQL
 * delivers the notification at COMMIT, and never for a rolled-back transaction.
 */
export async function appendTicketEvent(
  client: pg.PoolClient,
  ticket: Ticket,
  e: NewTicketEvent,
): Promise<TicketEvent> {
  await client.query('SELECT pg_advisory_xact_lock($1)', [TICKET_LOG_LOCK_KEY]);
  const row = (await one<{ id: number }>(
    client,
    `WITH appended AS (
       INSERT INTO ticket_events (ticket_id, at, actor, type, detail, ticket) VALUES ($1, $2, $3, $4, $5, $6)
       RETURNING id
     )
     SELECT id, pg_notify($7, id::text) FROM appended`,
    [ticket.id, e.at, e.actor, e.type, JSON.stringify(e.detail), JSON.stringify(ticket), TICKET_LOG_CHANNEL],
  )) as { id: number };
  return { id: Number(row.id), ticketId: ticket.id, ...e };
}
