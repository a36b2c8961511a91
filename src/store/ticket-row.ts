import type {
  AlarmTrigger,
  FaultMeaning,
  MaintenanceWindow,
  Resolution,
  Severity,
  Ticket,
  TicketEvent,
  TicketEventType,
  TicketStatus,
} from '../domain/types.ts';
import type { AssetStatus, DiscoveredAsset, NewTicket, TicketPatch } from './store.ts';

/** A ticket as stored: flat, snake_case columns (the SQL schema in src/store/sqlite/migrations). */
export interface TicketRow {
  id: number;
  work_order: string | null;
  site: string;
  asset_id: string;
  category: string;
  fault: string;
  meaning: string;
  severity: string;
  rule_id: string;
  status: string;
  alarm_active: number | boolean;
  raised_at: number;
  detected_at: number;
  arrival_due_at: number | null;
  arrival_at: number | null;
  arrival_breached_at: number | null;
  arrival_met: number | boolean | null;
  repair_due_at: number;
  repair_at: number | null;
  repair_verified_at: number | null;
  repair_breached_at: number | null;
  repair_met: number | boolean | null;
  assignee: string | null;
  parent_id: number | null;
  closed_at: number | null;
  resolution?: string | null;
  updated_at: number;
  open_key: string | null;
  flapping: number | boolean;
  alarm_changed_at: number | null;
  verify_due_at: number | null;
  reopen_count: number;
  arrival_escalation: number;
  repair_escalation: number;
  sla_paused_at: number | null;
  trigger: string | null;
}

export const openKey = (site: string, assetId: string, fault: string) =>
  `${site}\u001f${assetId}\u001f${fault}`;

const opt = <T>(v: T | null): T | undefined => (v === null ? undefined : v);
// A driver may return BIGINT as a string; SQLite gives numbers.
const optNum = (v: number | string | null): number | undefined => (v === null ? undefined : Number(v));
/** Drops undefined members so optional fields are absent rather than `undefined`. */
const compact = <T extends object>(o: T): T =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

/**
 * Built member by member rather than with `compact` (an Object.entries/fromEntries round trip per
 * row and per clock): a page of tickets is read on every list. Optional members are set only when
 * there, in the same order as before, so a ticket's keys (and its JSON) do not change.
 */
export function rowToTicket(r: TicketRow): Ticket {
  const arrival: Ticket['arrival'] = {};
  if (r.arrival_due_at !== null) arrival.dueAt = Number(r.arrival_due_at);
  if (r.arrival_at !== null) arrival.at = Number(r.arrival_at);
  if (r.arrival_breached_at !== null) arrival.breachedAt = Number(r.arrival_breached_at);
  if (r.arrival_met !== null) arrival.met = Boolean(r.arrival_met);
  const repair: Ticket['repair'] = { dueAt: Number(r.repair_due_at) };
  if (r.repair_at !== null) repair.at = Number(r.repair_at);
  if (r.repair_verified_at !== null) repair.verifiedAt = Number(r.repair_verified_at);
  if (r.repair_breached_at !== null) repair.breachedAt = Number(r.repair_breached_at);
  if (r.repair_met !== null) repair.met = Boolean(r.repair_met);
  const t: Ticket = {
    id: Number(r.id),
    // Never null: migration 009 numbered every older ticket and the store numbers each new one.
    workOrder: r.work_order ?? '',
    site: r.site,
    assetId: r.asset_id,
    category: r.category,
    fault: r.fault,
    meaning: r.meaning as FaultMeaning,
    severity: r.severity as Severity,
    ruleId: r.rule_id,
    status: r.status as TicketStatus,
    alarmActive: Boolean(r.alarm_active),
    raisedAt: Number(r.raised_at),
    detectedAt: Number(r.detected_at),
    arrival,
    repair,
  } as Ticket;
  if (r.assignee !== null) t.assignee = r.assignee;
  if (r.parent_id !== null) t.parentId = Number(r.parent_id);
  if (r.closed_at !== null) t.closedAt = Number(r.closed_at);
  if (r.resolution !== null && r.resolution !== undefined) t.resolution = r.resolution as Resolution;
  t.updatedAt = Number(r.updated_at);
  t.flapping = Boolean(r.flapping);
  if (r.alarm_changed_at !== null) t.alarmChangedAt = Number(r.alarm_changed_at);
  if (r.verify_due_at !== null) t.verifyDueAt = Number(r.verify_due_at);
  t.reopenCount = Number(r.reopen_count);
  t.escalation = { arrival: Number(r.arrival_escalation), repair: Number(r.repair_escalation) };
  if (r.sla_paused_at !== null) t.slaPausedAt = Number(r.sla_paused_at);
  if (r.trigger !== null) t.trigger = JSON.parse(r.trigger) as AlarmTrigger;
  return t;
}

