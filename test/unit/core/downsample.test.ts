import { describe, expect, it } from 'vitest';
import { chartValue, downsample } from '../../../src/core/downsample.ts';

const MIN = 60_000;

/** A day-like swing with noise from a fixed sequence, one point a minute. */
function series(
  n: number,
  y: (i: number) => number = (i) => 20 + 5 * Math.sin(i / 90) + ((i * 7919) % 13) / 10,
) {
  return Array.from({ length: n }, (_, i): [number, number] => [i * MIN, y(i)]);
}

/** Whether `sub` is `all` with some points left out, in the same order, the same objects. */
function isSubsequence<T>(sub: readonly T[], all: readonly T[]): boolean {
  let j = 0;
  for (const p of sub) {
    while (j < all.length && all[j] !== p) j++;
    if (j === all.length) return false;
    j++;
  }
  return true;
}

describe('downsample', () => {
  it('keeps every point when there are at most max, as a new array', () => {
    const points = series(600);
    const kept = downsample(points, 600);
    expect(kept).toEqual(points);
    expect(kept).not.toBe(points);
    expect(downsample([], 600)).toEqual([]);
    expect(downsample(series(1), 2)).toEqual(series(1));
  });

  it('keeps at most max points, the first and the last among them, in order', () => {
    for (const [n, max] of [
      [601, 600],
      [10_080, 600],
      [43_200, 600],
      [1_000, 7],
      [5, 4],
      [3, 2],
    ] as const) {
      const points = series(n);
      const kept = downsample(points, max);
      expect(kept.length, `${n} → ${max}`).toBeLessThanOrEqual(max);
      expect(kept[0]).toBe(points[0]);
      expect(kept.at(-1)).toBe(points.at(-1));
      expect(isSubsequence(kept, points), `${n} → ${max}`).toBe(true);
    }
    // An even max over a long series uses its whole budget: two points per run, and the ends.
    expect(downsample(series(10_080), 600)).toHaveLength(600);
  });

  it('keeps a one-minute spike over a limit in a month of readings, and the lowest dip', () => {
    const points = series(43_200, (i) => (i === 31_337 ? 35 : i === 5_000 ? 12 : 22 + (i % 3) / 10));
    const kept = downsample(points, 600);
    expect(kept).toContainEqual([31_337 * MIN, 35]);
    expect(kept).toContainEqual([5_000 * MIN, 12]);
    expect(Math.max(...kept.map((p) => p[1]))).toBe(35);
    expect(Math.min(...kept.map((p) => p[1]))).toBe(12);
  });

  it('keeps the extremes of every stretch of the series, not only the global ones', () => {
    // A step every 1,000 points: each step's level must still show.
    const points = series(20_000, (i) => Math.floor(i / 1000));
    const levels = new Set(downsample(points, 100).map((p) => p[1]));
    expect([...levels].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('gives a flat stretch one point per run, not two copies', () => {
    const kept = downsample(
      series(1_000, () => 21),
      100,
    );
    expect(new Set(kept).size).toBe(kept.length);
    expect(kept.length).toBeLessThanOrEqual(100);
  });

  it('refuses a budget that cannot hold the first and the last point', () => {
    for (const max of [1, 0, -3, 2.5, Number.NaN]) {
      expect(() => downsample(series(10), max)).toThrow(
        expect.objectContaining({ code: 'downsample_max_invalid' }),
      );
    }
  });
});

describe('chartValue', () => {
  it('draws numbers as they are and booleans as 1 and 0', () => {
    expect(chartValue(23.5)).toBe(23.5);
    expect(chartValue(-4)).toBe(-4);
    expect(chartValue(0)).toBe(0);
    expect(chartValue(true)).toBe(1);
    expect(chartValue(false)).toBe(0);
  });

  it('does not draw what JSON cannot carry, nor text, even text that looks like a number', () => {
    expect(chartValue(Number.NaN)).toBeUndefined();
    expect(chartValue(Number.POSITIVE_INFINITY)).toBeUndefined();
    expect(chartValue('jammed')).toBeUndefined();
    expect(chartValue('23.5')).toBeUndefined();
    expect(chartValue('')).toBeUndefined();
  });
});
