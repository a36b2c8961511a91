import type { TicketStatus } from '../domain/types.ts';
import { likeLiteral } from './rows.ts';
import type { TicketFilter, TicketGuard, TicketPatch } from './store.ts';
import { patchColumns } from './ticket-row.ts';

/**
 * What differs between the stores' SQL for the same ticket query: how a value is bound, how a
 * column is compared with a list, and two function names. Each `bind` call adds one parameter in
 * the order the text is built, and returns its placeholder.
 */
export interface SqlDialect {
  bind(value: unknown): string;
  /** `column` equals one of `values` (none matches an empty list). */
  oneOf(column: string, values: readonly unknown[]): string;
  /** Case-insensitive LIKE (for ASCII at least). */
  like: 'LIKE' | 'ILIKE';
  /** The smaller of two values: SQLite's scalar MIN, PostgreSQL's LEAST. */
  least: 'MIN' | 'LEAST';
  /** The character of a code (the `open_key` separator): `char` or `chr`. */
  char: 'char' | 'chr';
  /** LIMIT's "no limit": SQLite's -1, PostgreSQL's NULL. */
  noLimit: -1 | null;
}

/** `?` placeholders and a value list in order (better-sqlite3). */
export function positionalDialect(): SqlDialect & { values: unknown[] } {
  const values: unknown[] = [];
  return {
    values,
    bind(value) {
      values.push(value);
      return '?';
    },
    oneOf(column, list) {
      if (list.length === 0) return '0';
      values.push(...list);
      return `${column} IN (${list.map(() => '?').join(', ')})`;
    },
    like: 'LIKE',
    least: 'MIN',
    char: 'char',
    noLimit: -1,
  };
}

/** `$n` placeholders; a list is one array parameter (node-postgres). */
export function numberedDialect(): SqlDialect & { values: unknown[] } {
  const values: unknown[] = [];
  const bind = (value: unknown) => {
    values.push(value);
    return `$${values.length}`;
  };
  return {
    values,
    bind,
    oneOf: (column, list) => `${column} = ANY(${bind(list)}::text[])`,
    like: 'ILIKE',
    least: 'LEAST',
    char: 'chr',
    noLimit: null,
  };
}

const NO_DEADLINE = 9e15;

/**
 * The nearest deadline still to meet: arrival before arrival, repair before the repair is
 * reported; one already missed sorts first (most overdue first). Clocks paused by planned work
 * or counted on an outage come after every running one, tickets with none last.
 */
function nextDeadline(d: SqlDialect): string {
  return `(${d.least}(
  CASE WHEN status IN ('raised', 'dispatched') AND arrival_due_at IS NOT NULL AND arrival_at IS NULL
    THEN arrival_due_at ELSE ${NO_DEADLINE} END,
  CASE WHEN status IN ('raised', 'dispatched', 'on_site') AND repair_at IS NULL
    THEN repair_due_at ELSE ${NO_DEADLINE} END
) + CASE WHEN sla_paused_at IS NOT NULL OR parent_id IS NOT NULL THEN ${NO_DEADLINE} ELSE 0 END)`;
}

/** `SELECT * FROM tickets` with the filter's conditions, order and page. */
export function listTicketsSql(filter: TicketFilter, d: SqlDialect): string {
  const where: string[] = [];
  if (filter.status?.length) where.push(d.oneOf('status', filter.status));
  if (filter.sites) where.push(d.oneOf('site', filter.sites));
  if (filter.open) where.push("status <> 'closed'");
  if (filter.detectedFrom !== undefined) where.push(`detected_at >= ${d.bind(filter.detectedFrom)}`);
  if (filter.detectedTo !== undefined) where.push(`detected_at < ${d.bind(filter.detectedTo)}`);
  if (filter.q !== undefined) {
    // People say and type the number with or without its dashes, in any case.
    const pattern = d.bind(`%${likeLiteral(filter.q.replace(/[\s-]/g, '').toUpperCase())}%`);
    const byNumber = `replace(work_order, '-', '') ${d.like} ${pattern} ESCAPE '\\'`;
    const id = /^\d{1,15}$/.test(filter.q.trim()) ? Number(filter.q.trim()) : undefined;
    where.push(id === undefined ? byNumber : `(${byNumber} OR id = ${d.bind(id)})`);
  }
  for (const [column, value] of [
    ['site', filter.site],
    ['category', filter.category],
    ['asset_id', filter.assetId],
    ['assignee', filter.assignee],
    ['parent_id', filter.parentId],
  ] as const) {
    if (value !== undefined) where.push(`${column} = ${d.bind(value)}`);
  }
  const order = filter.sort === 'deadline' ? `${nextDeadline(d)} ASC, id ASC` : 'id DESC';
  const limit = d.bind(filter.limit ?? d.noLimit);
  return `SELECT * FROM tickets ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ${order} LIMIT ${limit} OFFSET ${d.bind(filter.offset ?? 0)}`;
}

/**
 * The compare-and-set of a lifecycle step: `UPDATE tickets SET <patch> WHERE` the id, the
 * expected status and every guard. A closed ticket gives up its `open_key`; a reopened one takes
 * it again (one open ticket per asset and fault).
 */
export function updateTicketSql(
  id: number,
  patch: TicketPatch,
  expectStatus: readonly TicketStatus[] | undefined,
  guard: TicketGuard,
  d: SqlDialect,
): string {
  const sets = patchColumns(patch).map(([column, value]) => `${column} = ${d.bind(value)}`);
  if (patch.status === 'closed') sets.push('open_key = NULL');
  else if (patch.status) sets.push(`open_key = site || ${d.char}(31) || asset_id || ${d.char}(31) || fault`);
  const where = [`id = ${d.bind(id)}`];
  if (expectStatus && expectStatus.length > 0) where.push(d.oneOf('status', expectStatus));
  if (guard.escalationBelow)
    where.push(`${guard.escalationBelow.clock}_escalation < ${d.bind(guard.escalationBelow.level)}`);
  if (guard.verifyDueAt !== undefined) where.push(`verify_due_at = ${d.bind(guard.verifyDueAt)}`);
  if (guard.slaPaused !== undefined) where.push(`sla_paused_at IS ${guard.slaPaused ? 'NOT NULL' : 'NULL'}`);
  if (guard.notBreached) where.push(`${guard.notBreached}_breached_at IS NULL`);
  return `UPDATE tickets SET ${sets.join(', ')} WHERE ${where.join(' AND ')}`;
}
