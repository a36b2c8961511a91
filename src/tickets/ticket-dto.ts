import { z } from 'zod';
import type { Directory } from '../config/directory.ts';
import type { Clock } from '../core/clock.ts';
import {
  type ArrivalClock,
  FAULT_MEANINGS,
  type Instant,
  RESOLUTIONS,
  type RepairClock,
  TICKET_EVENT_TYPES,
  TICKET_STATUSES,
  type Ticket,
  type TicketEvent,
} from '../domain/types.ts';
import { isRunning, type SlaClockName } from './clocks.ts';

/**
 * The one shape a ticket has outside xiaoer: the REST API, the live feed, MQTT-out and webhooks
 * all send this, with ISO 8601 instants and `null` for what is not there (epoch milliseconds stay
 * inside). It carries what a desk needs without a second look-up: names and location, the time
 * left on each clock, the reading and limit that raised it.
 */
const iso = z.string().describe('ISO 8601 instant');

const CLOCK_STATES = ['running', 'paused', 'outage', 'met', 'missed', 'stopped', 'none'] as const;

const clockSchema = z.object({
  /** `null`: the category has no target for this step (e.g. no arrival for a request). */
  dueAt: iso.nullable(),
  at: iso.nullable(),
  breachedAt: iso.nullable(),
  met: z.boolean().nullable(),
  /**
   * `running` counts down; `paused` by planned work; `outage`: counted on the outage ticket;
   * `met`/`missed` once decided; `stopped` closed undecided; `none` without a target.
   */
  state: z.enum(CLOCK_STATES),
  /** Seconds to the deadline while it is not reached (negative once overdue; frozen while paused). */
  remainingSeconds: z.number().int().nullable(),
});

const valueSchema = z.union([z.number(), z.boolean(), z.string()]);

export const ticketDtoSchema = z.object({
  id: z.number().int(),
  workOrder: z.string().describe('the number people say on the phone, e.g. XC-20261201-007'),
  site: z.string(),
  siteName: z.string(),
  assetId: z.string(),
  assetName: z.string(),
  location: z.string().nullable(),
  category: z.string(),
  categoryName: z.string(),
  fault: z.string(),
  meaning: z
    .enum(FAULT_MEANINGS)
    .describe('availability, condition, outage or reported: what the fault means'),
  severity: z.enum(['critical', 'major', 'minor']),
  status: z.enum(TICKET_STATUSES),
  ruleId: z.string(),
  alarmActive: z.boolean(),
  raisedAt: iso.describe('when xiaoer raised it'),
  detectedAt: iso.describe('first breach reported by the device: the SLA clocks start here'),
  updatedAt: iso,
  closedAt: iso.nullable(),
  /**
   * What was found: real_fault, no_fault_found, sensor_fault, duplicate. Null until the repair
   * report or the close gives it.
   */
  resolution: z.enum(RESOLUTIONS).nullable(),
  arrival: clockSchema,
  repair: clockSchema.extend({ verifiedAt: iso.nullable() }),
  assignee: z.string().nullable(),
  parentId: z.number().int().nullable(),
  flapping: z.boolean(),
  reopenCount: z.number().int(),
  escalation: z.object({ arrival: z.number().int(), repair: z.number().int() }),
  paused: z.boolean(),
  slaPausedAt: iso.nullable(),
  verifyDueAt: iso.nullable().describe('a reported repair (or a recovered outage) is verified at this time'),
  trigger: z
    .object({
      metric: z.string().nullable(),
      value: valueSchema.nullable(),
      unit: z.string().nullable(),
      code: z.string().nullable(),
      limit: z.record(z.string(), valueSchema).nullable(),
      at: iso,
    })
    .nullable()
    .describe('the reading or device event that raised it, and the rule limit it crossed'),
});

export type TicketDto = z.infer<typeof ticketDtoSchema>;

export const ticketEventDtoSchema = z.object({
  id: z.number().int().describe('position in the ticket event log'),
  ticketId: z.number().int(),
  at: iso,
  actor: z.string(),
  type: z.enum(TICKET_EVENT_TYPES),
  detail: z.record(z.string(), z.unknown()),
});

export type TicketEventDto = z.infer<typeof ticketEventDtoSchema>;

/** What the presenter needs to name an asset (configured, or discovered on the wire). */
export interface AssetNames {
  describe(site: string, assetId: string): { name: string; location?: string } | undefined;
}

const DAY_MS = 86_400_000;
const MAX_DATE_MS = 8.64e15;
const two = (n: number) => (n < 10 ? `0${n}` : `${n}`);
let isoDay = Number.NaN;
let isoDayPrefix = '';

/**
 * `new Date(ms).toISOString()`, which costs about half a microsecond: a ticket has up to ten
 * instants and a page fifty tickets. The date part (`2026-12-01T`) is still toISOString's, kept for
 * the last day asked (a page's instants are mostly of a few days); the time of day is arithmetic.
 */
