import { describe, expect, it } from 'vitest';
import { fuzzSeed } from '../fuzz/random.ts';
import { fuzzTheApp, summaryLine } from '../fuzz/run.ts';

/**
 * Regression suite for the broker and ingest hardening (session takeover across logins, unbounded
 * identifiers, deep JSON, password guessing, memory before login, non-finite values, malformed
 * Sparkplug): at least 20,000 random and mutated MQTT 3.1.1 frames from test/fuzz/ against a real
 * App, then a normal leak must still become a ticket. The seed is printed; replay a run with
 * `FUZZ_SEED=<seed>`, and make it longer with `npm run soak`.
 */
const FRAMES = 20_000;

describe('MQTT fuzz against the embedded broker and the ingest', () => {
  // 10 to 30 s on 2 cores; the timeout leaves room for another suite running beside it.
  it(`survives ${FRAMES} random and mutated frames, and a normal leak still raises a ticket`, async () => {
    const seed = fuzzSeed();
    const report = await fuzzTheApp({ seed, frames: FRAMES });
    process.stdout.write(`${summaryLine(report)}\n`);
    const c = report.campaign;
    expect(c.frames).toBeGreaterThanOrEqual(FRAMES);
    expect(report.crashes, report.crashDetail).toBe(0);
    expect(
      c.hung,
      `connections left hanging (replay with planConnection(${seed}, n)): ${c.hung.slice(0, 5).join(', ')}`,
    ).toEqual([]);
    expect(report.healthy).toBe(true);
    expect(report.sentinelTicketBefore, 'the fuzz reached the sentinel asset').toBe(false);
    expect(report.leakTicket, report.leakError).toBe(true);
    // The fuzz reached every layer: logins accepted and refused, messages into the ingest and
    // dead-lettered, connections the broker dropped.
    expect(c.connacks['0']).toBeGreaterThan(0);
    expect(report.refused.logins).toBeGreaterThan(0);
    expect(report.ingest.accepted).toBeGreaterThan(0);
    expect(report.deadLetters.total).toBeGreaterThan(0);
    expect(c.closedByBroker).toBeGreaterThan(0);
    expect(c.connectErrors).toBe(0);
    expect(report.rssMb.after - report.rssMb.before).toBeLessThan(300);
  }, 120_000); // Explicit: far above the default 20 s, for a busy 2-core machine.
});
