import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Directory } from '../../../src/config/directory.ts';
import type { Alarm, AlarmTransition } from '../../../src/domain/types.ts';
import { exampleConfig, leakAlarm, ticketHarness } from '../../helpers/domain.ts';

const T0 = Date.parse('2026-11-26T09:00:00Z');

const alarm = (overrides: Partial<Alarm> = {}): Alarm => leakAlarm({ raisedAt: T0, ...overrides });
const raised = (a = alarm()): AlarmTransition => ({ type: 'raised', alarm: a });
const me = { name: 'wang', role: 'maintainer' };

describe('TicketService', () => {
  let h: Awaited<ReturnType<typeof ticketHarness>>;
  beforeEach(async () => {
    vi.useFakeTimers({ now: T0 + 2000 });
    h = await ticketHarness();
  });
  afterEach(async () => {
    await h.store.close();
    vi.useRealTimers();
  });

  it('starts both SLA clocks at detection, not at raising', async () => {
    await h.tickets.applyAlarm(raised());
    const [ticket] = await h.store.listTickets({});
    expect(ticket).toMatchObject({
      status: 'raised',
      detectedAt: T0,
      raisedAt: T0 + 2000,
      arrival: { dueAt: T0 + 5 * 60_000 },
      repair: { dueAt: T0 + 60 * 60_000 },
    });
  });

  it('dedups: a repeated alarm while a ticket is open adds an event, not a ticket', async () => {
    await h.tickets.applyAlarm(raised());
    await h.tickets.applyAlarm({ type: 'cleared', alarm: { ...alarm(), clearedAt: T0 + 10 } });
    await h.tickets.applyAlarm(raised(alarm({ raisedAt: T0 + 20 })));
    await h.tickets.applyAlarm(raised(alarm({ raisedAt: T0 + 30 })));
    const all = await h.store.listTickets({});
    expect(all).toHaveLength(1);
    const events = await h.store.listTicketEvents(all[0]?.id ?? 0);
    expect(events.map((e) => e.type)).toEqual([
      'raised',
      'alarm_cleared',
      'alarm_repeated',
      'alarm_repeated',
    ]);
    // A different fault on the same asset is a different ticket.
    await h.tickets.applyAlarm(
      raised(alarm({ ruleId: 'device-offline', fault: 'offline', meaning: 'availability' })),
    );
    expect(await h.store.listTickets({})).toHaveLength(2);
  });

  it('raises a new ticket once the previous one for the same fault is closed', async () => {
    await h.tickets.applyAlarm(raised());
    const [first] = await h.store.listTickets({});
    await h.tickets.close(
      first?.id ?? 0,
      { name: 'desk' },
      { reason: 'false alarm: sensor knocked over', resolution: 'no_fault_found' },
    );
    await h.tickets.applyAlarm(raised(alarm({ raisedAt: T0 + 5000 })));
    expect((await h.store.listTickets({})).map((t) => t.status)).toEqual(['raised', 'closed']);
  });

  it('records arrival and repair as met within target, and as missed after it', async () => {
    await h.tickets.applyAlarm(raised());
    await h.tickets.applyAlarm(
      raised(
        alarm({
          assetId: 'lock-3f-east',
          ruleId: 'device-offline',
          fault: 'offline',
          meaning: 'availability',
          category: 'lock',
        }),
      ),
    );
    const [lockTicket, leakTicket] = await h.store.listTickets({});
    vi.setSystemTime(T0 + 4 * 60_000);
    expect((await h.tickets.arrive(leakTicket?.id ?? 0, me)).arrival).toMatchObject({
      met: true,
      at: T0 + 240_000,
    });
    vi.setSystemTime(T0 + 50 * 60_000);
    expect((await h.tickets.repaired(leakTicket?.id ?? 0, me)).repair.met).toBe(true);

    vi.setSystemTime(T0 + 5 * 60_000 + 1);
    expect((await h.tickets.arrive(lockTicket?.id ?? 0, me)).arrival.met).toBe(false);
    vi.setSystemTime(T0 + 61 * 60_000);
    const late = await h.tickets.repaired(lockTicket?.id ?? 0, me);
    expect(late).toMatchObject({ status: 'repaired', assignee: 'wang', repair: { met: false } });
  });

  it('enforces the lifecycle order with clear conflicts', async () => {
    await h.tickets.applyAlarm(raised());
    const [ticket] = await h.store.listTickets({});
    const id = ticket?.id ?? 0;
    await expect(h.tickets.repaired(id, me)).rejects.toMatchObject({
      code: 'ticket_conflict',
      httpStatus: 409,
    });
    await expect(h.tickets.close(id, { name: 'desk' })).rejects.toMatchObject({ code: 'reason_required' });
    for (const [username, role] of [
      ['li', 'maintainer'],
      ['zhao', 'maintainer'],
      ['desk', 'staff'],
    ] as const) {
      await h.store.createUser({ username, displayName: username, role, passwordHash: 'x', createdAt: T0 });
    }
    await expect(h.tickets.dispatch(id, 'desk', { name: 'desk' })).rejects.toMatchObject({
      code: 'unknown_maintainer',
    });
    await expect(h.tickets.dispatch(id, 'nobody', { name: 'desk' })).rejects.toMatchObject({
      code: 'unknown_maintainer',
    });
    await h.tickets.dispatch(id, 'li', { name: 'desk' });
    // Dispatched to li: another maintainer cannot stop li's clocks; an admin may record for li.
    await expect(h.tickets.arrive(id, me)).rejects.toMatchObject({ code: 'not_assignee', httpStatus: 403 });
    await h.tickets.arrive(id, { name: 'li', role: 'maintainer' });
    await expect(h.tickets.arrive(id, { name: 'li', role: 'maintainer' })).rejects.toMatchObject({
      code: 'ticket_conflict',
    });
    await expect(h.tickets.dispatch(id, 'zhao', { name: 'desk' })).rejects.toMatchObject({
      code: 'ticket_conflict',
    });
    await h.tickets.repaired(id, { name: 'admin', role: 'admin' });
    const events = await h.store.listTicketEvents(id);
    expect(events.slice(-2)).toMatchObject([
      { type: 'arrived', actor: 'li' },
      { type: 'repaired', actor: 'admin' },
    ]);
    await expect(h.tickets.get(999)).rejects.toMatchObject({ code: 'not_found', httpStatus: 404 });
  });

  it('raises manual tickets with the same clocks, and rejects unknown sites and categories', async () => {
    const t = await h.tickets.raiseManual(
      {
        site: 'north',
        assetId: 'room-301-tap',
        fault: 'dripping_tap',
        category: 'plumbing',
        note: 'hotline call',
      },
      { name: 'desk' },
    );
    expect(t).toMatchObject({
      ruleId: 'manual',
      detectedAt: T0 + 2000,
      arrival: { dueAt: T0 + 2000 + 300_000 },
    });
    await expect(
      h.tickets.raiseManual(
        { site: 'mars', assetId: 'x', fault: 'y', category: 'plumbing' },
        { name: 'desk' },
      ),
    ).rejects.toMatchObject({ code: 'unknown_site' });
    await expect(
      h.tickets.raiseManual(
        { site: 'north', assetId: 'x', fault: 'y', category: 'catering' },
        { name: 'desk' },
      ),
    ).rejects.toMatchObject({ code: 'unknown_category' });
  });

  it('moves an open ticket to the rule that now reports its fault, and ignores a closed race', async () => {
    const manual = await h.tickets.raiseManual(
      {
        site: 'xincheng',
        assetId: 'leak-b1-riser',
        fault: 'leak',
        category: 'plumbing',
        note: 'caller saw water',
      },
      { name: 'desk' },
    );
    expect(manual).toMatchObject({ ruleId: 'manual', alarmActive: false });
    await h.tickets.applyAlarm(raised());
    expect(await h.tickets.get(manual.id)).toMatchObject({ ruleId: 'water-leak', alarmActive: true });
  });

  it('uses per-category SLA targets when the config overrides them', async () => {
    const config = exampleConfig();
    config.categories.hvac = {
      name: 'HVAC',
      type: 'repair',
      sla: { arrivalMinutes: 15, repairMinutes: 240 },
    };
    const directory = new Directory(config);
    expect(directory.slaFor('hvac')).toEqual({ arrivalMs: 15 * 60_000, repairMs: 240 * 60_000 });
    expect(directory.slaFor('plumbing')).toEqual({ arrivalMs: 5 * 60_000, repairMs: 60 * 60_000 });
  });

  it('refuses to dispatch to a maintainer of other sites; a maintainer of all sites may take any', async () => {
    await h.tickets.applyAlarm(raised());
    const [ticket] = await h.store.listTickets({});
    const id = ticket?.id ?? 0;
    const user = (username: string, sites: string[]) =>
      h.store.createUser({
        username,
        displayName: username,
        role: 'maintainer',
        passwordHash: 'x',
        createdAt: T0,
        sites,
      });
    await user('north-only', ['north']);
    await user('anywhere', []);
    await user('both', ['north', 'xincheng']);
    await expect(h.tickets.dispatch(id, 'north-only', { name: 'desk' })).rejects.toMatchObject({
      code: 'assignee_not_at_site',
      httpStatus: 409,
    });
    expect((await h.tickets.dispatch(id, 'both', { name: 'desk' })).assignee).toBe('both');
    await h.store.updateTicket(
      id,
      { status: 'raised', updatedAt: T0 },
      { at: T0, actor: 't', type: 'reopened', detail: {} },
    );
    expect((await h.tickets.dispatch(id, 'anywhere', { name: 'desk' })).assignee).toBe('anywhere');
  });

  it("arrives by the asset's QR label on the ticket waiting there, and records how arrival was proven", async () => {
    await expect(h.tickets.arriveAt('xincheng', 'leak-b1-riser', me)).rejects.toMatchObject({
      code: 'no_open_ticket',
      httpStatus: 404,
    });
    await h.tickets.applyAlarm(raised());
    const scanned = await h.tickets.arriveAt('xincheng', 'leak-b1-riser', me);
    expect(scanned).toMatchObject({
      status: 'on_site',
      assignee: 'wang',
      arrival: { at: T0 + 2000, met: true },
    });
    // The label scanned again (a reload of the page): the same ticket, no second arrival.
    expect((await h.tickets.arriveAt('xincheng', 'leak-b1-riser', me)).id).toBe(scanned.id);
    const events = await h.store.listTicketEvents(scanned.id);
    expect(events.filter((e) => e.type === 'arrived').map((e) => e.detail.presence)).toEqual(['qr']);

    // Dispatched to somebody else: not this maintainer's to arrive at (an admin may record it).
    await h.store.createUser({
      username: 'li',
      displayName: 'li',
      role: 'maintainer',
      passwordHash: 'x',
      createdAt: T0,
    });
    await h.tickets.applyAlarm(
      raised(alarm({ assetId: 'lock-3f-east', ruleId: 'lock-jammed', fault: 'jammed', category: 'lock' })),
    );
    const lock = (await h.store.listTickets({ assetId: 'lock-3f-east' }))[0];
    await h.tickets.dispatch(lock?.id ?? 0, 'li', { name: 'desk' });
    await expect(h.tickets.arriveAt('xincheng', 'lock-3f-east', me)).rejects.toMatchObject({
      code: 'not_assignee',
      httpStatus: 403,
    });
    const byAdmin = await h.tickets.arriveAt('xincheng', 'lock-3f-east', { name: 'admin', role: 'admin' });
    expect(byAdmin).toMatchObject({ status: 'on_site', assignee: 'li' });
    const button = await h.tickets.arrive(
      (
        await h.tickets.raiseManual(
          { site: 'north', assetId: 'tap', fault: 'drip', category: 'plumbing' },
          { name: 'desk' },
        )
      ).id,
      me,
    );
    expect((await h.store.listTicketEvents(button.id)).at(-1)?.detail.presence).toBe('unverified');
  });

  it('keeps the resolution reported with the repair for the close, and forgets it when the fault returns', async () => {
    await h.tickets.applyAlarm(raised());
    const [ticket] = await h.store.listTickets({});
    const id = ticket?.id ?? 0;
    await h.tickets.arrive(id, me);
    const repaired = await h.tickets.repaired(id, me, { note: 'probe was dry', resolution: 'sensor_fault' });
    expect(repaired.resolution).toBe('sensor_fault');
    expect((await h.store.listTicketEvents(id)).at(-1)?.detail).toMatchObject({
      note: 'probe was dry',
      resolution: 'sensor_fault',
    });
    // The fault returns before verification: what was found no longer holds.
    await h.tickets.applyAlarm(raised(alarm({ raisedAt: T0 + 1000 })));
    expect((await h.tickets.get(id)).resolution).toBeUndefined();
    await h.tickets.arrive(id, me);
    await h.tickets.repaired(id, me, { resolution: 'no_fault_found' });
    const closed = await h.tickets.close(id, { name: 'desk' }, { reason: 'nothing found' });
    expect(closed.resolution).toBe('no_fault_found');
  });
});
