import {
  type Callback,
  type KbEntry,
  NOISE_RESOLUTIONS,
  type Shift,
  type ShiftVia,
  type User,
} from '../domain/types.ts';
import type {
  AuditEntry,
  CallbackEntry,
  DeadLetter,
  GatewayRecord,
  KbPatch,
  NewKbEntry,
  NewRuleVersion,
  RuleNoiseRow,
  RuleVersion,
  UserPatch,
  UserRecord,
} from './store.ts';
import { rowToTicket, type TicketRow } from './ticket-row.ts';

/*
 * Rows of the tables other than tickets, as both drivers store them (flat, snake_case), and their
 * domain objects. Instants and ids go through Number(): SQLite gives numbers, PostgreSQL's BIGINT
 * may come as a string.
 */

/** `%`, `_` and `\` taken literally in a LIKE pattern (with `ESCAPE '\'`). */
export const likeLiteral = (s: string) => s.replace(/[\\%_]/g, '\\$&');

export interface UserRow {
  id: number;
  username: string;
  display_name: string;
  role: string;
  password_hash: string;
  created_at: number;
  disabled_at: number | null;
  sites: string;
}

export const rowToUser = (r: UserRow): UserRecord => ({
  id: Number(r.id),
  username: r.username,
  displayName: r.display_name,
  role: r.role as User['role'],
  createdAt: Number(r.created_at),
  ...(r.disabled_at === null ? {} : { disabledAt: Number(r.disabled_at) }),
  sites: JSON.parse(r.sites) as string[],
  passwordHash: r.password_hash,
});

export const USER_COLUMNS: Record<keyof UserPatch, string> = {
  displayName: 'display_name',
  role: 'role',
  disabledAt: 'disabled_at',
  passwordHash: 'password_hash',
  sites: 'sites',
  updatedAt: 'updated_at',
};

export const publicUser = ({ passwordHash: _hidden, ...user }: UserRecord): User => user;

export interface ShiftRow {
  id: number;
  username: string;
  site: string;
  started_at: number;
  ended_at: number | null;
  via: string;
}

export function rowToShift(r: ShiftRow): Shift {
  return {
    id: Number(r.id),
    username: r.username,
    site: r.site,
    startedAt: Number(r.started_at),
    ...(r.ended_at === null ? {} : { endedAt: Number(r.ended_at) }),
    via: r.via as ShiftVia,
  };
}

export interface KbRow {
  id: number;
  category: string;
  fault: string | null;
  title: string;
  hint: string;
  body: string;
  created_by: string;
  created_at: number;
  updated_at: number;
  source_ticket_id: number | null;
}

export function rowToKb(r: KbRow): KbEntry {
  return {
    id: Number(r.id),
    category: r.category,
    ...(r.fault === null ? {} : { fault: r.fault }),
    title: r.title,
    hint: r.hint,
    body: r.body,
    createdBy: r.created_by,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    ...(r.source_ticket_id === null ? {} : { sourceTicketId: Number(r.source_ticket_id) }),
  };
}

/** An entry's values for `INSERT INTO kb_entries (category, fault, title, hint, body, created_by, created_at, updated_at, source_ticket_id)`. */
export const kbValues = (e: NewKbEntry): unknown[] => [
  e.category,
  e.fault ?? null,
  e.title,
  e.hint,
  e.body,
  e.createdBy,
  e.createdAt,
  e.updatedAt,
  e.sourceTicketId ?? null,
];

export const KB_COLUMNS: Record<keyof KbPatch, string> = {
  category: 'category',
  fault: 'fault',
  title: 'title',
  hint: 'hint',
  body: 'body',
  updatedAt: 'updated_at',
};

export interface CallbackRow {
  ticket_id: number;
  reached: number | boolean;
  score: number | null;
  remark: string | null;
  recorded_by: string;
  recorded_at: number;
}

export const rowToCallback = (r: CallbackRow): Callback => ({
  ticketId: Number(r.ticket_id),
  reached: Boolean(r.reached),
  ...(r.score === null ? {} : { score: Number(r.score) }),
  ...(r.remark === null ? {} : { remark: r.remark }),
  recordedBy: r.recorded_by,
  recordedAt: Number(r.recorded_at),
});

/** The `c_` columns of a call-back next to its ticket's in one row. */
export const CALLBACK_COLUMNS =
  'c.ticket_id AS c_ticket_id, c.reached AS c_reached, c.score AS c_score, c.remark AS c_remark, ' +
  'c.recorded_by AS c_recorded_by, c.recorded_at AS c_recorded_at';

export type CallbackJoinedRow = TicketRow & { [K in keyof CallbackRow as `c_${K}`]: CallbackRow[K] | null };

