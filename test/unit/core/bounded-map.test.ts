import { describe, expect, it } from 'vitest';
import { approxBytes, BoundedMap } from '../../../src/core/bounded-map.ts';

describe('BoundedMap', () => {
  const sized = (maxEntries: number, maxBytes: number) =>
    new BoundedMap<string, string>({ maxEntries, maxBytes, sizeOf: (k, v) => k.length + v.length });

  it('drops the least recently written entries past its entry bound', () => {
    const m = sized(3, 1000);
    for (const k of ['a', 'b', 'c']) m.set(k, 'x');
    m.set('a', 'y'); // written again: now the newest
    m.set('d', 'x');
    expect(['a', 'b', 'c', 'd'].filter((k) => m.has(k))).toEqual(['a', 'c', 'd']);
    expect(m.evicted).toBe(1);
  });

  it('stays within its byte bound whatever the keys are, and keeps nothing larger than the whole bound', () => {
    const m = sized(1_000_000, 100);
    for (let i = 0; i < 1000; i++) m.set(`device-${i}`, 'v'.repeat(i % 20));
    expect(m.bytes).toBeLessThanOrEqual(100);
    expect(m.size).toBeGreaterThan(0);
    m.set('x'.repeat(60_000), 'huge');
    expect(m.has('x'.repeat(60_000))).toBe(false);
    expect(m.bytes).toBeLessThanOrEqual(100);
  });

  it('estimates the size of nested values without walking past its budget', () => {
    const small = approxBytes({ aliases: new Map([[1, 'temperature']]), seq: 3 });
    expect(small).toBeGreaterThan(0);
    const big = { list: Array.from({ length: 100_000 }, (_, i) => `metric-${i}`) };
    expect(approxBytes(big)).toBeGreaterThan(1_000_000);
    expect(approxBytes(big, 10_000)).toBeLessThan(1_000_000);
  });
});