/** Column values for an INSERT, in the order of `TICKET_INSERT_COLUMNS`. */
export function newTicketColumns(t: NewTicket): Record<string, unknown> {
  return {
    site: t.site,
    asset_id: t.assetId,
    category: t.category,
    fault: t.fault,
    meaning: t.meaning,
    severity: t.severity,
    rule_id: t.ruleId,
    status: t.status,
    alarm_active: t.alarmActive ? 1 : 0,
    raised_at: t.raisedAt,
    detected_at: t.detectedAt,
    arrival_due_at: t.arrival.dueAt ?? null,
    arrival_at: t.arrival.at ?? null,
    arrival_breached_at: t.arrival.breachedAt ?? null,
    arrival_met: t.arrival.met === undefined ? null : Number(t.arrival.met),
    repair_due_at: t.repair.dueAt,
    repair_at: t.repair.at ?? null,
    repair_verified_at: t.repair.verifiedAt ?? null,
    repair_breached_at: t.repair.breachedAt ?? null,
    repair_met: t.repair.met === undefined ? null : Number(t.repair.met),
    assignee: t.assignee ?? null,
    parent_id: t.parentId ?? null,
    closed_at: t.closedAt ?? null,
    resolution: t.resolution ?? null,
    updated_at: t.updatedAt,
    open_key: t.status === 'closed' ? null : openKey(t.site, t.assetId, t.fault),
    flapping: t.flapping ? 1 : 0,
    alarm_changed_at: t.alarmChangedAt ?? null,
    verify_due_at: t.verifyDueAt ?? null,
    reopen_count: t.reopenCount,
    arrival_escalation: t.escalation.arrival,
    repair_escalation: t.escalation.repair,
    sla_paused_at: t.slaPausedAt ?? null,
    trigger: t.trigger === undefined ? null : JSON.stringify(t.trigger),
  };
}

const PATCH_COLUMNS: Record<keyof TicketPatch, string> = {
  status: 'status',
  ruleId: 'rule_id',
  alarmActive: 'alarm_active',
  alarmChangedAt: 'alarm_changed_at',
  arrivalAt: 'arrival_at',
  arrivalMet: 'arrival_met',
  arrivalBreachedAt: 'arrival_breached_at',
  arrivalDueAt: 'arrival_due_at',
  repairAt: 'repair_at',
  repairMet: 'repair_met',
  repairVerifiedAt: 'repair_verified_at',
  repairBreachedAt: 'repair_breached_at',
  repairDueAt: 'repair_due_at',
  verifyDueAt: 'verify_due_at',
  assignee: 'assignee',
  parentId: 'parent_id',
  closedAt: 'closed_at',
  resolution: 'resolution',
  flapping: 'flapping',
  reopenCount: 'reopen_count',
  arrivalEscalation: 'arrival_escalation',
  repairEscalation: 'repair_escalation',
  slaPausedAt: 'sla_paused_at',
  trigger: 'trigger',
  updatedAt: 'updated_at',
};

/** The columns a patch sets (null clears one), booleans as 0/1 so both drivers store the same values. */
export function patchColumns(patch: TicketPatch): [column: string, value: unknown][] {
  return Object.entries(patch)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => [
      PATCH_COLUMNS[k as keyof TicketPatch],
      typeof v === 'boolean' ? Number(v) : v !== null && typeof v === 'object' ? JSON.stringify(v) : v,
    ]);
}

export interface TicketEventRow {
  id: number;
  ticket_id: number;
  at: number;
  actor: string;
  type: string;
  detail: string;
}

export function rowToEvent(r: TicketEventRow): TicketEvent {
  return {
    id: Number(r.id),
    ticketId: Number(r.ticket_id),
    at: Number(r.at),
    actor: r.actor,
    type: r.type as TicketEventType,
    detail: JSON.parse(r.detail) as Record<string, unknown>,
  };
}

export interface DiscoveredAssetRow {
  site: string;
  id: string;
  kind: string;
  category: string | null;
  name: string | null;
  location: string | null;
  status: string;
  source: string;
  first_seen_at: number | string;
  confirmed_at: number | string | null;
  confirmed_by: string | null;
}

export function rowToDiscoveredAsset(r: DiscoveredAssetRow): DiscoveredAsset {
  return compact({
    site: r.site,
    id: r.id,
    kind: r.kind,
    category: opt(r.category),
    name: opt(r.name),
    location: opt(r.location),
    status: r.status as AssetStatus,
    source: r.source,
    firstSeenAt: Number(r.first_seen_at),
    confirmedAt: optNum(r.confirmed_at),
    confirmedBy: opt(r.confirmed_by),
  });
}

export interface WindowRow {
  id: number;
  site: string;
  asset_id: string | null;
  starts_at: number;
  ends_at: number;
  reason: string;
  created_by: string;
  created_at: number;
  cancelled_at: number | null;
  cancelled_by: string | null;
}

export function rowToWindow(r: WindowRow): MaintenanceWindow {
  return compact({
    id: Number(r.id),
    site: r.site,
    assetId: opt(r.asset_id),
    startsAt: Number(r.starts_at),
    endsAt: Number(r.ends_at),
    reason: r.reason,
    createdBy: r.created_by,
    createdAt: Number(r.created_at),
    cancelledAt: optNum(r.cancelled_at),
    cancelledBy: opt(r.cancelled_by),
  });
}
