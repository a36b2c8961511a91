/** The contracts between layers (see ARCHITECTURE.md, "Contracts between layers"). */

export type SiteId = string;
export type AssetId = string;
/** Epoch milliseconds. Every instant in the domain is stored and passed this way. */
export type Instant = number;

export type ReadingValue = number | boolean | string;

/** One normalised measurement from any device family. */
export interface Reading {
  site: SiteId;
  assetId: AssetId;
  /** Canonical metric name, e.g. `temperature_c`, `water_leak`, `lock_state`. */
  metric: string;
  value: ReadingValue;
  unit?: string;
  ts: Instant;
}

export type DeviceEventKind = 'fault' | 'availability' | 'action';

export interface DeviceEvent {
  site: SiteId;
  assetId: AssetId;
  kind: DeviceEventKind;
  /** e.g. `offline`/`online` for availability, `sensor_fault` or `jammed` for faults. */
  code: string;
  detail?: Record<string, unknown>;
  ts: Instant;
}

export type Severity = 'critical' | 'major' | 'minor';

/** A rule's verdict on one asset: raised, and later cleared. */
export interface Alarm {
  site: SiteId;
  assetId: AssetId;
  ruleId: string;
  fault: string;
  category: string;
  severity: Severity;
  raisedAt: Instant;
  clearedAt?: Instant;
  /** The alarm changes state more often than the flapping limit allows. */
  flapping?: boolean;
  /** The reading or event behind the last transition (absent for alarms re-armed from the store). */
  cause?: Reading | DeviceEvent;
}

export type AlarmTransition = { type: 'raised'; alarm: Alarm } | { type: 'cleared'; alarm: Alarm };

export const TICKET_STATUSES = ['raised', 'dispatched', 'on_site', 'repaired', 'verified', 'closed'] as const;
export type TicketStatus = (typeof TICKET_STATUSES)[number];

export interface SlaClock {
  dueAt: Instant;
  /** When the target was reached (arrival acknowledged / repair reported). */
  at?: Instant;
  /** When the deadline passed with the target not reached. */
  breachedAt?: Instant;
  met?: boolean;
}

export interface RepairClock extends SlaClock {
  verifiedAt?: Instant;
}

export interface Ticket {
  id: number;
  site: SiteId;
  assetId: AssetId;
  category: string;
  fault: string;
  severity: Severity;
  status: TicketStatus;
  /** The rule that raised it, or `manual`. */
  ruleId: string;
  /** Whether the alarm behind the ticket is still active. */
  alarmActive: boolean;
  raisedAt: Instant;
  /** First breach: the SLA clocks start here. */
  detectedAt: Instant;
  arrival: SlaClock;
  repair: RepairClock;
  assignee?: string;
  /** The outage ticket this one is part of (gateway or site down): it is handled there. */
  parentId?: number;
  closedAt?: Instant;
  updatedAt: Instant;
  /** The alarm changed state more often than the flapping limit allows. */
  flapping: boolean;
  /** When the alarm last changed state. */
  alarmChangedAt?: Instant;
  /** A reported repair becomes verified at this instant if the alarm stays clear. */
  verifyDueAt?: Instant;
  reopenCount: number;
  /** Escalation level reached per clock: 0 none, 1 near the deadline, 2 breached. */
  escalation: { arrival: number; repair: number };
  /** Set while a maintenance window pauses the SLA clocks. */
  slaPausedAt?: Instant;
}

export interface MaintenanceWindow {
  id: number;
  site: SiteId;
  /** Absent: the whole site. */
  assetId?: AssetId;
  startsAt: Instant;
  endsAt: Instant;
  reason: string;
  createdBy: string;
  createdAt: Instant;
  cancelledAt?: Instant;
  cancelledBy?: string;
}

export interface TicketEvent {
  id: number;
  ticketId: number;
  at: Instant;
  /** Who did it: a user name, or `system:<component>`. */
  actor: string;
  type: string;
  detail: Record<string, unknown>;
}

export const ROLES = ['staff', 'maintainer', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface User {
  id: number;
  username: string;
  displayName: string;
  role: Role;
  createdAt: Instant;
}
