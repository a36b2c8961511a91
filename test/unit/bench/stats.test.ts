import { describe, expect, it } from 'vitest';
import {
  matchLatencies,
  percentile,
  ratePerSecond,
  summarizeLatencies,
  summarizeReps,
} from '../../../bench/stats.ts';

describe('percentile (nearest rank)', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);

  it('is always an observed sample', () => {
    expect(percentile(hundred, 50)).toBe(50);
    expect(percentile(hundred, 99)).toBe(99);
    expect(percentile(hundred, 100)).toBe(100);
    expect(percentile(hundred, 0)).toBe(1);
  });

  it('takes the largest of a small sample for p99', () => {
    expect(percentile([3, 5, 8], 99)).toBe(8);
    expect(percentile([7], 50)).toBe(7);
  });

  it('is NaN without samples', () => {
    expect(percentile([], 99)).toBeNaN();
    expect(summarizeLatencies([])).toMatchObject({ n: 0 });
  });

  it('sorts before summarising', () => {
    expect(summarizeLatencies([9, 1, 5, 3])).toEqual({ n: 4, p50: 3, p99: 9, max: 9 });
  });
});

describe('repetitions', () => {
  it('reports the median and the spread', () => {
    expect(summarizeReps([30, 10, 20])).toEqual({ median: 20, min: 10, max: 30 });
    expect(summarizeReps([10, 40])).toEqual({ median: 25, min: 10, max: 40 });
    expect(summarizeReps([]).median).toBeNaN();
  });

  it('turns counter readings into a rate', () => {
    expect(ratePerSecond(1000, 31_000, 1500)).toBe(20_000);
    expect(ratePerSecond(0, 10, 0)).toBeNaN();
  });
});

describe('matchLatencies', () => {
  it('pairs what was seen with when it was sent, and ignores the unmatched', () => {
    const sent = new Map([
      ['north/leak-f000001', 1_000],
      ['north/leak-f000002', 2_000],
    ]);
    const seen = new Map([
      ['north/leak-f000001', 4_500],
      ['east/leak-f000009', 9_000],
    ]);
    expect(matchLatencies(sent, seen, 1 / 1000)).toEqual([3.5]);
  });
});
