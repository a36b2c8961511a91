import { describe, expect, it } from 'vitest';
import { assertSeesTicket, assertSite, seesSite, siteFilter } from '../../../src/auth/site-scope.ts';

const everywhere = { sites: [] };
const north = { sites: ['north'] };
const two = { sites: ['north', 'east'] };

describe('site scope', () => {
  it('lets a user without sites see every site, and a scoped user only theirs', () => {
    expect(seesSite(everywhere, 'xincheng')).toBe(true);
    expect(seesSite(north, 'north')).toBe(true);
    expect(seesSite(north, 'east')).toBe(false);
    expect(seesSite(two, 'east')).toBe(true);
    expect(siteFilter(everywhere)).toBeUndefined();
    expect(siteFilter(two)).toEqual(['north', 'east']);
  });

  it('refuses acting at another site with 403 other_site', () => {
    expect(() => assertSite(north, 'north')).not.toThrow();
    expect(() => assertSite(everywhere, 'east')).not.toThrow();
    expect(() => assertSite(north, 'east')).toThrowError(
      expect.objectContaining({ code: 'other_site', httpStatus: 403 }),
    );
  });

  it("answers another site's ticket as unknown: 404 not_found, the same words as a missing id", () => {
    expect(() => assertSeesTicket(north, { id: 7, site: 'north' })).not.toThrow();
    expect(() => assertSeesTicket(north, { id: 7, site: 'east' })).toThrowError(
      expect.objectContaining({ code: 'not_found', httpStatus: 404, message: 'ticket 7 does not exist' }),
    );
  });
});
