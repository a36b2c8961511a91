import { z } from 'zod';
import { strictObject } from '../core/strict.ts';
import { type KbEntry, ROLES, SHIFT_VIAS, type Shift, type User } from '../domain/types.ts';

/** The API speaks ISO 8601 instants; the domain keeps epoch milliseconds. */
export const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
export const isoOrNull = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

export const userSchema = z.object({
  id: z.number().int(),
  username: z.string(),
  displayName: z.string(),
  role: z.enum(ROLES),
  createdAt: z.string(),
  disabled: z.boolean(),
  disabledAt: z.string().nullable(),
  sites: z.array(z.string()).describe('the sites the user sees and works at; empty: every site'),
});

export const errorSchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
});

export function userView(u: User): z.infer<typeof userSchema> {
  return {
    id: u.id,
    username: u.username,
    displayName: u.displayName,
    role: u.role,
    createdAt: new Date(u.createdAt).toISOString(),
    disabled: u.disabledAt !== undefined,
    disabledAt: isoOrNull(u.disabledAt),
    sites: [...u.sites],
  };
}

export const shiftSchema = z.object({
  id: z.number().int(),
  username: z.string(),
  displayName: z.string(),
  site: z.string(),
  startedAt: z.string(),
  endedAt: z.string().nullable(),
  via: z.enum(SHIFT_VIAS),
});

/** A shift with the user's display name (`displayName` falls back to the user name). */
export function shiftView(s: Shift, displayName?: string): z.infer<typeof shiftSchema> {
  return {
    id: s.id,
    username: s.username,
    displayName: displayName ?? s.username,
    site: s.site,
    startedAt: new Date(s.startedAt).toISOString(),
    endedAt: isoOrNull(s.endedAt),
    via: s.via,
  };
}

export const kbEntrySchema = z.object({
  id: z.number().int(),
  category: z.string(),
  fault: z.string().nullable().describe('null: a hint for every fault of the category'),
  title: z.string(),
  hint: z.string(),
  body: z.string(),
  createdBy: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  sourceTicketId: z.number().int().nullable(),
});

export function kbView(e: KbEntry): z.infer<typeof kbEntrySchema> {
  return {
    id: e.id,
    category: e.category,
    fault: e.fault ?? null,
    title: e.title,
    hint: e.hint,
    body: e.body,
    createdBy: e.createdBy,
    createdAt: new Date(e.createdAt).toISOString(),
    updatedAt: new Date(e.updatedAt).toISOString(),
    sourceTicketId: e.sourceTicketId ?? null,
  };
}

/** `limit`/`offset` for a list, with the most a page may hold. */
export function pageQuery(maxLimit: number, defaultLimit = 100) {
  return {
    limit: z.coerce.number().int().min(1).max(maxLimit).default(defaultLimit),
    offset: z.coerce.number().int().min(0).max(10_000_000).default(0),
  };
}

/** A query string that refuses parameters it does not know (a typo must not widen a filter). */
export const query = strictObject;
