import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { TicketEvent } from '../../../src/domain/types.ts';
import { SlaScheduler } from '../../../src/tickets/sla-scheduler.ts';
import { raisedLeak, silentLog, ticketHarness } from '../../helpers/domain.ts';

const T0 = Date.parse('2026-11-26T09:00:00Z');
const MIN = 60_000;

const leak = (assetId: string, at: number) => raisedLeak({ assetId, raisedAt: at });

async function harness(file: string, staffed?: (site: string) => boolean) {
  const h = await ticketHarness(file);
  const sla = new SlaScheduler({
    store: h.store,
    tickets: h.tickets,
    directory: h.directory,
    scheduler: h.scheduler,
    eventLog: h.eventLog,
    log: silentLog,
    ...(staffed ? { staffed } : {}),
  });
  const breaches: TicketEvent[] = [];
  h.bus.on('ticketChanged', (_t, e) => {
    if (e.type === 'sla_breached') breaches.push(e);
  });
  return { ...h, sla, breaches };
}

describe('SlaScheduler', () => {
  let dir: string;
  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
    dir = mkdtempSync(path.join(tmpdir(), 'xiaoer-sla-'));
  });
  afterEach(() => {
    vi.useRealTimers();
    rmSync(dir, { recursive: true, force: true });
  });

  it('marks the arrival breach at exactly 5 minutes and the repair breach at 1 hour, once each', async () => {
    const h = await harness(path.join(dir, 'db.sqlite'));
    await h.sla.start();
    await h.tickets.applyAlarm(leak('leak-b1-riser', T0));
    await vi.advanceTimersByTimeAsync(5 * MIN - 1);
    expect(h.breaches).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(h.breaches).toMatchObject([{ at: T0 + 5 * MIN, detail: { clock: 'arrival' } }]);
    await vi.advanceTimersByTimeAsync(55 * MIN);
    expect(h.breaches.map((b) => [b.detail.clock, b.at])).toEqual([
      ['arrival', T0 + 5 * MIN],
      ['repair', T0 + 60 * MIN],
    ]);
    await vi.advanceTimersByTimeAsync(24 * 60 * MIN);
    expect(h.breaches).toHaveLength(2);
    const [ticket] = await h.store.listTickets({});
    expect(ticket).toMatchObject({
      arrival: { met: false, breachedAt: T0 + 5 * MIN },
      repair: { met: false, breachedAt: T0 + 60 * MIN },
    });
    await h.sla.stop();
    await h.store.close();
  });

  it('does not breach a clock that stopped in time', async () => {
    const h = await harness(path.join(dir, 'db.sqlite'));
    await h.sla.start();
    await h.tickets.applyAlarm(leak('leak-b1-riser', T0));
    const [ticket] = await h.store.listTickets({});
    await vi.advanceTimersByTimeAsync(3 * MIN);
    await h.tickets.arrive(ticket?.id ?? 0, { name: 'wang' });
    await vi.advanceTimersByTimeAsync(3 * MIN);
    expect(h.breaches).toEqual([]);
    await vi.advanceTimersByTimeAsync(60 * MIN);
    expect(h.breaches.map((b) => b.detail.clock)).toEqual(['repair']);
    await h.sla.stop();
    await h.store.close();
  });

  it('orders many deadlines with one timer, whatever order the tickets came in', async () => {
    const h = await harness(path.join(dir, 'db.sqlite'));
    await h.sla.start();
    // Detected 3, 1 and 2 minutes ago (e.g. replayed after a gateway reconnect).
    await h.tickets.applyAlarm(leak('a', T0 - 3 * MIN));
    await h.tickets.applyAlarm(leak('b', T0 - 1 * MIN));
    await h.tickets.applyAlarm(leak('c', T0 - 2 * MIN));
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(4 * MIN);
    expect(h.breaches.map((b) => b.at)).toEqual([T0 + 2 * MIN, T0 + 3 * MIN, T0 + 4 * MIN]);
    await h.sla.stop();
    expect(vi.getTimerCount()).toBe(0);
    await h.store.close();
  });

  it('after a restart, re-arms open clocks and reports a deadline missed while down at its true time', async () => {
    const file = path.join(dir, 'db.sqlite');
    const before = await harness(file);
    await before.sla.start();
    await before.tickets.applyAlarm(leak('leak-b1-riser', T0));
    await vi.advanceTimersByTimeAsync(2 * MIN);
    await before.sla.stop();
    await before.store.close();

    // Down for 20 minutes: the arrival deadline (T0+5min) passes with nobody watching.
    vi.setSystemTime(T0 + 22 * MIN);
    const after = await harness(file);
    await after.sla.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(after.breaches).toMatchObject([
      { at: T0 + 5 * MIN, detail: { clock: 'arrival', dueAt: T0 + 5 * MIN } },
    ]);
    // Still due: the repair breach and its near-deadline warning (at 80 %: T0+48 min).
    expect(after.sla.pending).toBe(2);
    await vi.advanceTimersByTimeAsync(38 * MIN);
    expect(after.breaches.map((b) => b.at)).toEqual([T0 + 5 * MIN, T0 + 60 * MIN]);
    await after.sla.stop();
    await after.store.close();
  });

  it('escalates the arrival at once, dated at the raise, when nobody is on shift at the site', async () => {
    const onShift = new Set(['north']);
    const h = await harness(path.join(dir, 'db.sqlite'), (site) => onShift.has(site));
    const escalations: TicketEvent[] = [];
    h.bus.on('ticketChanged', (_t, e) => {
      if (e.type === 'escalated') escalations.push(e);
    });
    await h.sla.start();
    await h.tickets.applyAlarm(leak('leak-b1-riser', T0));
    await vi.advanceTimersByTimeAsync(0);
    expect(escalations).toMatchObject([
      { at: T0, detail: { clock: 'arrival', level: 1, reason: 'nobody_on_shift', to: 'team_lead' } },
    ]);
    // Told once: not again when the deadline is near, only when it is breached.
    await vi.advanceTimersByTimeAsync(5 * MIN);
    expect(escalations.map((e) => [e.detail.level, e.detail.reason])).toEqual([
      [1, 'nobody_on_shift'],
      [2, 'breached'],
    ]);

    // Somebody checked in at the site: the usual warning at 80 % of the target.
    escalations.length = 0;
    onShift.add('xincheng');
    const start = Date.now();
    await h.tickets.applyAlarm(leak('leak-2', start));
    await vi.advanceTimersByTimeAsync(4 * MIN - 1);
    expect(escalations).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(escalations).toMatchObject([{ at: start + 4 * MIN, detail: { level: 1, reason: 'near' } }]);
    await h.sla.stop();
    await h.store.close();
  });
});
