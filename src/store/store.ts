import type {
  Instant,
  MaintenanceWindow,
  Role,
  Severity,
  Ticket,
  TicketEvent,
  TicketStatus,
  User,
} from '../domain/types.ts';

/** A ticket as first written; the store assigns `id`. */
export type NewTicket = Omit<Ticket, 'id'>;

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
  parentId?: number;
  closedAt?: Instant | null;
  flapping?: boolean;
  reopenCount?: number;
  arrivalEscalation?: number;
  repairEscalation?: number;
  slaPausedAt?: Instant | null;
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
}

export type NewTicketEvent = Omit<TicketEvent, 'id' | 'ticketId'>;

export interface TicketFilter {
  status?: TicketStatus[];
  site?: string;
  category?: string;
  assetId?: string;
  /** Only tickets that are not closed. */
  open?: boolean;
  limit?: number;
  offset?: number;
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
 * (the audit trail). SQLite and PostgreSQL implementations pass the same contract suite.
 */
export interface Store {
  readonly driver: string;
  migrate(): Promise<void>;
  close(): Promise<void>;

  findOpenTicket(key: OpenTicketKey): Promise<Ticket | undefined>;
  /** Fails with `ticket_exists` if an open ticket has the same site, asset and fault. */
  createTicket(ticket: NewTicket, event: NewTicketEvent): Promise<{ ticket: Ticket; event: TicketEvent }>;
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
  appendTicketEvent(id: number, event: NewTicketEvent): Promise<TicketEvent>;
  getTicket(id: number): Promise<Ticket | undefined>;
  listTickets(filter: TicketFilter): Promise<Ticket[]>;
  listTicketEvents(id: number): Promise<TicketEvent[]>;

  createUser(user: NewUser): Promise<User>;
  findUser(username: string): Promise<UserRecord | undefined>;
  listUsers(): Promise<User[]>;
  countUsers(): Promise<number>;
  createSession(tokenHash: string, userId: number, expiresAt: Instant): Promise<void>;
  findSessionUser(tokenHash: string, now: Instant): Promise<User | undefined>;
  deleteSession(tokenHash: string): Promise<void>;
  deleteExpiredSessions(now: Instant): Promise<void>;

  /** Records a newly seen asset; a no-op if that site and id are already known. */
  addDiscoveredAsset(asset: DiscoveredAsset): Promise<void>;
  listDiscoveredAssets(): Promise<DiscoveredAsset[]>;
  /** Fails `not_found` for an unknown asset. */
  confirmDiscoveredAsset(site: string, id: string, confirmation: AssetConfirmation): Promise<DiscoveredAsset>;

  addDeadLetter(record: NewDeadLetter): Promise<void>;
  listDeadLetters(limit: number): Promise<DeadLetter[]>;
  countDeadLetters(): Promise<number>;
}

export type { Severity };
