import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setImmediate as nextTurn } from 'node:timers';
import Database from 'better-sqlite3';
import { conflict, notFound } from '../../core/errors.ts';
import { PROJECT_ROOT } from '../../core/paths.ts';
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
import { listTicketsSql, positionalDialect, updateTicketSql } from '../ticket-sql.ts';
import { SqliteCallbacks } from './callbacks.ts';
import { SqliteFieldTables } from './field-tables.ts';
import { SqliteRuleVersions } from './rule-versions.ts';

export { DEAD_LETTER_RETENTION } from '../rows.ts';

// The SQL files stay in the source tree; the compiled output (build/) reads them there.
const MIGRATIONS_DIR = path.join(PROJECT_ROOT, 'src/store/sqlite/migrations');

/**
 * SQLite via better-sqlite3 in WAL mode. better-sqlite3 is synchronous, so each method's work is one
 * uninterrupted transaction; the signatures are async because the Store contract does not assume
 * an in-process database.
 */
/** Writes sharing one transaction, each waiting for its COMMIT. */
interface CommitGroup {
  waiting: { resolve(): void; reject(err: unknown): void }[];
}

export class SqliteStore implements Store {
  readonly driver = 'sqlite';
  readonly #db: Database.Database;
  readonly #statements = new Map<string, Database.Statement>();
  #deadLetterInserts = 0;
  readonly #ruleVersions: SqliteRuleVersions;
  readonly #field: SqliteFieldTables;
  readonly #callbacks: SqliteCallbacks;
  /** The ticket writes of this turn of the event loop, committed together; see `#grouped`. */
  #group: CommitGroup | undefined;
  /** On in the service (App); off, each ticket write is its own transaction, settled at once. */
  readonly #groupCommit: boolean;

  /**
   * `file` is a path, or `:memory:` for unit tests. `synchronous: 'full'` (the default) syncs the
   * WAL on every commit, so an acknowledged alert survives a power cut too; `normal` only survives
   * a crash of the process, and is faster.
   */
  constructor(file: string, opts: { synchronous?: 'full' | 'normal'; groupCommit?: boolean } = {}) {
    if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
    this.#db = new Database(file);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma(`synchronous = ${opts.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
    this.#db.pragma('foreign_keys = ON');
    this.#db.pragma('busy_timeout = 5000');
    this.#groupCommit = opts.groupCommit ?? false;
    this.#ruleVersions = new SqliteRuleVersions(this.#db);
    this.#field = new SqliteFieldTables(this.#db);
    this.#callbacks = new SqliteCallbacks(this.#db, (ticket, e) => this.#insertEvent(ticket, e));
  }

