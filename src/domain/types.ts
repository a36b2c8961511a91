/** The contracts between layers (docs/architecture.md, "Contracts"). */

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

/**
 * A gateway announcing whether it is up, as the message itself says (a Zigbee2MQTT bridge state,
 * a Tasmota last will, a Sparkplug edge node's birth or death): the adapter names who announced,
 * `GatewayWatch` decides whether that is the site's gateway (`sites[].gateway.presence`).
 */
export interface GatewayPresence {
  site: SiteId;
  /**
   * Who announced: `zigbee2mqtt` (the site's Zigbee2MQTT bridge) or `<adapter id>:<asset id>` of
   * the device that is a gateway (`tasmota:zb-bridge`, `sparkplug:water.pumproom-gw`).
   */
  gateway: string;
  online: boolean;
}

/** What an adapter (or the OPC UA source) makes of one message. */
export interface Normalised {
  readings: Reading[];
  events: DeviceEvent[];
  /** The message announces a gateway up or down (see GatewayPresence); absent for most messages. */
  presence?: GatewayPresence;
  /** The route's new state for this `stateKey`, replacing the old one (omit to keep it). */
  state?: unknown;
  /** Asset kinds the adapter knows for sure (e.g. a Shelly flood sensor is plumbing), by asset id. */
  kinds?: Record<string, string>;
}

export type Severity = 'critical' | 'major' | 'minor';

/**
 * What a fault means, declared by the rule kind that raises it (never read from its name):
 * `availability` (the device is not heard from: offline, silent), `condition` (what it reports is
 * wrong), `outage` (a site's gateway or many devices at once: xiaoer's own correlation), `reported`
 * (raised by hand). Outages take `availability` faults of their site as children.
 */
export const FAULT_MEANINGS = ['availability', 'condition', 'outage', 'reported'] as const;
export type FaultMeaning = (typeof FAULT_MEANINGS)[number];

/** The limit a rule judged against, as the ticket shows it ("28 °C is above 28"). */
export interface RuleLimit {
  above?: number;
  below?: number;
  equals?: ReadingValue;
  fallingFasterThan?: number;
  risingFasterThan?: number;
  windowSeconds?: number;
  silentSeconds?: number;
  forSeconds?: number;
}

/** What raised a ticket: the reading (metric and value) or device event, and the rule's limit. */
export interface AlarmTrigger {
  metric?: string;
  value?: ReadingValue;
  unit?: string;
  /** The device event's code (`offline`, `sensor_fault`, ...). */
  code?: string;
  limit?: RuleLimit;
  /** When the device says it happened (bounded by the time xiaoer received it). */
  at: Instant;
}

/** A rule's verdict on one asset: raised, and later cleared. */
export interface Alarm {
  site: SiteId;
  assetId: AssetId;
  ruleId: string;
  fault: string;
  meaning: FaultMeaning;
  category: string;
  severity: Severity;
  raisedAt: Instant;
  clearedAt?: Instant;
  /** The alarm changes state more often than the flapping limit allows. */
  flapping?: boolean;
  /** The reading or event behind the last transition (absent for alarms re-armed from the store). */
  cause?: Reading | DeviceEvent;
  /** The rule's limit the cause was judged against. */
  limit?: RuleLimit;
}

export type AlarmTransition = { type: 'raised'; alarm: Alarm } | { type: 'cleared'; alarm: Alarm };

/**
 * What the maintainer found, given on closing: a real fault, nothing wrong, the sensor itself at
 * fault, or a duplicate of another ticket. The last three are noise for the rule that raised it.
 */
export const RESOLUTIONS = ['real_fault', 'no_fault_found', 'sensor_fault', 'duplicate'] as const;
export type Resolution = (typeof RESOLUTIONS)[number];
export const NOISE_RESOLUTIONS: readonly Resolution[] = ['no_fault_found', 'sensor_fault'];

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

/**
 * The arrival clock. Without `dueAt` the category has no arrival target (a request nobody needs
 * to be on site for): an arrival is still recorded, but never met or missed.
 */
