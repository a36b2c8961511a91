import type pg from 'pg';
import { conflict, notFound } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type {
  Callback,
  KbEntry,
  MaintenanceWindow,
  Shift,
  Ticket,
  TicketEvent,
  TicketStatus,
  User,
} from '../../domain/types.ts';
import { workOrderNumber } from '../../domain/work-order.ts';
import {
  type AuditRow,
  DEAD_LETTER_RETENTION,
  type DeadLetterRow,
  type GatewayRow,
  publicUser,
  rowToAudit,
  rowToDeadLetter,
  rowToGateway,
  rowToUser,
  USER_COLUMNS,
  type UserRow,
} from '../rows.ts';
import type {
  AssetConfirmation,
  AuditEntry,
  CallbackEntry,
  CallbackFilter,
  DeadLetter,
  DiscoveredAsset,
  GatewayRecord,
  KbFilter,
  KbPatch,
  LogEntry,
  NewDeadLetter,
  NewKbEntry,
  NewRuleVersion,
  NewShift,
  NewTicket,
  NewTicketEvent,
  NewUser,
  OpenTicketKey,
  Page,
  RuleDecision,
  RuleNoiseRow,
  RuleVersion,
  Store,
  TicketFilter,
  TicketGuard,
  TicketPatch,
  UserPatch,
  UserRecord,
} from '../store.ts';
import {
  type DiscoveredAssetRow,
  newTicketColumns,
  openKey,
  rowToDiscoveredAsset,
  rowToEvent,
  rowToTicket,
  rowToWindow,
  type TicketEventRow,
  type TicketRow,
  type WindowRow,
} from '../ticket-row.ts';
import { listTicketsSql, numberedDialect, updateTicketSql } from '../ticket-sql.ts';
import { PostgresCallbacks } from './callbacks.ts';
import { PostgresFieldTables } from './field-tables.ts';
import { runMigrations } from './migrate.ts';
import { changes, createPool, type Db, inTransaction, isUniqueViolation, one, rows } from './pg-client.ts';
import { PostgresRuleVersions } from './rule-versions.ts';
import { appendTicketEvent } from './ticket-log.ts';

export { DEAD_LETTER_RETENTION } from '../rows.ts';
export { MIGRATION_LOCK_KEY } from './migrate.ts';
export { TICKET_LOG_CHANNEL, TICKET_LOG_LOCK_KEY } from './ticket-log.ts';

export interface PostgresStoreOptions {
  /** Connections in the pool (default 10); each transaction holds one until it ends. */
  poolSize?: number;
  log?: Logger;
}

/**
 * PostgreSQL through a pg.Pool, for several xiaoer processes sharing one database. Every write
 * that must be atomic is one transaction on one pooled client (`inTransaction`). What SQLite gets
 * from having one writer, this gets from the database, so that it holds across processes:
 *
 * - one open ticket per site, asset and fault: the partial unique index `tickets_open_key`;
 * - work-order numbers: `work_order_days` moved by INSERT ... ON CONFLICT DO UPDATE in the
 *   ticket's transaction (the row stays locked until COMMIT), and the unique `tickets_work_order`;
 * - compare-and-set updates: one guarded UPDATE ... WHERE ... RETURNING, which PostgreSQL
 *   re-checks against the row a concurrent writer committed before applying it;
 * - the event log becoming visible in id order: the advisory lock `TICKET_LOG_LOCK_KEY`
 *   (ticket-log.ts), and each new event announced with NOTIFY on `TICKET_LOG_CHANNEL`;
 * - migrations: one transaction under the advisory lock `MIGRATION_LOCK_KEY` (migrate.ts).
 */
export class PostgresStore implements Store {
  readonly driver = 'postgres';
  readonly #pool: pg.Pool;
  readonly #log: Logger | undefined;
  readonly #field: PostgresFieldTables;
  readonly #callbacks: PostgresCallbacks;
  readonly #ruleVersions: PostgresRuleVersions;
  #deadLetterInserts = 0;
  #closed = false;

  /** `url`: a libpq connection URL, `postgres://user@host:5432/database`. */
  constructor(url: string, opts: PostgresStoreOptions = {}) {
    this.#log = opts.log;
    this.#pool = createPool(url, opts);
    this.#field = new PostgresFieldTables(this.#pool);
    this.#callbacks = new PostgresCallbacks(this.#pool);
    this.#ruleVersions = new PostgresRuleVersions(this.#pool);
  }