  async migrate(): Promise<void> {
    this.#db.exec(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
    );
    const applied = new Set(
      this.#db
        .prepare('SELECT version FROM schema_migrations')
        .all()
        .map((r) => (r as { version: number }).version),
    );
    const files = readdirSync(MIGRATIONS_DIR)
      .filter((f) => /^\d+_.+\.sql$/.test(f))
      .sort();
    // Rebuilding a table (SQLite's "generalized ALTER TABLE procedure") needs foreign keys off
    // outside the transaction, and a check before commit that every reference still holds.
    this.#db.pragma('foreign_keys = OFF');
    try {
      for (const file of files) {
        const version = Number.parseInt(file, 10);
        if (applied.has(version)) continue;
        const sql = readFileSync(path.join(MIGRATIONS_DIR, file), 'utf8');
        this.#db.transaction(() => {
          this.#db.exec(sql);
          const broken = this.#db.pragma('foreign_key_check') as unknown[];
          if (broken.length > 0) throw new Error(`migration ${file} broke ${broken.length} foreign keys`);
          this.#db
            .prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
            .run(version, file, Date.now());
        })();
      }
    } finally {
      this.#db.pragma('foreign_keys = ON');
    }
  }

  async close(): Promise<void> {
    if (this.#group) this.#commit(this.#group);
    if (this.#db.open) this.#db.close();
  }

  /**
   * Group commit for ticket writes. With `synchronous: full` every COMMIT waits for the disk
   * (about 0.2 ms on the bench's VM), and 1,700 SLA breaches a second, each with its escalation,
   * were more commits than the disk allows. So the ticket writes of one turn of the event loop
   * share one transaction: the first opens it, each write runs in a savepoint of its own (a write
   * that fails undoes only itself), and the transaction is committed on the loop's next turn
   * (setImmediate). A write's promise settles only after that COMMIT, so whoever waits on it (the
   * broker's PUBACK, the event log, the API's answer) still learns of it only once it is on disk.
   * Other writes made while the group is open join it; reads in the meantime see it already.
   * `groupCommit` turns it on (the App does; unit tests with fake timers keep writes settling at
   * once, and test the group on its own).
   */
  #grouped<T>(write: () => T): Promise<T> {
    if (!this.#groupCommit) return Promise.resolve(this.#db.transaction(write)());
    let group = this.#group;
    if (!group) {
      this.#db.exec('BEGIN IMMEDIATE');
      const opened: CommitGroup = { waiting: [] };
      group = opened;
      this.#group = opened;
      // The real timer, imported: a test's fake timers must not hold commits back.
      nextTurn(() => this.#commit(opened));
    }
    let result: T;
    try {
      result = this.#db.transaction(write)();
    } catch (err) {
      return Promise.reject(err);
    }
    const joined = group;
    return new Promise<T>((resolve, reject) =>
      joined.waiting.push({ resolve: () => resolve(result), reject }),
    );
  }

  #commit(group: CommitGroup): void {
    if (this.#group !== group) return;
    this.#group = undefined;
    try {
      this.#db.exec('COMMIT');
    } catch (err) {
      try {
        if (this.#db.inTransaction) this.#db.exec('ROLLBACK');
      } catch {
        // The connection is gone; the writes are lost either way, and each waiter hears why.
      }
      for (const w of group.waiting) w.reject(err);
      return;
    }
    for (const w of group.waiting) w.resolve();
  }

  async findOpenTicket(key: OpenTicketKey): Promise<Ticket | undefined> {
    const row = this.#stmt('SELECT * FROM tickets WHERE open_key = ?').get(
      openKey(key.site, key.assetId, key.fault),
    ) as TicketRow | undefined;
    return row ? rowToTicket(row) : undefined;
  }

  async createTicket(
    ticket: NewTicket,
    event: NewTicketEvent,
    workOrderPrefix: string,
  ): Promise<{ ticket: Ticket; event: TicketEvent }> {
    const columns = newTicketColumns(ticket);
    const names = [...Object.keys(columns), 'work_order'];
    const insert = this.#stmt(
      `INSERT INTO tickets (${names.join(', ')}) VALUES (${names.map((n) => `@${n}`).join(', ')})`,
    );
    // The counter moves inside the insert's transaction: a refused ticket rolls it back.
    const nextSeq = this.#stmt(
      `INSERT INTO work_order_days (prefix, last_seq) VALUES (?, 1)
       ON CONFLICT (prefix) DO UPDATE SET last_seq = last_seq + 1 RETURNING last_seq`,
    );
    return this.#grouped(() => {
      let id: number;
      try {
        const seq = (nextSeq.get(workOrderPrefix) as { last_seq: number }).last_seq;
        id = Number(
          insert.run({ ...columns, work_order: workOrderNumber(workOrderPrefix, seq) }).lastInsertRowid,
        );
      } catch (err) {
        if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
          throw conflict('ticket_exists', `an open ticket exists for ${ticket.assetId} / ${ticket.fault}`);
        }
        throw err;
      }
      const saved = this.#getTicket(id);
      return { ticket: saved, event: this.#insertEvent(saved, event) };
    });
  }

  async updateTicket(
    id: number,
    patch: TicketPatch,
    event: NewTicketEvent,
    expectStatus?: readonly TicketStatus[],
    guard: TicketGuard = {},
  ): Promise<{ ticket: Ticket; event: TicketEvent }> {
    const d = positionalDialect();
    const update = this.#stmt(updateTicketSql(id, patch, expectStatus, guard, d));
    const params = d.values;
    return this.#grouped(() => {
      let changes: number;
      try {
        changes = update.run(...params).changes;
      } catch (err) {
        if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
          throw conflict(
            'ticket_exists',
            `another ticket is open for the same asset and fault as ticket ${id}`,
          );
        }
        throw err;
      }
      if (changes === 0) {
        const current = this.#stmt('SELECT status FROM tickets WHERE id = ?').get(id) as
          | { status: string }
          | undefined;
        if (!current) throw notFound('ticket', id);
        throw conflict('ticket_conflict', `ticket ${id} is ${current.status}; the change no longer applies`, {
          status: current.status,
        });
      }
      const saved = this.#getTicket(id);
      return { ticket: saved, event: this.#insertEvent(saved, event) };
    });
  }

  async findRecentlyClosedTicket(key: OpenTicketKey, since: number): Promise<Ticket | undefined> {
    const row = this.#stmt(
      `SELECT * FROM tickets WHERE site = ? AND asset_id = ? AND fault = ? AND status = 'closed'
       AND repair_verified_at >= ? ORDER BY closed_at DESC LIMIT 1`,
    ).get(key.site, key.assetId, key.fault, since) as TicketRow | undefined;
    return row ? rowToTicket(row) : undefined;
  }

  async addMaintenanceWindow(w: Omit<MaintenanceWindow, 'id'>): Promise<MaintenanceWindow> {
    const info = this.#stmt(
      `INSERT INTO maintenance_windows (site, asset_id, starts_at, ends_at, reason, created_by, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ).run(w.site, w.assetId ?? null, w.startsAt, w.endsAt, w.reason, w.createdBy, w.createdAt);
    return this.#getWindow(Number(info.lastInsertRowid));
  }

  async listMaintenanceWindows(after: number): Promise<MaintenanceWindow[]> {
    return (
      this.#stmt(
        'SELECT * FROM maintenance_windows WHERE cancelled_at IS NULL AND ends_at > ? ORDER BY starts_at',
      ).all(after) as WindowRow[]
    ).map(rowToWindow);
  }

  async cancelMaintenanceWindow(id: number, by: string, at: number): Promise<MaintenanceWindow> {
    const info = this.#stmt(
      'UPDATE maintenance_windows SET cancelled_at = ?, cancelled_by = ? WHERE id = ? AND cancelled_at IS NULL',
    ).run(at, by, id);
    if (info.changes === 0) throw notFound('active maintenance window', id);
    return this.#getWindow(id);
  }

  #getWindow(id: number): MaintenanceWindow {
    const row = this.#stmt('SELECT * FROM maintenance_windows WHERE id = ?').get(id) as WindowRow | undefined;
    if (!row) throw notFound('maintenance window', id);
    return rowToWindow(row);
  }

  async readTicketLog(after: number, limit: number): Promise<LogEntry[]> {
    const rows = this.#stmt(
      `SELECT e.*, t.work_order FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id
       WHERE e.id > ? ORDER BY e.id LIMIT ?`,
    ).all(after, limit) as (TicketEventRow & {
      ticket: string | null;
      work_order: string | null;
    })[];
    return rows.map((r) => ({
      event: rowToEvent(r),
      // Events written before the log kept snapshots carry the ticket as it is now; those written
      // before migration 009 lack the work-order number, which never changes.
      ticket:
        r.ticket === null
          ? this.#getTicket(r.ticket_id)
          : { ...(JSON.parse(r.ticket) as Ticket), workOrder: r.work_order ?? '' },
    }));
  }

  async lastTicketEventId(): Promise<number> {
    return (this.#stmt('SELECT COALESCE(MAX(id), 0) AS id FROM ticket_events').get() as { id: number }).id;
  }

  async getConsumerPosition(consumer: string): Promise<number | undefined> {
    const row = this.#stmt('SELECT position FROM consumer_positions WHERE consumer = ?').get(consumer) as
      | { position: number }
      | undefined;
    return row?.position;
  }

  async saveConsumerPosition(consumer: string, position: number, at: number): Promise<void> {
    this.#stmt(
      `INSERT INTO consumer_positions (consumer, position, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (consumer) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at`,
    ).run(consumer, position, at);
  }

  async getTicket(id: number): Promise<Ticket | undefined> {
    const row = this.#stmt('SELECT * FROM tickets WHERE id = ?').get(id) as TicketRow | undefined;
    return row ? rowToTicket(row) : undefined;
  }

  async listTickets(filter: TicketFilter): Promise<Ticket[]> {
    const d = positionalDialect();
    const sql = listTicketsSql(filter, d);
    const params = d.values;
    return (this.#stmt(sql).all(...params) as TicketRow[]).map(rowToTicket);
  }

  async listTicketEvents(id: number): Promise<TicketEvent[]> {
    return (
      this.#stmt('SELECT * FROM ticket_events WHERE ticket_id = ? ORDER BY id').all(id) as TicketEventRow[]
    ).map(rowToEvent);
  }

  async createUser(user: NewUser): Promise<User> {
    try {
      const info = this.#stmt(
        'INSERT INTO users (username, display_name, role, password_hash, created_at, sites) VALUES (?, ?, ?, ?, ?, ?)',
      ).run(
        user.username,
        user.displayName,
        user.role,
        user.passwordHash,
        user.createdAt,
        JSON.stringify(user.sites ?? []),
      );
      const { passwordHash: _hidden, ...rest } = user;
      return { id: Number(info.lastInsertRowid), ...rest, sites: user.sites ?? [] };
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
        throw conflict('user_exists', `user ${user.username} already exists`);
      }
      throw err;
    }
  }

  async findUser(username: string): Promise<UserRecord | undefined> {
    const row = this.#stmt('SELECT * FROM users WHERE username = ?').get(username) as UserRow | undefined;
    return row ? rowToUser(row) : undefined;
  }

  async updateUser(username: string, patch: UserPatch): Promise<User> {
    const sets = Object.entries(patch).filter(([, v]) => v !== undefined);
    const info = this.#stmt(
      `UPDATE users SET ${sets.map(([k]) => `${USER_COLUMNS[k as keyof UserPatch]} = ?`).join(', ')} WHERE username = ?`,
    ).run(...sets.map(([, v]) => (Array.isArray(v) ? JSON.stringify(v) : v)), username);
    if (info.changes === 0) throw notFound('user', username);
    const row = this.#stmt('SELECT * FROM users WHERE username = ?').get(username) as UserRow;
    return publicUser(rowToUser(row));
  }

  async listUsers(): Promise<User[]> {
    return (this.#stmt('SELECT * FROM users ORDER BY id').all() as UserRow[]).map((r) =>
      publicUser(rowToUser(r)),
    );
  }

  async countUsers(): Promise<number> {
    return (this.#stmt('SELECT COUNT(*) AS n FROM users').get() as { n: number }).n;
  }

  async createSession(tokenHash: string, userId: number, expiresAt: number): Promise<void> {
    this.#stmt('INSERT INTO sessions (token_hash, user_id, expires_at) VALUES (?, ?, ?)').run(
      tokenHash,
      userId,
      expiresAt,
    );
  }

  async findSessionUser(tokenHash: string, now: number): Promise<User | undefined> {
    const row = this.#stmt(
      `SELECT u.* FROM sessions s JOIN users u ON u.id = s.user_id
       WHERE s.token_hash = ? AND s.expires_at > ? AND u.disabled_at IS NULL`,
    ).get(tokenHash, now) as UserRow | undefined;
    return row ? publicUser(rowToUser(row)) : undefined;
  }

  async deleteSession(tokenHash: string): Promise<void> {
    this.#stmt('DELETE FROM sessions WHERE token_hash = ?').run(tokenHash);
  }

  async deleteUserSessions(userId: number): Promise<void> {
    this.#stmt('DELETE FROM sessions WHERE user_id = ?').run(userId);
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
    const info = this.#stmt(
      'INSERT INTO audit_log (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)',
    ).run(entry.at, entry.actor, entry.action, entry.target, JSON.stringify(entry.detail));
    return { id: Number(info.lastInsertRowid), ...entry };
  }

  async listAudit(page: Page): Promise<AuditEntry[]> {
    const rows = this.#stmt('SELECT * FROM audit_log ORDER BY id DESC LIMIT ? OFFSET ?').all(
      page.limit,
      page.offset,
    ) as AuditRow[];
    return rows.map(rowToAudit);
  }

  async recordGatewayConnected(site: string, username: string, at: number): Promise<void> {
    this.#stmt(
      `INSERT INTO gateways (site, username, first_connected_at, last_connected_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (site, username) DO UPDATE SET last_connected_at = excluded.last_connected_at`,
    ).run(site, username, at, at);
  }

  async recordGatewayDisconnected(site: string, username: string, at: number): Promise<void> {
    this.#stmt('UPDATE gateways SET last_disconnected_at = ? WHERE site = ? AND username = ?').run(
      at,
      site,
      username,
    );
  }

  async listGateways(): Promise<GatewayRecord[]> {
    return (this.#stmt('SELECT * FROM gateways ORDER BY site, username').all() as GatewayRow[]).map(
      rowToGateway,
    );
  }

  async deleteExpiredSessions(now: number): Promise<void> {
    this.#stmt('DELETE FROM sessions WHERE expires_at <= ?').run(now);
  }

  async addDiscoveredAsset(a: DiscoveredAsset): Promise<void> {
    this.#stmt(
      `INSERT INTO discovered_assets (site, id, kind, category, name, location, status, source, first_seen_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (site, id) DO NOTHING`,
    ).run(
      a.site,
      a.id,
      a.kind,
      a.category ?? null,
      a.name ?? null,
      a.location ?? null,
      a.status,
      a.source,
      a.firstSeenAt,
    );
  }

  async listDiscoveredAssets(): Promise<DiscoveredAsset[]> {
    return (
      this.#stmt('SELECT * FROM discovered_assets ORDER BY site, id').all() as DiscoveredAssetRow[]
    ).map(rowToDiscoveredAsset);
  }

  async confirmDiscoveredAsset(site: string, id: string, c: AssetConfirmation): Promise<DiscoveredAsset> {
    const info = this.#stmt(
      `UPDATE discovered_assets SET status = 'confirmed', kind = ?, category = ?, name = COALESCE(?, name),
       location = COALESCE(?, location), confirmed_at = ?, confirmed_by = ? WHERE site = ? AND id = ?`,
    ).run(c.kind, c.category, c.name ?? null, c.location ?? null, c.at, c.by, site, id);
    if (info.changes === 0) throw notFound('asset', `${site}/${id}`);
    const row = this.#stmt('SELECT * FROM discovered_assets WHERE site = ? AND id = ?').get(site, id);
    return rowToDiscoveredAsset(row as DiscoveredAssetRow);
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
    this.#field.deleteKb(id);
  }

  async settingOrInit(key: string, init: string): Promise<string> {
    return this.#field.settingOrInit(key, init);
  }

  async addDeadLetter(r: NewDeadLetter): Promise<void> {
    // Keep the newest DEAD_LETTER_RETENTION rows: enough to diagnose, bounded under a flood.
    if (++this.#deadLetterInserts % 1000 === 0) {
      this.#stmt('DELETE FROM dead_letters WHERE id <= (SELECT MAX(id) FROM dead_letters) - ?').run(
        DEAD_LETTER_RETENTION,
      );
    }
    this.#stmt(
      'INSERT INTO dead_letters (at, site, topic, reason, detail, payload_bytes, payload_head) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ).run(r.at, r.site ?? null, r.topic, r.reason, r.detail, r.payloadBytes, r.payloadHead);
  }

  async listDeadLetters(page: Page): Promise<DeadLetter[]> {
    const rows = this.#stmt('SELECT * FROM dead_letters ORDER BY id DESC LIMIT ? OFFSET ?').all(
      page.limit,
      page.offset,
    ) as DeadLetterRow[];
    return rows.map(rowToDeadLetter);
  }

  async countDeadLetters(): Promise<number> {
    return (this.#stmt('SELECT COUNT(*) AS n FROM dead_letters').get() as { n: number }).n;
  }

  /** The event with the ticket as it is after the change (the log's snapshot), in the same transaction. */
  #insertEvent(ticket: Ticket, e: NewTicketEvent): TicketEvent {
    const info = this.#stmt(
      'INSERT INTO ticket_events (ticket_id, at, actor, type, detail, ticket) VALUES (?, ?, ?, ?, ?, ?)',
    ).run(ticket.id, e.at, e.actor, e.type, JSON.stringify(e.detail), JSON.stringify(ticket));
    return { id: Number(info.lastInsertRowid), ticketId: ticket.id, ...e };
  }

  /** Prepared statements are cached: preparing costs more than running on the ingest hot path. */
  #stmt(sql: string): Database.Statement {
    let stmt = this.#statements.get(sql);
    if (!stmt) {
      stmt = this.#db.prepare(sql);
      this.#statements.set(sql, stmt);
    }
    return stmt;
  }

  #getTicket(id: number): Ticket {
    const row = this.#stmt('SELECT * FROM tickets WHERE id = ?').get(id) as TicketRow | undefined;
    if (!row) throw notFound('ticket', id);
    return rowToTicket(row);
  }
}
