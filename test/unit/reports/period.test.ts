import { describe, expect, it } from 'vitest';
import { XiaoerError } from '../../../src/core/errors.ts';
import { isoWeek, month, range, weekLabel, weeksOf } from '../../../src/reports/period.ts';
import { nearestRank, statsOf } from '../../../src/reports/stats.ts';

const iso = (at: number) => new Date(at).toISOString();

describe('periods', () => {
  it('an ISO week runs Monday 00:00 to Monday 00:00 in the zone', () => {
    const sh = isoWeek('2026-W48', 'Asia/Shanghai');
    expect([iso(sh.from), iso(sh.to), sh.label]).toEqual([
      '2026-11-22T16:00:00.000Z',
      '2026-11-29T16:00:00.000Z',
      '2026-W48',
    ]);
    const utc = isoWeek('2026-W48', 'UTC');
    expect([iso(utc.from), iso(utc.to)]).toEqual(['2026-11-23T00:00:00.000Z', '2026-11-30T00:00:00.000Z']);
  });

  it('week 1 and week 53 across the turn of a year', () => {
    // 2026 begins on a Thursday: it has 53 weeks, and its week 1 begins on Monday 2025-12-29.
    expect(iso(isoWeek('2026-W01', 'UTC').from)).toBe('2025-12-29T00:00:00.000Z');
    expect(iso(isoWeek('2026-W53', 'UTC').to)).toBe('2027-01-04T00:00:00.000Z');
    expect(weekLabel(Date.UTC(2027, 0, 1, 12), 'UTC')).toBe('2026-W53');
    expect(weekLabel(Date.UTC(2025, 11, 29), 'UTC')).toBe('2026-W01');
    expect(() => isoWeek('2025-W53', 'UTC')).toThrow(XiaoerError);
  });

  it('the week of an instant 1 ms either side of the start, in Shanghai and in UTC', () => {
    const start = Date.UTC(2026, 10, 29, 16); // Monday 2026-11-30 00:00 in Shanghai
    expect(weekLabel(start - 1, 'Asia/Shanghai')).toBe('2026-W48');
    expect(weekLabel(start, 'Asia/Shanghai')).toBe('2026-W49');
    expect(weekLabel(start, 'UTC')).toBe('2026-W48');
    expect(weekLabel(Date.UTC(2026, 10, 30) - 1, 'UTC')).toBe('2026-W48');
    expect(weekLabel(Date.UTC(2026, 10, 30), 'UTC')).toBe('2026-W49');
  });

  it('months, ranges and a zone with daylight saving', () => {
    const nov = month('2026-11', 'Asia/Shanghai');
    expect([iso(nov.from), iso(nov.to)]).toEqual(['2026-10-31T16:00:00.000Z', '2026-11-30T16:00:00.000Z']);
    const dec = month('2026-12', 'UTC');
    expect(iso(dec.to)).toBe('2027-01-01T00:00:00.000Z');
    const r = range('2026-11-01', '2026-11-08T12:00:00+08:00', 'Asia/Shanghai');
    expect([iso(r.from), iso(r.to)]).toEqual(['2026-10-31T16:00:00.000Z', '2026-11-08T04:00:00.000Z']);
    // Berlin leaves summer time on 2026-10-25: that week is 169 hours long.
    const berlin = isoWeek('2026-W43', 'Europe/Berlin');
    expect([iso(berlin.from), (berlin.to - berlin.from) / 3_600_000]).toEqual([
      '2026-10-18T22:00:00.000Z',
      169,
    ]);
    expect(weeksOf(range('2026-11-16', '2026-12-01', 'Asia/Shanghai'))).toEqual([
      '2026-W47',
      '2026-W48',
      '2026-W49',
    ]);
  });

  it('refuses malformed periods with a 400 naming the problem', () => {
    for (const bad of [
      () => isoWeek('2026-48', 'UTC'),
      () => isoWeek('2026-W00', 'UTC'),
      () => month('2026-13', 'UTC'),
    ]) {
      expect(bad).toThrow(expect.objectContaining({ httpStatus: 400 }));
    }
    expect(() => range('2026-11-31', '2026-12-01', 'UTC')).toThrow(/neither a date/);
    expect(() => range('2026-12-01', '2026-11-01', 'UTC')).toThrow(/must be after/);
    expect(() => range('2026-11-01T00:00:00', '2026-12-01', 'UTC')).toThrow(/with its offset/);
    expect(() => isoWeek('2026-W48', 'Mars/Olympus')).toThrow(/unknown time zone/);
  });
});

describe('nearest-rank percentiles', () => {
  it('rank ⌈p·n/100⌉ of the sorted values, never interpolated', () => {
    const ten = [10, 9, 8, 7, 6, 5, 4, 3, 2, 1];
    expect(
      nearestRank(
        [...ten].sort((a, b) => a - b),
        90,
      ),
    ).toBe(9);
    expect(
      nearestRank(
        [...ten].sort((a, b) => a - b),
        50,
      ),
    ).toBe(5);
    expect(nearestRank([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 90)).toBe(10);
    expect(nearestRank([7], 90)).toBe(7);
    expect(nearestRank([], 50)).toBeNull();
    expect(statsOf([60_000, 120_000, 600_000])).toEqual({
      count: 3,
      meanSeconds: 260,
      medianSeconds: 120,
      p90Seconds: 600,
    });
  });
});
