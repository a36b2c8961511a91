import { z } from 'zod';
import { TICKET_STATUSES, type Ticket, type TicketEvent, type User } from '../domain/types.ts';

/** The API speaks ISO 8601 instants; the domain keeps epoch milliseconds. */
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

const instant = z.string().describe('ISO 8601 instant');

const slaClock = z.object({
  dueAt: instant,
  at: instant.optional(),
  breachedAt: instant.optional(),
  met: z.boolean().optional(),
});

export const ticketSchema = z.object({
  id: z.number().int(),
  site: z.string(),
  assetId: z.string(),
  category: z.string(),
  fault: z.string(),
  severity: z.enum(['critical', 'major', 'minor']),
  status: z.enum(TICKET_STATUSES),
  ruleId: z.string(),
  alarmActive: z.boolean(),
  raisedAt: instant,
  detectedAt: instant,
  arrival: slaClock,
  repair: slaClock.extend({ verifiedAt: instant.optional() }),
  assignee: z.string().optional(),
  parentId: z.number().int().optional(),
  closedAt: instant.optional(),
  updatedAt: instant,
});

export const ticketEventSchema = z.object({
  id: z.number().int(),
  at: instant,
  actor: z.string(),
  type: z.string(),
  detail: z.record(z.string(), z.unknown()),
});

export const userSchema = z.object({
  id: z.number().int(),
  username: z.string(),
  displayName: z.string(),
  role: z.enum(['staff', 'maintainer', 'admin']),
  createdAt: instant,
});

export const errorSchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
});

const clockView = <T extends Ticket['arrival'] | Ticket['repair']>(c: T) => ({
  ...c,
  dueAt: iso(c.dueAt) as string,
  at: iso(c.at),
  breachedAt: iso(c.breachedAt),
});

export function ticketView(t: Ticket): z.infer<typeof ticketSchema> {
  return {
    ...t,
    raisedAt: iso(t.raisedAt) as string,
    detectedAt: iso(t.detectedAt) as string,
    arrival: clockView(t.arrival),
    repair: { ...clockView(t.repair), verifiedAt: iso(t.repair.verifiedAt) },
    closedAt: iso(t.closedAt),
    updatedAt: iso(t.updatedAt) as string,
  };
}

export function ticketEventView(e: TicketEvent): z.infer<typeof ticketEventSchema> {
  return { id: e.id, at: iso(e.at) as string, actor: e.actor, type: e.type, detail: e.detail };
}

export function userView(u: User): z.infer<typeof userSchema> {
  return { ...u, createdAt: iso(u.createdAt) as string };
}
