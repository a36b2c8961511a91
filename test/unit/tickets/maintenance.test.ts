import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { TicketEvent } from '../../../src/domain/types.ts';
import { MaintenanceService } from '../../../src/maintenance/maintenance-service.ts';
import { SlaScheduler } from '../../../src/tickets/sla-scheduler.ts';
import { raisedLeak, silentLog, ticketHarness } from '../../helpers/domain.ts';

const T0 = Date.parse('2026-11-26T09:00:00Z');
const MIN = 60_000;

const leak = () => raisedLeak();

describe('maintenance windows', () => {
  let h: Awaited<ReturnType<typeof ticketHarness>>;
  let sla: SlaScheduler;
  let maintenance: MaintenanceService;
  let events: TicketEvent[];
  beforeEach(async () => {
    vi.useFakeTimers({ now: T0 });
    h = await ticketHarness();
    sla = new SlaScheduler({ ...h, log: silentLog });
    maintenance = new MaintenanceService({ ...h, log: silentLog, limits: h.config.maintenance });
    await sla.start();
    await maintenance.start();
    events = [];
    h.bus.on('ticketChanged', (_t, e) => events.push(e));
  });
  afterEach(async () => {
    await maintenance.stop();
    await sla.stop();
    await h.store.close();
    vi.useRealTimers();
  });

  it("pauses the SLA clocks of the asset's open tickets for the window and moves the deadlines out", async () => {
    await h.tickets.applyAlarm(leak());
    await maintenance.create(
      {
        site: 'xincheng',
        assetId: 'leak-b1-riser',
        startsAt: T0 + 2 * MIN,
        endsAt: T0 + 32 * MIN,
        reason: 'riser valve swap',
      },
      'desk',
    );
    expect(maintenance.isSilenced('xincheng', 'leak-b1-riser', T0 + 10 * MIN)).toBe(true);
    expect(maintenance.isSilenced('xincheng', 'lock-3f-east', T0 + 10 * MIN)).toBe(false);
    await vi.advanceTimersByTimeAsync(31 * MIN);
    // The 5-minute arrival target passed during planned work: no breach.
    expect(events.map((e) => e.type)).toEqual(['raised', 'sla_paused']);
    await vi.advanceTimersByTimeAsync(1 * MIN);
    const [t] = await h.store.listTickets({});
    expect(t).toMatchObject({ arrival: { dueAt: T0 + 35 * MIN }, repair: { dueAt: T0 + 90 * MIN } });
    expect(events.find((e) => e.type === 'sla_resumed')?.detail).toMatchObject({ pausedMs: 30 * MIN });
    await vi.advanceTimersByTimeAsync(3 * MIN);
    expect(events.filter((e) => e.type === 'sla_breached').map((e) => e.at)).toEqual([T0 + 35 * MIN]);
    // The warnings moved with the deadlines: 80 % of the way to the new ones, not the old ones.
    await vi.advanceTimersByTimeAsync(60 * MIN);
    const near = events.filter((e) => e.type === 'escalated' && e.detail.level === 1).map((e) => e.at - T0);
    expect(near).toEqual([34 * MIN, 78 * MIN]);
  });

  it('a site-wide window cancelled early resumes at the cancellation, and is kept for audit', async () => {
    await h.tickets.applyAlarm(leak());
    const w = await maintenance.create(
      { site: 'xincheng', startsAt: T0, endsAt: T0 + 60 * MIN, reason: 'water main shut-off' },
      'desk',
    );
    await vi.advanceTimersByTimeAsync(10 * MIN);
    const cancelled = await maintenance.cancel(w.id, 'desk');
    expect(cancelled).toMatchObject({ cancelledBy: 'desk', cancelledAt: T0 + 10 * MIN });
    const [t] = await h.store.listTickets({});
    expect(t?.arrival.dueAt).toBe(T0 + 15 * MIN);
    expect(maintenance.isSilenced('xincheng', 'leak-b1-riser', T0 + 11 * MIN)).toBe(false);
  });

  it('re-applies windows after a restart, including one that ended while down', async () => {
    await h.tickets.applyAlarm(leak());
    await maintenance.create(
      { site: 'xincheng', startsAt: T0, endsAt: T0 + 20 * MIN, reason: 'inspection' },
      'desk',
    );
    await maintenance.stop();
    vi.setSystemTime(T0 + 45 * MIN);
    const again = new MaintenanceService({ ...h, log: silentLog, limits: h.config.maintenance });
    await again.start();
    const [t] = await h.store.listTickets({});
    expect(t).toMatchObject({ arrival: { dueAt: T0 + 25 * MIN } });
    expect(t?.slaPausedAt).toBeUndefined();
    await again.stop();
  });

  it('refuses windows that make no sense', async () => {
    await expect(
      maintenance.create({ site: 'mars', startsAt: T0, endsAt: T0 + MIN, reason: 'x' }, 'desk'),
    ).rejects.toMatchObject({ code: 'unknown_site' });
    await expect(
      maintenance.create({ site: 'north', startsAt: T0 + MIN, endsAt: T0, reason: 'x' }, 'desk'),
    ).rejects.toMatchObject({ code: 'invalid_window' });
  });
});