export interface ArrivalClock extends Omit<SlaClock, 'dueAt'> {
  dueAt?: Instant;
}

export interface Ticket {
  id: number;
  /**
   * The number people say on the phone: `<site code>-<YYYYMMDD>-<nnn>` (e.g. `XC-20261201-007`),
   * the day the fault was detected in the reports' time zone and the place among the site's
   * tickets of that day. Given when the ticket is created, never changed.
   */
  workOrder: string;
  site: SiteId;
  assetId: AssetId;
  category: string;
  fault: string;
  meaning: FaultMeaning;
  severity: Severity;
  status: TicketStatus;
  /** The rule that raised it, or `manual`. */
  ruleId: string;
  /** Whether the alarm behind the ticket is still active. */
  alarmActive: boolean;
  raisedAt: Instant;
  /** First breach: the SLA clocks start here. */
  detectedAt: Instant;
  arrival: ArrivalClock;
  repair: RepairClock;
  assignee?: string;
  /** The outage ticket this one is part of (gateway or site down): it is handled there. */
  parentId?: number;
  closedAt?: Instant;
  /** How it was closed: was there a fault at all? (the rule's noise score) */
  resolution?: Resolution;
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
  /** The reading or event that raised it and the limit it crossed (absent for hand-raised tickets). */
  trigger?: AlarmTrigger;
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

/** Every kind of ticket event: the closed vocabulary of the audit trail and the notifications. */
export const TICKET_EVENT_TYPES = [
  'raised',
  'dispatched',
  'arrived',
  'repaired',
  'verified',
  'closed',
  'reopened',
  'sla_breached',
  'escalated',
  'alarm_cleared',
  'alarm_repeated',
  'flapping',
  'linked',
  'detached',
  'sla_paused',
  'sla_resumed',
  'callback_recorded',
] as const;
export type TicketEventType = (typeof TICKET_EVENT_TYPES)[number];

export interface TicketEvent {
  id: number;
  ticketId: number;
  at: Instant;
  /** Who did it: a user name, or `system:<component>`. */
  actor: string;
  type: TicketEventType;
  detail: Record<string, unknown>;
}

/** The satisfaction a reporter gives on the call-back: 1 (very dissatisfied) to 5 (very satisfied). */
export const SATISFACTION_MIN = 1;
export const SATISFACTION_MAX = 5;

/** The desk's call to whoever reported a fault, after its ticket closed: one per ticket. */
export interface Callback {
  ticketId: number;
  /** Whether anybody answered; a call nobody answered has no score. */
  reached: boolean;
  /** Present exactly when `reached`. */
  score?: number;
  remark?: string;
  recordedBy: string;
  recordedAt: Instant;
}

export const ROLES = ['staff', 'maintainer', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface User {
  id: number;
  username: string;
  displayName: string;
  role: Role;
  createdAt: Instant;
  /** A disabled user cannot log in; tickets and the audit trail still name them. */
  disabledAt?: Instant;
  /** The sites the user sees and works at; empty: every site. */
  sites: SiteId[];
}

/** How a maintainer checked in: the button on the phone page, or the QR label at the site entrance. */
export const SHIFT_VIAS = ['button', 'qr'] as const;
export type ShiftVia = (typeof SHIFT_VIAS)[number];

/** A maintainer's time on duty at one site: open until checked out (or too old to count). */
export interface Shift {
  id: number;
  username: string;
  site: SiteId;
  startedAt: Instant;
  endedAt?: Instant;
  via: ShiftVia;
}

/** The longest hint: one line on a phone page and in a robot message. */
export const KB_HINT_MAX_CHARS = 300;

/** A knowledge-base entry: what to check first for a fault of a category (or for the whole category). */
export interface KbEntry {
  id: number;
  category: string;
  /** Absent: the hint is for every fault of the category. */
  fault?: string;
  title: string;
  /** One line for the phone page and the robot messages. */
  hint: string;
  body: string;
  createdBy: string;
  createdAt: Instant;
  updatedAt: Instant;
  /** The ticket whose repair note it was made from. */
  sourceTicketId?: number;
}
