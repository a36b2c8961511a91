import { z } from 'zod';
import { strictObject } from '../core/strict.ts';
import { ROLES, type User } from '../domain/types.ts';

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
