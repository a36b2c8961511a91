import type {
  AlarmTrigger,
  Callback,
  Instant,
  KbEntry,
  MaintenanceWindow,
  Resolution,
  Role,
  Severity,
  Shift,
  Ticket,
  TicketEvent,
  TicketStatus,
  User,
} from '../domain/types.ts';
import type { RuleConfig } from '../rules/config.ts';
import type { RuleOverrides } from '../rules/rule-set.ts';

/** A ticket as first written; the store assigns `id` and the work-order number. */
export type NewTicket = Omit<Ticket, 'id' | 'workOrder'>;

/** Fields a lifecycle step may change. `null` clears an optional field. */
export interface TicketPatch {
  status?: TicketStatus;
  ruleId?: string;
  alarmActive?: boolean;
  alarmChangedAt?: Instant;
  arrivalAt?: Instant;
  arrivalMet?: boolean;
  arrivalBreachedAt?: Instant;
  arrivalDueAt?: Instant;
  repairAt?: Instant | null;
  repairMet?: boolean | null;
  repairVerifiedAt?: Instant | null;
  repairBreachedAt?: Instant | null;
  repairDueAt?: Instant;
  verifyDueAt?: Instant | null;
  assignee?: string;
  closedAt?: Instant | null;
  /** `null` clears it (a reopened ticket's earlier finding no longer holds). */
  resolution?: Resolution | null;
  flapping?: boolean;
  reopenCount?: number;
  arrivalEscalation?: number;
  repairEscalation?: number;
  slaPausedAt?: Instant | null;
  /** `null` detaches the ticket from its outage parent. */
  parentId?: number | null;
  trigger?: AlarmTrigger;
  updatedAt: Instant;
}

/** Extra conditions an update must meet besides the expected status (compare-and-set). */
export interface TicketGuard {
  /** The escalation level of a clock must still be below this. */
  escalationBelow?: { clock: 'arrival' | 'repair'; level: number };
  /** The verification instant must still be this one. */
  verifyDueAt?: Instant;
  /** The SLA clocks must (true) or must not (false) be paused. */
  slaPaused?: boolean;
  /** The clock's breach must not be recorded yet (two schedulers never record it twice). */
  notBreached?: 'arrival' | 'repair';
}

export type NewTicketEvent = Omit<TicketEvent, 'id' | 'ticketId'>;

/** One entry of the ticket event log: the event, and the ticket right after it. */
export interface LogEntry {
  event: TicketEvent;
  ticket: Ticket;
}

export interface TicketFilter {
  status?: TicketStatus[];
  site?: string;
  /** Only these sites (a user scoped to some sites). */
  sites?: readonly string[];
  category?: string;
  assetId?: string;
  assignee?: string;
  parentId?: number;
  /** Only tickets that are not closed. */
  open?: boolean;
  /** Only tickets detected in [detectedFrom, detectedTo) (a report's period). */
  detectedFrom?: Instant;
  detectedTo?: Instant;
  /** Part of a work-order number (any case, dashes optional), or a ticket id. */
  q?: string;
  /** `newest` (default): by id, newest first; `deadline`: the nearest running SLA deadline first. */
  sort?: 'newest' | 'deadline';
  limit?: number;
  offset?: number;
}

/** Call-backs of tickets closed in [from, to), of some sites. */
export interface CallbackFilter {
  /** `true`: closed tickets with no call-back yet, oldest closed first; else the recorded ones, newest first. */
  due?: boolean;
  from?: Instant;
  to?: Instant;
  site?: string;
  /** Only these sites (a user scoped to some sites). */
  sites?: readonly string[];
  limit?: number;
}

/** A closed ticket and its call-back (absent while it is due). */
export interface CallbackEntry {
  ticket: Ticket;
  callback?: Callback;
}

export interface UserRecord extends User {
  passwordHash: string;
}

export interface NewUser {
  username: string;
  displayName: string;
  role: Role;
  passwordHash: string;
  createdAt: Instant;
  /** Default: every site. */
  sites?: string[];
}

export type NewShift = Omit<Shift, 'id' | 'endedAt'>;

export type NewKbEntry = Omit<KbEntry, 'id'>;

/** What an edit of an entry may change; `fault: null` makes it a hint for the whole category. */
export interface KbPatch {
  category?: string;
  fault?: string | null;
  title?: string;
  hint?: string;
  body?: string;
  updatedAt: Instant;
}

export interface KbFilter {
  category?: string;
  fault?: string;
  /** Words in the title, hint or body. */
  q?: string;
}

export interface DeadLetter {
  id: number;
  at: Instant;
  site?: string;
  topic: string;
  reason: string;
  detail: string;
  payloadBytes: number;
  /** The first bytes of the payload (base64), enough to diagnose without storing megabyte blobs. */
  payloadHead: string;
}

export type NewDeadLetter = Omit<DeadLetter, 'id'>;