export function isoInstant(ms: Instant): string {
  // Fractions, NaN and instants past a Date's range (which throw) are toISOString's.
  if (!Number.isInteger(ms) || Math.abs(ms) > MAX_DATE_MS) return new Date(ms).toISOString();
  const day = Math.floor(ms / DAY_MS);
  if (day !== isoDay) {
    isoDayPrefix = new Date(day * DAY_MS).toISOString().slice(0, -13);
    isoDay = day;
  }
  let rest = ms - day * DAY_MS;
  const millis = rest % 1000;
  rest = (rest - millis) / 1000;
  const seconds = rest % 60;
  rest = (rest - seconds) / 60;
  const minutes = rest % 60;
  const hours = (rest - minutes) / 60;
  const milliText = millis < 10 ? `00${millis}` : millis < 100 ? `0${millis}` : `${millis}`;
  return `${isoDayPrefix}${two(hours)}:${two(minutes)}:${two(seconds)}.${milliText}Z`;
}

const isoOrNull = (ms: Instant | undefined) => (ms === undefined ? null : isoInstant(ms));

export class TicketPresenter {
  readonly #directory: Directory;
  readonly #assets: AssetNames | undefined;
  readonly #clock: Clock;

  constructor(deps: { directory: Directory; clock: Clock; assets?: AssetNames }) {
    this.#directory = deps.directory;
    this.#clock = deps.clock;
    this.#assets = deps.assets;
  }

  ticket(t: Ticket): TicketDto {
    const site = this.#directory.site(t.site);
    const asset = this.#assets?.describe(t.site, t.assetId) ?? this.#directory.asset(t.site, t.assetId);
    const gateway = site?.gateway.username === t.assetId;
    const now = this.#clock.now();
    return {
      id: t.id,
      workOrder: t.workOrder,
      site: t.site,
      siteName: site?.name ?? t.site,
      assetId: t.assetId,
      assetName: asset?.name ?? (gateway ? `${site?.name ?? t.site} gateway` : t.assetId),
      location: asset?.location ?? null,
      category: t.category,
      categoryName: this.#directory.category(t.category)?.name ?? t.category,
      fault: t.fault,
      meaning: t.meaning,
      severity: t.severity,
      status: t.status,
      ruleId: t.ruleId,
      alarmActive: t.alarmActive,
      raisedAt: isoInstant(t.raisedAt),
      detectedAt: isoInstant(t.detectedAt),
      updatedAt: isoInstant(t.updatedAt),
      closedAt: isoOrNull(t.closedAt),
      resolution: t.resolution ?? null,
      arrival: clockDto(t, 'arrival', now),
      repair: repairDto(t, now),
      assignee: t.assignee ?? null,
      parentId: t.parentId ?? null,
      flapping: t.flapping,
      reopenCount: t.reopenCount,
      escalation: { arrival: t.escalation.arrival, repair: t.escalation.repair },
      paused: t.slaPausedAt !== undefined,
      slaPausedAt: isoOrNull(t.slaPausedAt),
      verifyDueAt: isoOrNull(t.verifyDueAt),
      trigger: t.trigger
        ? {
            metric: t.trigger.metric ?? null,
            value: t.trigger.value ?? null,
            unit: t.trigger.unit ?? null,
            code: t.trigger.code ?? null,
            limit: (t.trigger.limit as Record<string, number | string | boolean> | undefined) ?? null,
            at: isoInstant(t.trigger.at),
          }
        : null,
    };
  }

  event(e: TicketEvent): TicketEventDto {
    return {
      id: e.id,
      ticketId: e.ticketId,
      at: isoInstant(e.at),
      actor: e.actor,
      type: e.type,
      detail: e.detail,
    };
  }
}

type ClockDto = TicketDto['arrival'];

function clockDto(t: Ticket, name: SlaClockName, now: Instant): ClockDto {
  const c: ArrivalClock | RepairClock = t[name];
  const [state, remainingSeconds] = clockState(t, name, c, now);
  return {
    dueAt: isoOrNull(c.dueAt),
    at: isoOrNull(c.at),
    breachedAt: isoOrNull(c.breachedAt),
    met: c.met ?? null,
    state,
    remainingSeconds,
  };
}

/** The repair clock, with `verifiedAt` last (the schema's order, which the JSON follows). */
function repairDto(t: Ticket, now: Instant): TicketDto['repair'] {
  const repair = clockDto(t, 'repair', now) as TicketDto['repair'];
  repair.verifiedAt = isoOrNull(t.repair.verifiedAt);
  return repair;
}

function clockState(
  t: Ticket,
  name: SlaClockName,
  c: ArrivalClock | RepairClock,
  now: Instant,
): [ClockDto['state'], number | null] {
  if (c.dueAt === undefined) return ['none', null];
  const dueAt = c.dueAt;
  const seconds = (until: Instant) => Math.round((dueAt - until) / 1000);
  if (c.met === true) return ['met', null];
  const open = t.status !== 'closed' && c.at === undefined;
  if (c.met === false || c.breachedAt !== undefined) return ['missed', open ? seconds(now) : null];
  if (isRunning(t, name)) return ['running', seconds(now)];
  if (open && t.parentId !== undefined) return ['outage', null];
  if (open && t.slaPausedAt !== undefined) return ['paused', seconds(t.slaPausedAt)];
  return ['stopped', null];
}