  async migrate(): Promise<void> {
    const ran = await runMigrations(this.#pool);
    if (ran.length > 0) this.#log?.info({ migrations: ran }, 'postgres: schema migrated');
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }

  async findOpenTicket(key: OpenTicketKey): Promise<Ticket | undefined> {
    const row = await one<TicketRow>(this.#pool, 'SELECT * FROM tickets WHERE open_key = $1', [
      openKey(key.site, key.assetId, key.fault),
    ]);
    return row ? rowToTicket(row) : undefined;
  }

  async createTicket(
    ticket: NewTicket,
    event: NewTicketEvent,
    workOrderPrefix: string,
  ): Promise<{ ticket: Ticket; event: TicketEvent }> {
    const columns = newTicketColumns(ticket);
    const names = [...Object.keys(columns), 'work_order'];
    const insert = `INSERT INTO tickets (${names.join(', ')}) VALUES (${names.map((_, i) => `$${i + 1}`).join(', ')})
      RETURNING *`;
    return inTransaction(this.#pool, async (client) => {
      // The counter moves inside the insert's transaction: a refused ticket rolls it back. Its row
      // stays locked until COMMIT, so numbers of one prefix are given one transaction at a time.
      const { last_seq: seq } = (await one<{ last_seq: number }>(
        client,
        `INSERT INTO work_order_days (prefix, last_seq) VALUES ($1, 1)
         ON CONFLICT (prefix) DO UPDATE SET last_seq = work_order_days.last_seq + 1 RETURNING last_seq`,
        [workOrderPrefix],
      )) as { last_seq: number };
      let row: TicketRow;
      try {
        row = (await one<TicketRow>(client, insert, [
          ...Object.values(columns),
          workOrderNumber(workOrderPrefix, seq),
        ])) as TicketRow;
      } catch (err) {
        // Another process's open ticket, committed or not: the INSERT waits for it to commit.
        if (isUniqueViolation(err, 'tickets_open_key')) {
          throw conflict('ticket_exists', `an open ticket exists for ${ticket.assetId} / ${ticket.fault}`);
        }
        throw err;
      }
      const saved = rowToTicket(row);
      return { ticket: saved, event: await appendTicketEvent(client, saved, event) };
    });
  }

  async updateTicket(
    id: number,
    patch: TicketPatch,
    event: NewTicketEvent,
    expectStatus?: readonly TicketStatus[],
    guard: TicketGuard = {},
  ): Promise<{ ticket: Ticket; event: TicketEvent }> {
    const p = numberedDialect();
    const sql = updateTicketSql(id, patch, expectStatus, guard, p);
    // One statement is the compare-and-set: when another process changed the row meanwhile, the
    // UPDATE waits for its COMMIT and evaluates the conditions again on the row it left (READ
    // COMMITTED), so of two racing changes from the same status only one applies.
    const update = `${sql} RETURNING *`;
    return inTransaction(this.#pool, async (client) => {
      let row: TicketRow | undefined;
      try {
        row = await one<TicketRow>(client, update, p.values);
      } catch (err) {
        if (isUniqueViolation(err, 'tickets_open_key')) {
          throw conflict(
            'ticket_exists',
            `another ticket is open for the same asset and fault as ticket ${id}`,
          );
        }
        throw err;
      }
      if (!row) {
        const current = await one<{ status: string }>(client, 'SELECT status FROM tickets WHERE id = $1', [
          id,
        ]);
        if (!current) throw notFound('ticket', id);
        throw conflict('ticket_conflict', `ticket ${id} is ${current.status}; the change no longer applies`, {
          status: current.status,
        });
      }
      const saved = rowToTicket(row);
      return { ticket: saved, event: await appendTicketEvent(client, saved, event) };
    });
  }

  async findRecentlyClosedTicket(key: OpenTicketKey, since: number): Promise<Ticket | undefined> {
    const row = await one<TicketRow>(
      this.#pool,
      `SELECT * FROM tickets WHERE site = $1 AND asset_id = $2 AND fault = $3 AND status = 'closed'
       AND repair_verified_at >= $4 ORDER BY closed_at DESC LIMIT 1`,
      [key.site, key.assetId, key.fault, since],
    );
    return row ? rowToTicket(row) : undefined;
  }

  async addMaintenanceWindow(w: Omit<MaintenanceWindow, 'id'>): Promise<MaintenanceWindow> {
    const row = (await one<WindowRow>(
      this.#pool,
      `INSERT INTO maintenance_windows (site, asset_id, starts_at, ends_at, reason, created_by, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
      [w.site, w.assetId ?? null, w.startsAt, w.endsAt, w.reason, w.createdBy, w.createdAt],
    )) as WindowRow;
    return rowToWindow(row);
  }

  async listMaintenanceWindows(after: number): Promise<MaintenanceWindow[]> {
    return (
      await rows<WindowRow>(
        this.#pool,
        'SELECT * FROM maintenance_windows WHERE cancelled_at IS NULL AND ends_at > $1 ORDER BY starts_at',
        [after],
      )
    ).map(rowToWindow);
  }

  async cancelMaintenanceWindow(id: number, by: string, at: number): Promise<MaintenanceWindow> {
    const row = await one<WindowRow>(
      this.#pool,
      `UPDATE maintenance_windows SET cancelled_at = $1, cancelled_by = $2 WHERE id = $3 AND cancelled_at IS NULL
       RETURNING *`,
      [at, by, id],
    );
    if (!row) throw notFound('active maintenance window', id);
    return rowToWindow(row);
  }

  async getTicket(id: number): Promise<Ticket | undefined> {
    return this.#getTicket(this.#pool, id);
  }

  async readTicketLog(after: number, limit: number): Promise<LogEntry[]> {
    const result = await rows<TicketEventRow & { ticket: string | null; work_order: string | null }>(
      this.#pool,
      `SELECT e.*, t.work_order FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id
       WHERE e.id > $1 ORDER BY e.id LIMIT $2`,
      [after, limit],
    );
    const entries: LogEntry[] = [];
    for (const r of result) {
      // Every event this store writes has its snapshot; the fallback mirrors SQLite's for rows
      // copied over from an older database.
      const ticket =
        r.ticket === null
          ? await this.#getTicket(this.#pool, Number(r.ticket_id))
          : { ...(JSON.parse(r.ticket) as Ticket), workOrder: r.work_order ?? '' };
      if (!ticket) throw notFound('ticket', r.ticket_id);
      entries.push({ event: rowToEvent(r), ticket });
    }
    return entries;
  }

  async lastTicketEventId(): Promise<number> {
    const row = await one<{ id: number }>(this.#pool, 'SELECT COALESCE(MAX(id), 0) AS id FROM ticket_events');
    return Number(row?.id ?? 0);
  }

  async getConsumerPosition(consumer: string): Promise<number | undefined> {
    const row = await one<{ position: number }>(
      this.#pool,
      'SELECT position FROM consumer_positions WHERE consumer = $1',
      [consumer],
    );
    return row === undefined ? undefined : Number(row.position);
  }

  async saveConsumerPosition(consumer: string, position: number, at: number): Promise<void> {
    await this.#pool.query(
      `INSERT INTO consumer_positions (consumer, position, updated_at) VALUES ($1, $2, $3)
       ON CONFLICT (consumer) DO UPDATE SET position = EXCLUDED.position, updated_at = EXCLUDED.updated_at`,
      [consumer, position, at],
    );
  }

  async listTickets(filter: TicketFilter): Promise<Ticket[]> {
    const p = numberedDialect();
    const sql = listTicketsSql(filter, p);
    return (await rows<TicketRow>(this.#pool, sql, p.values)).map(rowToTicket);
  }

  async listTicketEvents(id: number): Promise<TicketEvent[]> {
    return (
      await rows<TicketEventRow>(this.#pool, 'SELECT * FROM ticket_events WHERE ticket_id = $1 ORDER BY id', [
        id,
      ])
    ).map(rowToEvent);
  }

  async createUser(user: NewUser): Promise<User> {
    try {
      const row = (await one<{ id: number }>(
        this.#pool,
        `INSERT INTO users (username, display_name, role, password_hash, created_at, sites)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
        [
          user.username,
          user.displayName,
          user.role,
          user.passwordHash,
          user.createdAt,
          JSON.stringify(user.sites ?? []),
        ],
      )) as { id: number };
      const { passwordHash: _hidden, ...rest } = user;
      return { id: Number(row.id), ...rest, sites: user.sites ?? [] };
    } catch (err) {
      if (isUniqueViolation(err, 'users_username_key')) {
        throw conflict('user_exists', `user ${user.username} already exists`);
      }
      throw err;
    }
  }

  async findUser(username: string): Promise<UserRecord | undefined> {
    const row = await one<UserRow>(this.#pool, 'SELECT * FROM users WHERE username = $1', [username]);
    return row ? rowToUser(row) : undefined;
  }

  async updateUser(username: string, patch: UserPatch): Promise<User> {
    const p = numberedDialect();
    const sets = Object.entries(patch)
      .filter(([, v]) => v !== undefined)
      .map(
        ([k, v]) =>
          `${USER_COLUMNS[k as keyof UserPatch]} = ${p.bind(Array.isArray(v) ? JSON.stringify(v) : v)}`,
      );
    const row = await one<UserRow>(
      this.#pool,
      `UPDATE users SET ${sets.join(', ')} WHERE username = ${p.bind(username)} RETURNING *`,
      p.values,
    );
    if (!row) throw notFound('user', username);
    return publicUser(rowToUser(row));
  }

  async listUsers(): Promise<User[]> {
    return (await rows<UserRow>(this.#pool, 'SELECT * FROM users ORDER BY id')).map((r) =>
      publicUser(rowToUser(r)),
    );
  }

  async countUsers(): Promise<number> {
    const row = await one<{ n: number }>(this.#pool, 'SELECT COUNT(*) AS n FROM users');
    return Number(row?.n ?? 0);
  }

  async createSession(tokenHash: string, userId: number, expiresAt: number): Promise<void> {
    await this.#pool.query('INSERT INTO sessions (token_hash, user_id, expires_at) VALUES ($1, $2, $3)', [
      tokenHash,
      userId,
      expiresAt,
    ]);
  }

  async findSessionUser(tokenHash: string, now: number): Promise<User | undefined> {
    const row = await one<UserRow>(
      this.#pool,
      `SELECT u.* FROM sessions s JOIN users u ON u.id = s.user_id
       WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled_at IS NULL`,
      [tokenHash, now],
    );
    return row ? publicUser(rowToUser(row)) : undefined;
  }

  async deleteSession(tokenHash: string): Promise<void> {
    await this.#pool.query('DELETE FROM sessions WHERE token_hash = $1', [tokenHash]);
  }

  async deleteUserSessions(userId: number): Promise<void> {
    await this.#pool.query('DELETE FROM sessions WHERE user_id = $1', [userId]);
  }

  async deleteExpiredSessions(now: number): Promise<void> {
    await this.#pool.query('DELETE FROM sessions WHERE expires_at <= $1', [now]);
  }

  async addRuleVersion(version: NewRuleVersion): Promise<RuleVersion> {
    return this.#ruleVersions.add(version);
  }

  async listRuleVersions(ruleId?: string): Promise<RuleVersion[]> {
    return this.#ruleVersions.list(ruleId);
  }

  async decideRuleVersion(ruleId: string, version: number, decision: RuleDecision): Promise<RuleVersion> {
    return this.#ruleVersions.decide(ruleId, version, decision);
  }

  async ruleNoise(since: number): Promise<RuleNoiseRow[]> {
    return this.#ruleVersions.noise(since);
  }

  async recordCallback(
    callback: Callback,
    event: NewTicketEvent,
  ): Promise<{ ticket: Ticket; event: TicketEvent }> {
    return this.#callbacks.record(callback, event);
  }

  async listCallbacks(filter: CallbackFilter): Promise<CallbackEntry[]> {
    return this.#callbacks.list(filter);
  }

  async satisfaction(ticketIds: readonly number[]): Promise<Callback[]> {
    return this.#callbacks.satisfaction(ticketIds);
  }

  async addAudit(entry: Omit<AuditEntry, 'id'>): Promise<AuditEntry> {
    const row = (await one<{ id: number }>(
      this.#pool,
      'INSERT INTO audit_log (at, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5) RETURNING id',
      [entry.at, entry.actor, entry.action, entry.target, JSON.stringify(entry.detail)],
    )) as { id: number };
    return { id: Number(row.id), ...entry };
  }

  async listAudit(page: Page): Promise<AuditEntry[]> {
    return (
      await rows<AuditRow>(this.#pool, 'SELECT * FROM audit_log ORDER BY id DESC LIMIT $1 OFFSET $2', [
        page.limit,
        page.offset,
      ])
    ).map(rowToAudit);
  }

  async recordGatewayConnected(site: string, username: string, at: number): Promise<void> {
    await this.#pool.query(
      `INSERT INTO gateways (site, username, first_connected_at, last_connected_at) VALUES ($1, $2, $3, $3)
       ON CONFLICT (site, username) DO UPDATE SET last_connected_at = EXCLUDED.last_connected_at`,
      [site, username, at],
    );
  }

  async recordGatewayDisconnected(site: string, username: string, at: number): Promise<void> {
    await this.#pool.query(
      'UPDATE gateways SET last_disconnected_at = $1 WHERE site = $2 AND username = $3',
      [at, site, username],
    );
  }

  async listGateways(): Promise<GatewayRecord[]> {
    return (await rows<GatewayRow>(this.#pool, 'SELECT * FROM gateways ORDER BY site, username')).map(
      rowToGateway,
    );
  }

  async addDiscoveredAsset(a: DiscoveredAsset): Promise<void> {
    await this.#pool.query(
      `INSERT INTO discovered_assets (site, id, kind, category, name, location, status, source, first_seen_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (site, id) DO NOTHING`,
      [
        a.site,
        a.id,
        a.kind,
        a.category ?? null,
        a.name ?? null,
        a.location ?? null,
        a.status,
        a.source,
        a.firstSeenAt,
      ],
    );
  }

  async listDiscoveredAssets(): Promise<DiscoveredAsset[]> {
    return (
      await rows<DiscoveredAssetRow>(this.#pool, 'SELECT * FROM discovered_assets ORDER BY site, id')
    ).map(rowToDiscoveredAsset);
  }

  async confirmDiscoveredAsset(site: string, id: string, c: AssetConfirmation): Promise<DiscoveredAsset> {
    const row = await one<DiscoveredAssetRow>(
      this.#pool,
      `UPDATE discovered_assets SET status = 'confirmed', kind = $1, category = $2, name = COALESCE($3, name),
       location = COALESCE($4, location), confirmed_at = $5, confirmed_by = $6 WHERE site = $7 AND id = $8
       RETURNING *`,
      [c.kind, c.category, c.name ?? null, c.location ?? null, c.at, c.by, site, id],
    );
    if (!row) throw notFound('asset', `${site}/${id}`);
    return rowToDiscoveredAsset(row);
  }

  async startShift(shift: NewShift, endOpenAt: number): Promise<{ shift: Shift; ended?: Shift }> {
    return this.#field.startShift(shift, endOpenAt);
  }

  async endShift(username: string, at: number): Promise<Shift | undefined> {
    return this.#field.endShift(username, at);
  }

  async listOpenShifts(): Promise<Shift[]> {
    return this.#field.listOpenShifts();
  }

  async listKb(filter: KbFilter): Promise<KbEntry[]> {
    return this.#field.listKb(filter);
  }

  async getKb(id: number): Promise<KbEntry | undefined> {
    return this.#field.getKb(id);
  }

  async addKb(entry: NewKbEntry): Promise<KbEntry> {
    return this.#field.addKb(entry);
  }

  async updateKb(id: number, patch: KbPatch): Promise<KbEntry> {
    return this.#field.updateKb(id, patch);
  }

  async deleteKb(id: number): Promise<void> {
    return this.#field.deleteKb(id);
  }

  async settingOrInit(key: string, init: string): Promise<string> {
    return this.#field.settingOrInit(key, init);
  }

  async addDeadLetter(r: NewDeadLetter): Promise<void> {
    // Keep the newest DEAD_LETTER_RETENTION rows: enough to diagnose, bounded under a flood. Each
    // process counts its own inserts; any of them pruning keeps the table bounded.
    if (++this.#deadLetterInserts % 1000 === 0) {
      await changes(
        this.#pool,
        'DELETE FROM dead_letters WHERE id <= (SELECT MAX(id) FROM dead_letters) - $1',
        [DEAD_LETTER_RETENTION],
      );
    }
    await this.#pool.query(
      `INSERT INTO dead_letters (at, site, topic, reason, detail, payload_bytes, payload_head)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [r.at, r.site ?? null, r.topic, r.reason, r.detail, r.payloadBytes, r.payloadHead],
    );
  }

  async listDeadLetters(page: Page): Promise<DeadLetter[]> {
    return (
      await rows<DeadLetterRow>(
        this.#pool,
        'SELECT * FROM dead_letters ORDER BY id DESC LIMIT $1 OFFSET $2',
        [page.limit, page.offset],
      )
    ).map(rowToDeadLetter);
  }

  async countDeadLetters(): Promise<number> {
    const row = await one<{ n: number }>(this.#pool, 'SELECT COUNT(*) AS n FROM dead_letters');
    return Number(row?.n ?? 0);
  }

  async #getTicket(db: Db, id: number): Promise<Ticket | undefined> {
    const row = await one<TicketRow>(db, 'SELECT * FROM tickets WHERE id = $1', [id]);
    return row ? rowToTicket(row) : undefined;
  }
}
