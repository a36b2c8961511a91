import type { Instant, SiteId } from './types.ts';

/**
 * Work-order numbers people can say on the phone (issue 13): `XC-20261201-007` is the site's
 * code, the day the fault was detected in the reports' time zone, and the ticket's place among
 * that site's tickets of that day.
 */

/** A code set in the config: 2 to 4 upper-case letters. */
export const SITE_CODE = /^[A-Z]{2,4}$/;

/** The code of a site without `code` in the config: its id's first two letters, upper-cased. */
export const defaultSiteCode = (site: SiteId): string => site.slice(0, 2).toUpperCase();

const dayFormats = new Map<string, Intl.DateTimeFormat>();

/** `20261201`: the calendar day of an instant in a time zone. */
export function localDay(at: Instant, timeZone: string): string {
  let format = dayFormats.get(timeZone);
  if (!format) {
    // en-CA writes dates as YYYY-MM-DD.
    format = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    });
    dayFormats.set(timeZone, format);
  }
  return format.format(at).replaceAll('-', '');
}

/** `XC-20261201`: what the numbers of one site and day share; the store adds the sequence. */
export const workOrderPrefix = (siteCode: string, detectedAt: Instant, timeZone: string): string =>
  `${siteCode}-${localDay(detectedAt, timeZone)}`;

/** `XC-20261201-007`: three digits at least, more past the 999th ticket of a site and day. */
export const workOrderNumber = (prefix: string, seq: number): string =>
  `${prefix}-${String(seq).padStart(3, '0')}`;

/** Whether an IANA time zone name is known to this runtime (a typo would number tickets in UTC). */
export function isTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone });
    return true;
  } catch {
    return false;
  }
}
