import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { TicketEvent } from '../../../src/domain/types.ts';
import { SlaScheduler } from '../../../src/tickets/sla-scheduler.ts';
import { clearedLeak, raisedLeak, silentLog, ticketHarness } from '../../helpers/domain.ts';

const T0 = Date.parse('2026-11-26T09:00:00Z');
const MIN = 60_000;
const wang = { name: 'wang', role: 'maintainer' };

const raise = raisedLeak;
const clear = clearedLeak;

describe('ticket lifecycle', () => {
  let h: Awaited<ReturnType<typeof ticketHarness>>;
  let sla: SlaScheduler;
  let events: TicketEvent[];
  beforeEach(async () => {
    vi.useFakeTimers({ now: T0 });
    h = await ticketHarness();
    sla = new SlaScheduler({ ...h, tickets: h.tickets, log: silentLog });
    await sla.start();
    events = [];
    h.bus.on('ticketChanged', (_t, e) => events.push(e));
  });
  afterEach(async () => {
    await sla.stop();
    await h.store.close();
    vi.useRealTimers();
  });

  const only = async () => {
    const [t] = await h.store.listTickets({});
    if (!t) throw new Error('no ticket');
    return t;
  };
  const types = () => events.map((e) => e.type);

  it('verifies a repair once the sensor has stayed clear for verifyMinutes, keeping the repair time', async () => {
    await h.tickets.applyAlarm(raise());
    const id = (await only()).id;
    await vi.advanceTimersByTimeAsync(2 * MIN);
    await h.tickets.arrive(id, wang);
    await vi.advanceTimersByTimeAsync(20 * MIN);
    await h.tickets.applyAlarm(clear());
    await h.tickets.repaired(id, wang);
    expect(await only()).toMatchObject({ status: 'repaired', repair: { at: T0 + 22 * MIN, met: true } });
    await vi.advanceTimersByTimeAsync(10 * MIN - 1);
    expect((await only()).status).toBe('repaired');
    await vi.advanceTimersByTimeAsync(1);
    expect(await only()).toMatchObject({
      status: 'verified',
      repair: { at: T0 + 22 * MIN, verifiedAt: T0 + 32 * MIN, met: true },
    });
    // The repair clock stopped at the maintainer's report, so no breach comes at 1 h.
    await vi.advanceTimersByTimeAsync(60 * MIN);
    expect(types()).not.toContain('sla_breached');
    await h.tickets.close(id, { name: 'desk' });
    expect((await only()).status).toBe('closed');
  });

  it('a repair reported while the alarm is still on waits for it to clear before verifying', async () => {
    await h.tickets.applyAlarm(raise());
    const id = (await only()).id;
    await h.tickets.arrive(id, wang);
    await h.tickets.repaired(id, wang);
    expect((await only()).verifyDueAt).toBeUndefined();
    await vi.advanceTimersByTimeAsync(3 * MIN);
    await h.tickets.applyAlarm(clear());
    expect((await only()).verifyDueAt).toBe(T0 + 13 * MIN);
    await vi.advanceTimersByTimeAsync(10 * MIN);
    expect((await only()).status).toBe('verified');
  });

  it('reopens the same ticket when the fault returns before verification; its repair clock goes on', async () => {
    await h.tickets.applyAlarm(raise());
    const id = (await only()).id;
    await h.tickets.arrive(id, wang);
    await h.tickets.applyAlarm(clear());
    await h.tickets.repaired(id, wang);
    await vi.advanceTimersByTimeAsync(5 * MIN);
    await h.tickets.applyAlarm(raise());
    const t = await only();
    expect(t).toMatchObject({ id, status: 'dispatched', reopenCount: 1, repair: { dueAt: T0 + 60 * MIN } });
    expect(t.repair.at).toBeUndefined();
    expect(await h.store.listTickets({})).toHaveLength(1);
    // Back on site: arrival is not timed again.
    const again = await h.tickets.arrive(id, wang);
    expect(again.arrival.at).toBe(T0);
    await vi.advanceTimersByTimeAsync(56 * MIN);
    expect(events.filter((e) => e.type === 'sla_breached').map((e) => e.detail.clock)).toEqual(['repair']);
  });

  it('reopens a verified and closed ticket within 24 h with a fresh repair clock; after that, a new ticket', async () => {
    await h.tickets.applyAlarm(raise());
    const id = (await only()).id;
    await h.tickets.arrive(id, wang);
    await h.tickets.applyAlarm(clear());
    await h.tickets.repaired(id, wang);
    await vi.advanceTimersByTimeAsync(10 * MIN);
    await h.tickets.close(id, { name: 'desk' });
    await vi.advanceTimersByTimeAsync(5 * 60 * MIN);
    await h.tickets.applyAlarm(raise());
    const reopened = await only();
    expect(reopened).toMatchObject({ id, status: 'dispatched', reopenCount: 1 });
    expect(reopened.repair.dueAt).toBe(Date.now() + 60 * MIN);
    expect(reopened.closedAt).toBeUndefined();
    // Repaired and verified again, then the fault returns after more than a day: a new ticket.
    await h.tickets.arrive(id, wang);
    await h.tickets.applyAlarm(clear());
    await h.tickets.repaired(id, wang);
    await vi.advanceTimersByTimeAsync(10 * MIN);
    await h.tickets.close(id, { name: 'desk' });
    await vi.advanceTimersByTimeAsync(25 * 60 * MIN);
    await h.tickets.applyAlarm(raise());
    expect((await h.store.listTickets({})).map((t) => [t.id, t.status])).toEqual([
      [id + 1, 'raised'],
      [id, 'closed'],
    ]);
  });

  it("a manual ticket with no sensor is verified on the maintainer's word", async () => {
    const t = await h.tickets.raiseManual(
      { site: 'north', assetId: 'room-203-light', fault: 'lamp_out', category: 'lighting' },
      { name: 'desk' },
    );
    await h.tickets.arrive(t.id, wang);
    const done = await h.tickets.repaired(t.id, wang);
    expect(done).toMatchObject({ status: 'verified', repair: { verifiedAt: T0, met: true } });
  });

  it('closing an unverified ticket needs a reason', async () => {
    await h.tickets.applyAlarm(raise());
    const id = (await only()).id;
    await h.tickets.arrive(id, wang);
    await h.tickets.repaired(id, wang);
    await expect(h.tickets.close(id, { name: 'desk' })).rejects.toMatchObject({ code: 'reason_required' });
    await expect(h.tickets.close(id, { name: 'desk' }, { reason: 'valve replaced' })).rejects.toMatchObject({
      code: 'resolution_required',
    });
    const closed = await h.tickets.close(
      id,
      { name: 'desk' },
      { reason: 'valve replaced', resolution: 'real_fault' },
    );
    expect(closed).toMatchObject({ status: 'closed', resolution: 'real_fault' });
  });

  it('escalates at 80 % and at the breach of each clock, once per level', async () => {
    await h.tickets.applyAlarm(raise());
    await vi.advanceTimersByTimeAsync(4 * MIN);
    await h.tickets.applyAlarm(raise()); // a repeat must not escalate again
    await vi.advanceTimersByTimeAsync(61 * MIN);
    const escalations = events
      .filter((e) => e.type === 'escalated')
      .map((e) => [e.detail.clock, e.detail.level, e.detail.to, e.at - T0]);
    expect(escalations).toEqual([
      ['arrival', 1, 'team_lead', 4 * MIN],
      ['arrival', 2, 'facilities_manager', 5 * MIN],
      ['repair', 1, 'team_lead', 48 * MIN],
      ['repair', 2, 'facilities_manager', 60 * MIN],
    ]);
    expect((await only()).escalation).toEqual({ arrival: 2, repair: 2 });
  });

  it("marks a flapping alarm's ticket once, and keeps one ticket", async () => {
    await h.tickets.applyAlarm(raise());
    await h.tickets.applyAlarm(clear());
    await h.tickets.applyAlarm(raise({ flapping: true }));
    await h.tickets.applyAlarm(clear({ flapping: true }));
    await h.tickets.applyAlarm(raise({ flapping: true }));
    expect(await h.store.listTickets({})).toHaveLength(1);
    expect((await only()).flapping).toBe(true);
    expect(types().filter((t) => t === 'flapping')).toHaveLength(1);
  });

  it('an outage clears when its last device is back, and closing it closes the linked tickets', async () => {
    const locks = ['l1', 'l2', 'l3', 'l4', 'l5', 'l6'];
    for (const id of locks) {
      await h.tickets.applyAlarm(
        raise({
          site: 'east',
          assetId: id,
          ruleId: 'device-offline',
          fault: 'offline',
          meaning: 'availability',
          category: 'lock',
        }),
      );
    }
    const all = await h.store.listTickets({});
    const parent = all.find((t) => t.fault === 'mass_offline');
    expect(parent).toBeDefined();
    expect(all.filter((t) => t.parentId === parent?.id)).toHaveLength(6);
    // Children carry no clocks of their own: nothing breaches for them.
    await vi.advanceTimersByTimeAsync(6 * MIN);
    expect(events.filter((e) => e.type === 'sla_breached').map((e) => e.ticketId)).toEqual([parent?.id]);
    for (const id of locks) {
      await h.tickets.applyAlarm(
        clear({
          site: 'east',
          assetId: id,
          ruleId: 'device-offline',
          fault: 'offline',
          meaning: 'availability',
          category: 'lock',
        }),
      );
    }
    expect((await h.tickets.get(parent?.id ?? 0)).alarmActive).toBe(false);
    await h.tickets.close(
      parent?.id ?? 0,
      { name: 'desk' },
      { reason: 'switch replaced in the east comms room', resolution: 'real_fault' },
    );
    expect((await h.store.listTickets({ open: true })).length).toBe(0);
  });
});
