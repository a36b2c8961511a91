/** The API's shapes as the console reads them (src/api/views.ts and src/tickets/ticket-dto.ts). */
export type Role = 'staff' | 'maintainer' | 'admin';

export interface User {
  id: number;
  username: string;
  displayName: string;
  role: Role;
  /** The sites the user works at; empty: all sites. */
  sites: string[];
  createdAt: string;
  disabledAt: string | null;
}

export type ClockState = 'running' | 'paused' | 'outage' | 'met' | 'missed' | 'stopped' | 'none';

export interface Clock {
  dueAt: string | null;
  at: string | null;
  breachedAt: string | null;
  met: boolean | null;
  state: ClockState;
  remainingSeconds: number | null;
}

export type TicketStatus = 'raised' | 'dispatched' | 'on_site' | 'repaired' | 'verified' | 'closed';
export type Resolution = 'real_fault' | 'no_fault_found' | 'sensor_fault' | 'duplicate';

export interface RuleLimit {
  above?: number;
  below?: number;
  equals?: number | boolean | string;
  fallingFasterThan?: number;
  risingFasterThan?: number;
  windowSeconds?: number;
  silentSeconds?: number;
  forSeconds?: number;
}

export interface Ticket {
  id: number;
  /** The number people say on the phone, per site and day: `XC-20261201-007` (absent before issue 13's backend). */
  workOrder?: string | null;
  site: string;
  siteName: string;
  assetId: string;
  assetName: string;
  location: string | null;
  category: string;
  categoryName: string;
  fault: string;
  meaning: 'availability' | 'condition' | 'outage' | 'reported';
  severity: 'critical' | 'major' | 'minor';
  status: TicketStatus;
  ruleId: string;
  alarmActive: boolean;
  raisedAt: string;
  detectedAt: string;
  updatedAt: string;
  closedAt: string | null;
  resolution: Resolution | null;
  arrival: Clock;
  repair: Clock & { verifiedAt: string | null };
  assignee: string | null;
  parentId: number | null;
  flapping: boolean;
  reopenCount: number;
  escalation: { arrival: number; repair: number };
  paused: boolean;
  slaPausedAt: string | null;
  verifyDueAt: string | null;
  trigger: {
    metric: string | null;
    value: number | boolean | string | null;
    unit: string | null;
    code: string | null;
    limit: RuleLimit | null;
    at: string;
  } | null;
}

export interface TicketEvent {
  id: number;
  ticketId: number;
  at: string;
  actor: string;
  type: string;
  detail: Record<string, unknown>;
}

export interface KbEntry {
  id: number;
  category: string;
  fault: string | null;
  title: string;
  hint: string;
  body: string;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  sourceTicketId: number | null;
}

export interface Shift {
  id: number;
  username: string;
  displayName: string;
  site: string;
  startedAt: string;
  endedAt: string | null;
  via: 'button' | 'qr';
}

export interface Meta {
  sites: { id: string; name: string }[];
  categories: { id: string; name: string; arrivalMinutes: number | null; repairMinutes: number | null }[];
  resolutions: Resolution[];
  roles: Role[];
  publicUrl: string | null;
}

/** One asset of GET /api/assets: configured, or discovered and awaiting confirmation. */
export interface Asset {
  site: string;
  id: string;
  kind: string;
  category: string;
  name: string;
  location?: string;
  status: 'confirmed' | 'unconfirmed';
  source: string;
  firstSeenAt?: string;
}
