import { describe, expect, it } from 'vitest';
import { satisfactionFromCallbacks } from '../../../src/reports/report-source.ts';

describe('satisfaction from the call-backs', () => {
  it('scores of the tickets called back by asOf; an unanswered call has none', async () => {
    const asked: number[][] = [];
    const lookup = satisfactionFromCallbacks(async (ids) => {
      asked.push([...ids]);
      return [
        { ticketId: 1, score: 5, recordedAt: 1_000 },
        { ticketId: 2, recordedAt: 1_000 },
        { ticketId: 3, score: 2, recordedAt: 3_000 },
      ];
    });
    expect([...(await lookup([1, 2, 3], 2_000))]).toEqual([[1, 5]]);
    expect([...(await lookup([1, 2, 3], 3_000))]).toEqual([
      [1, 5],
      [3, 2],
    ]);
    expect(asked[0]).toEqual([1, 2, 3]);
  });
});