export function joinedToCallbackEntry(r: CallbackJoinedRow): CallbackEntry {
  const ticket = rowToTicket(r);
  if (r.c_ticket_id === null) return { ticket };
  return {
    ticket,
    callback: rowToCallback({
      ticket_id: r.c_ticket_id,
      reached: r.c_reached ?? 0,
      score: r.c_score,
      remark: r.c_remark,
      recorded_by: r.c_recorded_by ?? '',
      recorded_at: r.c_recorded_at ?? 0,
    }),
  };
}

export interface RuleVersionRow {
  rule_id: string;
  version: number;
  state: string;
  document: string | null;
  base_version: number | null;
  author: string;
  created_at: number;
  comment: string;
  diff: string;
  assets_affected: number;
  source_hash: string | null;
  restored_from: number | null;
  decided_by: string | null;
  decided_at: number | null;
  decision_comment: string | null;
}

/**
 * A version's values for `INSERT INTO rule_versions (rule_id, version, state, document,
 * base_version, author, created_at, comment, diff, assets_affected, source_hash, restored_from)`.
 */
export const ruleVersionValues = (v: NewRuleVersion, version: number): unknown[] => [
  v.ruleId,
  version,
  v.state,
  v.document === null ? null : JSON.stringify(v.document),
  v.baseVersion ?? null,
  v.author,
  v.createdAt,
  v.comment,
  JSON.stringify(v.diff),
  v.assetsAffected,
  v.sourceHash ?? null,
  v.restoredFrom ?? null,
];

/** Closed tickets counted per rule and resolution (`n` may come as text from PostgreSQL). */
export interface NoiseCountRow {
  rule_id: string;
  resolution: string;
  n: number | string;
}

/** The counts per rule and resolution as each rule's closed tickets and the noise among them. */
export function noiseByRule(counts: readonly NoiseCountRow[]): RuleNoiseRow[] {
  const byRule = new Map<string, RuleNoiseRow>();
  for (const r of counts) {
    const row = byRule.get(r.rule_id) ?? { ruleId: r.rule_id, closed: 0, noise: 0, byResolution: {} };
    const n = Number(r.n);
    row.closed += n;
    if ((NOISE_RESOLUTIONS as readonly string[]).includes(r.resolution)) row.noise += n;
    row.byResolution[r.resolution] = n;
    byRule.set(r.rule_id, row);
  }
  return [...byRule.values()];
}

export function rowToRuleVersion(r: RuleVersionRow): RuleVersion {
  const v: RuleVersion = {
    ruleId: r.rule_id,
    version: Number(r.version),
    state: r.state as RuleVersion['state'],
    document: r.document === null ? null : (JSON.parse(r.document) as RuleVersion['document']),
    author: r.author,
    createdAt: Number(r.created_at),
    comment: r.comment,
    diff: JSON.parse(r.diff) as RuleVersion['diff'],
    assetsAffected: Number(r.assets_affected),
  };
  if (r.base_version !== null) v.baseVersion = Number(r.base_version);
  if (r.source_hash !== null) v.sourceHash = r.source_hash;
  if (r.restored_from !== null) v.restoredFrom = Number(r.restored_from);
  if (r.decided_by !== null) v.decidedBy = r.decided_by;
  if (r.decided_at !== null) v.decidedAt = Number(r.decided_at);
  if (r.decision_comment !== null) v.decisionComment = r.decision_comment;
  return v;
}

export interface AuditRow {
  id: number;
  at: number;
  actor: string;
  action: string;
  target: string;
  detail: string;
}

export const rowToAudit = (r: AuditRow): AuditEntry => ({
  id: Number(r.id),
  at: Number(r.at),
  actor: r.actor,
  action: r.action,
  target: r.target,
  detail: JSON.parse(r.detail) as Record<string, unknown>,
});

export interface GatewayRow {
  site: string;
  username: string;
  first_connected_at: number;
  last_connected_at: number;
  last_disconnected_at: number | null;
}

export const rowToGateway = (r: GatewayRow): GatewayRecord => ({
  site: r.site,
  username: r.username,
  firstConnectedAt: Number(r.first_connected_at),
  lastConnectedAt: Number(r.last_connected_at),
  ...(r.last_disconnected_at === null ? {} : { lastDisconnectedAt: Number(r.last_disconnected_at) }),
});

/** Dead letters kept: the newest this many (enough to diagnose, bounded under a flood). */
export const DEAD_LETTER_RETENTION = 10_000;

export interface DeadLetterRow {
  id: number;
  at: number;
  site: string | null;
  topic: string;
  reason: string;
  detail: string;
  payload_bytes: number;
  payload_head: string;
}

export const rowToDeadLetter = (r: DeadLetterRow): DeadLetter => ({
  id: Number(r.id),
  at: Number(r.at),
  ...(r.site === null ? {} : { site: r.site }),
  topic: r.topic,
  reason: r.reason,
  detail: r.detail,
  payloadBytes: Number(r.payload_bytes),
  payloadHead: r.payload_head,
});