export type AssetStatus = 'confirmed' | 'unconfirmed';

/** A site gateway as the embedded broker has seen it. */
export interface GatewayRecord {
  site: string;
  username: string;
  firstConnectedAt: Instant;
  lastConnectedAt: Instant;
  lastDisconnectedAt?: Instant;
}

export interface UserPatch {
  displayName?: string;
  role?: Role;
  /** `null` enables the user again. */
  disabledAt?: Instant | null;
  passwordHash?: string;
  sites?: string[];
  updatedAt: Instant;
}

/** A change outside tickets (users, planned work, assets): who, when, what. */
export interface AuditEntry {
  id: number;
  at: Instant;
  actor: string;
  action: string;
  /** What was changed, e.g. `user:alice`, `maintenance:3`. */
  target: string;
  detail: Record<string, unknown>;
}

/** One changed value between two versions of a rule: `rule.above`, `sites.north.above`... */
export interface RuleChange {
  path: string;
  from: unknown;
  to: unknown;
}

/** A rule as an admin sees it: the rule itself and its overrides per site and per asset. */
export interface RuleDocument {
  rule: RuleConfig;
  overrides: RuleOverrides;
}

/**
 * One version of one rule. `applied`: in force, or was until a later applied version; `pending`:
 * waits for a second admin; `rejected`: never applied. `document` is null once the rule was removed.
 */
export interface RuleVersion {
  ruleId: string;
  version: number;
  state: 'applied' | 'pending' | 'rejected';
  document: RuleDocument | null;
  /** The applied version this one was made from (a pending change of a rule changed since is stale). */
  baseVersion?: number;
  /** A user, or `system:config` for what the YAML said at start. */
  author: string;
  createdAt: Instant;
  comment: string;
  diff: RuleChange[];
  /** Assets whose rule the change alters. */
  assetsAffected: number;
  /** For versions from the YAML: the hash of what it said. */
  sourceHash?: string;
  restoredFrom?: number;
  decidedBy?: string;
  decidedAt?: Instant;
  decisionComment?: string;
}

export type NewRuleVersion = Omit<RuleVersion, 'version' | 'decidedBy' | 'decidedAt' | 'decisionComment'>;

export interface RuleDecision {
  state: 'applied' | 'rejected';
  by: string;
  at: Instant;
  comment?: string;
}

/** A rule's closed tickets by resolution; `noise`: those closed as no fault found or sensor fault. */
export interface RuleNoiseRow {
  ruleId: string;
  closed: number;
  noise: number;
  byResolution: Record<string, number>;
}

export interface Page {
  limit: number;
  offset: number;
}

/** An asset first seen on the wire rather than listed in the config. */
export interface DiscoveredAsset {
  site: string;
  id: string;
  kind: string;
  category?: string;
  name?: string;
  location?: string;
  status: AssetStatus;
  /** The adapter that first saw it. */
  source: string;
  firstSeenAt: Instant;
  confirmedAt?: Instant;
  confirmedBy?: string;
}

export interface AssetConfirmation {
  kind: string;
  category: string;
  name?: string;
  location?: string;
  by: string;
  at: Instant;
}

export interface OpenTicketKey {
  site: string;
  assetId: string;
  fault: string;
}

/**
 * Durable state behind xiaoer. Every ticket change is one transaction that also appends its event
 * (the audit trail). Every implementation passes the contract suite in test/contract/.
 */
export interface Store {
  readonly driver: string;
  migrate(): Promise<void>;
  close(): Promise<void>;

  findOpenTicket(key: OpenTicketKey): Promise<Ticket | undefined>;
  /**
   * Fails with `ticket_exists` if an open ticket has the same site, asset and fault. The ticket's
   * work-order number is `<workOrderPrefix>-<nnn>`, the next of that prefix (`XC-20261201`), given
   * in the same transaction.
   */
  createTicket(
    ticket: NewTicket,
    event: NewTicketEvent,
    workOrderPrefix: string,
  ): Promise<{ ticket: Ticket; event: TicketEvent }>;
  /** Applies the patch only while the ticket is in one of `expectStatus`; else fails `ticket_conflict`. */
  updateTicket(
    id: number,
    patch: TicketPatch,
    event: NewTicketEvent,
    expectStatus?: readonly TicketStatus[],
    guard?: TicketGuard,
  ): Promise<{ ticket: Ticket; event: TicketEvent }>;
  /** The latest closed ticket for this asset and fault verified at or after `since`, for reopening. */
  findRecentlyClosedTicket(key: OpenTicketKey, since: Instant): Promise<Ticket | undefined>;

  addMaintenanceWindow(window: Omit<MaintenanceWindow, 'id'>): Promise<MaintenanceWindow>;
  /** Windows not cancelled that end after `after`. */
  listMaintenanceWindows(after: Instant): Promise<MaintenanceWindow[]>;
  cancelMaintenanceWindow(id: number, by: string, at: Instant): Promise<MaintenanceWindow>;
  getTicket(id: number): Promise<Ticket | undefined>;

