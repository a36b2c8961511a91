import { notFound, XiaoerError } from '../core/errors.ts';
import type { User } from '../domain/types.ts';

type Scoped = Pick<User, 'sites'>;

/**
 * Users scoped to sites (issue 12): a user with sites sees and acts only there; one without
 * (`sites: []`) sees every site. The API enforces it for every ticket, asset, site and feed.
 */
export function seesSite(user: Scoped, site: string): boolean {
  return user.sites.length === 0 || user.sites.includes(site);
}

/** The sites to filter a list by; undefined: every site. */
export function siteFilter(user: Scoped): readonly string[] | undefined {
  return user.sites.length === 0 ? undefined : user.sites;
}

/** Acting at another site (raising a ticket, checking in): 403 `other_site`. */
export function assertSite(user: Scoped, site: string): void {
  if (!seesSite(user, site))
    throw new XiaoerError('other_site', `you work at ${user.sites.join(', ')}, not at ${site}`, {
      httpStatus: 403,
    });
}

/**
 * Another site's ticket is answered as if it did not exist (404 `not_found`, the same words as an
 * unknown id), so a scoped user cannot probe which tickets exist elsewhere.
 */
export function assertSeesTicket(user: Scoped, ticket: { id: number; site: string }): void {
  if (!seesSite(user, ticket.site)) throw notFound('ticket', ticket.id);
}
