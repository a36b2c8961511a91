import { describe, expect, it } from 'vitest';
import {
  isoWeekOf,
  monthBounds,
  resolvePeriod,
  weekBounds,
} from '../../../dashboards/console/src/components/reports/period';

/** The reports page's periods: [from, to) in Asia/Shanghai, weeks from Monday 00:00 local (ISO 8601). */
describe('report periods', () => {
  const iso = (ms: number) => new Date(ms).toISOString();

  it('an ISO week runs from Monday 00:00 Shanghai time to the next Monday', () => {
    const w = weekBounds('2026-W48');
    expect(w && iso(w.from)).toBe('2026-11-22T16:00:00.000Z');
    expect(w && iso(w.to)).toBe('2026-11-29T16:00:00.000Z');
    // Week 1 of 2027 starts on Monday 4 January; 2026 has 53 weeks.
    expect(iso(weekBounds('2027-W01')?.from ?? 0)).toBe('2027-01-03T16:00:00.000Z');
    expect(weekBounds('2026-W53')).not.toBeNull();
    expect(weekBounds('2025-W53')).toBeNull();
    expect(weekBounds('2026-48')).toBeNull();
  });

  it('the week of an instant is read on the Shanghai calendar', () => {
    // Sunday 29 Nov 2026 20:00 UTC is Monday 30 Nov 04:00 in Shanghai: week 49.
    expect(isoWeekOf(Date.parse('2026-11-29T20:00:00Z'))).toBe('2026-W49');
    expect(isoWeekOf(Date.parse('2026-11-29T15:59:59Z'))).toBe('2026-W48');
    expect(isoWeekOf(Date.parse('2027-01-01T00:00:00Z'))).toBe('2026-W53');
  });

  it('months, last week and a custom range with both days included', () => {
    const m = monthBounds('2026-12');
    expect(m && [iso(m.from), iso(m.to)]).toEqual(['2026-11-30T16:00:00.000Z', '2026-12-31T16:00:00.000Z']);
    const now = Date.parse('2026-12-07T21:00:00Z'); // Tuesday 8 Dec 05:00 in Shanghai
    expect(resolvePeriod({ mode: 'thisWeek' }, now)?.week).toBe('2026-W50');
    expect(resolvePeriod({ mode: 'lastWeek' }, now)?.week).toBe('2026-W49');
    const r = resolvePeriod({ mode: 'range', fromDay: '2026-12-01', toDay: '2026-12-03' }, now);
    expect(r && [iso(r.from), iso(r.to)]).toEqual(['2026-11-30T16:00:00.000Z', '2026-12-03T16:00:00.000Z']);
    expect(resolvePeriod({ mode: 'range', fromDay: '2026-12-03', toDay: '2026-12-01' }, now)).toBeNull();
    expect(resolvePeriod({ mode: 'month', month: '2026-13' }, now)).toBeNull();
  });
});