  /** Log entries after `position` (an event id), oldest first: each event with its ticket then. */
  readTicketLog(after: number, limit: number): Promise<LogEntry[]>;
  /** The newest event id (0 when there is none). */
  lastTicketEventId(): Promise<number>;
  getConsumerPosition(consumer: string): Promise<number | undefined>;
  saveConsumerPosition(consumer: string, position: number, at: Instant): Promise<void>;
  listTickets(filter: TicketFilter): Promise<Ticket[]>;
  listTicketEvents(id: number): Promise<TicketEvent[]>;

  createUser(user: NewUser): Promise<User>;
  findUser(username: string): Promise<UserRecord | undefined>;
  /** Fails `not_found` for an unknown user. */
  updateUser(username: string, patch: UserPatch): Promise<User>;
  listUsers(): Promise<User[]>;
  countUsers(): Promise<number>;
  createSession(tokenHash: string, userId: number, expiresAt: Instant): Promise<void>;
  /** The session's user, unless the session expired or the user is disabled. */
  findSessionUser(tokenHash: string, now: Instant): Promise<User | undefined>;
  deleteSession(tokenHash: string): Promise<void>;
  /** Logs a user out everywhere (disabled, or the password was reset). */
  deleteUserSessions(userId: number): Promise<void>;
  deleteExpiredSessions(now: Instant): Promise<void>;

  /** Adds the rule's next version (numbered by the store, 1 for a new rule). */
  addRuleVersion(version: NewRuleVersion): Promise<RuleVersion>;
  /** Every version of one rule, or of all rules, oldest first. */
  listRuleVersions(ruleId?: string): Promise<RuleVersion[]>;
  /** Approves or rejects a pending version; fails `rule_version_decided` if it is not pending. */
  decideRuleVersion(ruleId: string, version: number, decision: RuleDecision): Promise<RuleVersion>;
  /** Tickets closed since `since`, per rule and resolution. */
  ruleNoise(since: Instant): Promise<RuleNoiseRow[]>;

  /**
   * Records the call-back of a closed ticket with its ticket event, in one transaction. Fails
   * `not_found`, `ticket_not_closed` (409) or `callback_exists` (409: one per ticket).
   */
  recordCallback(callback: Callback, event: NewTicketEvent): Promise<{ ticket: Ticket; event: TicketEvent }>;
  /** Outage children are left out: they were closed with their outage, whose reporter is called. */
  listCallbacks(filter: CallbackFilter): Promise<CallbackEntry[]>;
  /** The call-backs recorded for these tickets (those without one are not in the answer). */
  satisfaction(ticketIds: readonly number[]): Promise<Callback[]>;

  addAudit(entry: Omit<AuditEntry, 'id'>): Promise<AuditEntry>;
  /** Newest first. */
  listAudit(page: Page): Promise<AuditEntry[]>;

  recordGatewayConnected(site: string, username: string, at: Instant): Promise<void>;
  recordGatewayDisconnected(site: string, username: string, at: Instant): Promise<void>;
  listGateways(): Promise<GatewayRecord[]>;

  /** Records a newly seen asset; a no-op if that site and id are already known. */
  addDiscoveredAsset(asset: DiscoveredAsset): Promise<void>;
  listDiscoveredAssets(): Promise<DiscoveredAsset[]>;
  /** Fails `not_found` for an unknown asset. */
  confirmDiscoveredAsset(site: string, id: string, confirmation: AssetConfirmation): Promise<DiscoveredAsset>;

  /**
   * Starts a shift; the user's open shift, if any, ends at `endOpenAt` in the same transaction
   * and is returned as `ended`.
   */
  startShift(shift: NewShift, endOpenAt: Instant): Promise<{ shift: Shift; ended?: Shift }>;
  /** Ends the user's open shift; undefined when there is none. */
  endShift(username: string, at: Instant): Promise<Shift | undefined>;
  listOpenShifts(): Promise<Shift[]>;

  /** Oldest first. */
  listKb(filter: KbFilter): Promise<KbEntry[]>;
  getKb(id: number): Promise<KbEntry | undefined>;
  addKb(entry: NewKbEntry): Promise<KbEntry>;
  /** Fails `not_found` for an unknown entry. */
  updateKb(id: number, patch: KbPatch): Promise<KbEntry>;
  /** Fails `not_found` for an unknown entry. */
  deleteKb(id: number): Promise<void>;

  /** The setting's value; if it has none yet, `init` is stored and returned (atomically: the first wins). */
  settingOrInit(key: string, init: string): Promise<string>;

  addDeadLetter(record: NewDeadLetter): Promise<void>;
  /** Newest first. */
  listDeadLetters(page: Page): Promise<DeadLetter[]>;
  countDeadLetters(): Promise<number>;
}

export type { Severity };
