import { describe, expect, it } from 'vitest';
import { changeTopicOf } from '../../../src/app.ts';
import { hash, partitionOf } from '../../../src/cluster/coordinator.ts';

describe('site partitions', () => {
  it('hash sites with FNV-1a, the same in every instance and version', () => {
    // Published FNV-1a 32-bit values: "" and "a".
    expect(hash('')).toBe(0x811c9dc5);
    expect(hash('a')).toBe(0xe40c292c);
    expect(partitionOf('xincheng', 16)).toBe(hash('xincheng') % 16);
  });

  it('spread many sites over the partitions', () => {
    const counts = new Array<number>(16).fill(0);
    for (let i = 0; i < 1600; i++)
      counts[partitionOf(`site-${i}`, 16)] = (counts[partitionOf(`site-${i}`, 16)] ?? 0) + 1;
    expect(Math.min(...counts)).toBeGreaterThan(60);
    expect(Math.max(...counts)).toBeLessThan(140);
  });
});

describe('changes told to the other instances', () => {
  it('name what a successful change through the API means for every instance', () => {
    expect(changeTopicOf('POST', '/api/rules/:id/versions', 201)).toBe('rules');
    expect(changeTopicOf('POST', '/api/shifts/check-in', 200)).toBe('shifts');
    expect(changeTopicOf('POST', '/api/scan', 200)).toBe('shifts');
    expect(changeTopicOf('DELETE', '/api/maintenance/:id', 200)).toBe('maintenance');
    expect(changeTopicOf('POST', '/api/assets/:site/:id/confirm', 200)).toBe('assets');
  });

  it('leave out reads, refusals and everything else', () => {
    expect(changeTopicOf('GET', '/api/rules', 200)).toBeUndefined();
    expect(changeTopicOf('POST', '/api/rules/:id/versions', 400)).toBeUndefined();
    expect(changeTopicOf('POST', '/api/tickets', 201)).toBeUndefined();
    expect(changeTopicOf('POST', undefined, 200)).toBeUndefined();
  });
});
