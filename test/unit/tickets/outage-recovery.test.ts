import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Alarm, AlarmTransition, Ticket, TicketEvent } from '../../../src/domain/types.ts';
import { GatewayWatch } from '../../../src/tickets/gateway-watch.ts';
import { SlaScheduler } from '../../../src/tickets/sla-scheduler.ts';
import { silentLog, ticketHarness } from '../../helpers/domain.ts';

const T0 = Date.parse('2026-11-26T09:00:00Z');
const SEC = 1000;
const MIN = 60_000;
const desk = { name: 'desk', role: 'staff' };
const wang = { name: 'wang', role: 'maintainer' };

/** A lock's `offline` alarm (the example's device-offline rule), raised at `at` or cleared then. */
function offline(assetId: string, at: number, site = 'xincheng'): Alarm {
  return {
    site,
    assetId,
    ruleId: 'device-offline',
    fault: 'offline',
    meaning: 'availability',
    category: 'lock',
    severity: 'major',
    raisedAt: at,
    cause: { site, assetId, kind: 'availability', code: 'offline', ts: at },
  };
}
const raise = (alarm: Alarm): AlarmTransition => ({ type: 'raised', alarm });
const clear = (alarm: Alarm, at: number): AlarmTransition => ({
  type: 'cleared',
  alarm: { ...alarm, clearedAt: at },
});

describe('outages that heal', () => {
  let h: Awaited<ReturnType<typeof ticketHarness>>;
  let sla: SlaScheduler;
  let gateways: GatewayWatch;
  let events: TicketEvent[];
  beforeEach(async () => {
    vi.useFakeTimers({ now: T0 });
    h = await ticketHarness();
    await h.store.createUser({
      username: 'wang',
      displayName: 'Wang',
      role: 'maintainer',
      passwordHash: 'x',
      createdAt: T0,
    });
    sla = new SlaScheduler({ ...h, log: silentLog });
    gateways = new GatewayWatch({ ...h, log: silentLog, graceSeconds: 60 });
    await sla.start();
    events = [];
    h.bus.on('ticketChanged', (_t, e) => events.push(e));
  });
  afterEach(async () => {
    await gateways.stop();
    await sla.stop();
    await h.store.close();
    vi.useRealTimers();
  });

  const all = () => h.store.listTickets({});
  const byAsset = async (assetId: string, fault?: string): Promise<Ticket> => {
    const t = (await all()).find((x) => x.assetId === assetId && (!fault || x.fault === fault));
    if (!t) throw new Error(`no ticket for ${assetId}`);
    return t;
  };

  /** The xincheng gateway has been seen once (commissioned) and is connected now. */
  async function commissionedGateway(): Promise<void> {
    await gateways.start();
    gateways.connected('xincheng', 'xincheng-gw');
    await vi.advanceTimersByTimeAsync(0);
  }

  /** The gateway leaves for longer than the grace period: one gateway_offline ticket. */
  async function gatewayGone(): Promise<Ticket> {
    gateways.disconnected('xincheng', 'xincheng-gw');
    await vi.advanceTimersByTimeAsync(60 * SEC);
    return byAsset('xincheng-gw', 'gateway_offline');
  }

  it('resolves a gateway outage when the gateway is back; a child still offline stands alone with its own clocks', async () => {
    await commissionedGateway();
    const parent = await gatewayGone();
    const lockA = offline('lock-a', T0 + 70 * SEC);
    const lockB = offline('lock-b', T0 + 70 * SEC);
    await h.tickets.applyAlarm(raise(lockA));
    await h.tickets.applyAlarm(raise(lockB));
    expect((await byAsset('lock-a')).parentId).toBe(parent.id);
    await expect(h.tickets.dispatch((await byAsset('lock-a')).id, 'wang', desk)).rejects.toMatchObject({
      code: 'part_of_outage',
    });

    await vi.advanceTimersByTimeAsync(10 * MIN);
    gateways.connected('xincheng', 'xincheng-gw');
    await vi.advanceTimersByTimeAsync(0);
    const recovering = await byAsset('xincheng-gw');
    expect(recovering).toMatchObject({ alarmActive: false, status: 'raised' });
    // lock-a reconnects within the recovery time; lock-b has a loose cable.
    await vi.advanceTimersByTimeAsync(30 * SEC);
    await h.tickets.applyAlarm(clear(lockA, T0 + 12 * MIN));
    await vi.advanceTimersByTimeAsync(2 * MIN);

    const verified = await byAsset('xincheng-gw');
    expect(verified).toMatchObject({ status: 'verified', alarmActive: false });
    const recoveredEvent = events.find((e) => e.ticketId === parent.id && e.type === 'verified');
    expect(recoveredEvent?.detail).toMatchObject({ by: 'recovery' });
    expect(await byAsset('lock-a')).toMatchObject({ status: 'closed', parentId: parent.id });
    const b = await byAsset('lock-b');
    expect(b.parentId).toBeUndefined();
    expect(b.status).toBe('raised');
    // Its clocks count from its own detection: the 5-minute arrival was missed long ago, and the
    // breach is recorded at its true time, not at the recovery.
    expect(b.arrival).toMatchObject({
      dueAt: T0 + 70 * SEC + 5 * MIN,
      breachedAt: T0 + 70 * SEC + 5 * MIN,
      met: false,
    });
    expect(events.filter((e) => e.ticketId === b.id).map((e) => e.type)).toEqual(
      expect.arrayContaining(['raised', 'detached', 'sla_breached']),
    );
    // And it can be dispatched now.
    await expect(h.tickets.dispatch(b.id, 'wang', desk)).resolves.toMatchObject({ status: 'dispatched' });
  });

  it('never adopts a fault that starts after the outage ended, even before the outage ticket is closed', async () => {
    await commissionedGateway();
    await gatewayGone();
    gateways.connected('xincheng', 'xincheng-gw');
    await vi.advanceTimersByTimeAsync(0);
    // During the recovery time, and hours later.
    await h.tickets.applyAlarm(raise(offline('lock-c', T0 + 90 * SEC)));
    await vi.advanceTimersByTimeAsync(3 * 60 * MIN);
    await h.tickets.applyAlarm(raise(offline('lock-d', T0 + 3 * 60 * MIN)));
    for (const id of ['lock-c', 'lock-d']) {
      const t = await byAsset(id);
      expect(t.parentId).toBeUndefined();
      await expect(h.tickets.dispatch(t.id, 'wang', desk)).resolves.toMatchObject({ status: 'dispatched' });
    }
  });

  it('does not adopt a lock that went offline long before the gateway did', async () => {
    await commissionedGateway();
    await h.tickets.applyAlarm(raise(offline('lock-e', T0)));
    await vi.advanceTimersByTimeAsync(2 * 60 * MIN);
    const parent = await gatewayGone();
    expect(parent.alarmActive).toBe(true);
    expect((await byAsset('lock-e')).parentId).toBeUndefined();
  });

  it('closing an outage by hand closes the children that are back and detaches those still offline', async () => {
    await commissionedGateway();
    const parent = await gatewayGone();
    const back = offline('lock-f', T0 + 61 * SEC);
    await h.tickets.applyAlarm(raise(back));
    await h.tickets.applyAlarm(raise(offline('lock-g', T0 + 61 * SEC)));
    await h.tickets.applyAlarm(clear(back, T0 + 2 * MIN));
    await h.tickets.close(parent.id, desk, { reason: 'network switch replaced', resolution: 'real_fault' });
    expect(await byAsset('lock-f')).toMatchObject({ status: 'closed' });
    const g = await byAsset('lock-g');
    expect(g).toMatchObject({ status: 'raised', alarmActive: true });
    expect(g.parentId).toBeUndefined();
    // Its ticket stays the open one: the lock's next report is a repeat, not a new ticket.
    await h.tickets.applyAlarm(raise(offline('lock-g', T0 + 5 * MIN)));
    expect((await all()).filter((t) => t.assetId === 'lock-g')).toHaveLength(1);
  });

  it('a mass outage ends when no more than the threshold of its devices are offline, then its stragglers stand alone', async () => {
    const locks = ['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7'].map((id, i) =>
      offline(id, T0 + i * SEC, 'east'),
    );
    for (const lock of locks) await h.tickets.applyAlarm(raise(lock));
    const parent = await byAsset('east-gw', 'mass_offline');
    expect(parent.alarmActive).toBe(true);
    const children = (await all()).filter((t) => t.fault === 'offline' && t.parentId === parent.id);
    expect(children).toHaveLength(7);
    // Two come back: five offline is not more than the threshold (5), so the outage is over.
    await vi.advanceTimersByTimeAsync(MIN);
    await h.tickets.applyAlarm(clear(locks[0] as Alarm, T0 + MIN));
    expect((await byAsset('east-gw')).alarmActive).toBe(true);
    await h.tickets.applyAlarm(clear(locks[1] as Alarm, T0 + MIN));
    expect((await byAsset('east-gw')).alarmActive).toBe(false);
    // One more goes offline again before the recovery time: six is an outage again.
    await h.tickets.applyAlarm(raise(offline('m1', T0 + 90 * SEC, 'east')));
    expect((await byAsset('east-gw')).alarmActive).toBe(true);
    await vi.advanceTimersByTimeAsync(5 * MIN);
    expect((await byAsset('east-gw')).status).toBe('raised');
    // It comes back, and this time the outage stays over for the recovery time.
    await h.tickets.applyAlarm(clear(offline('m1', T0, 'east'), T0 + 6 * MIN));
    await vi.advanceTimersByTimeAsync(2 * MIN);
    expect(await byAsset('east-gw')).toMatchObject({ status: 'verified' });
    const left = (await all()).filter((t) => t.fault === 'offline' && t.status !== 'closed');
    expect(left.map((t) => t.assetId).sort()).toEqual(['m3', 'm4', 'm5', 'm6', 'm7']);
    expect(left.every((t) => t.parentId === undefined)).toBe(true);
    expect((await all()).filter((t) => ['m1', 'm2'].includes(t.assetId)).map((t) => t.status)).toEqual([
      'closed',
      'closed',
    ]);
  });

  it('recognises an outage by what the faults mean, whatever the rule calls them', async () => {
    // A rule of kind `offline` whose fault is named by the site's own words.
    const unreachable = (id: string, i: number): Alarm => ({
      ...offline(id, T0 + i * SEC, 'north'),
      ruleId: 'lock-unreachable',
      fault: 'lock_unreachable',
    });
    for (const [i, id] of ['u1', 'u2', 'u3', 'u4', 'u5', 'u6'].entries())
      await h.tickets.applyAlarm(raise(unreachable(id, i)));
    const parent = await byAsset('north-gw', 'mass_offline');
    expect((await all()).filter((t) => t.parentId === parent.id)).toHaveLength(6);
    // A condition fault never joins an outage, whatever it is called.
    await h.tickets.applyAlarm(
      raise({ ...offline('u7', T0 + 10 * SEC, 'north'), fault: 'offline', meaning: 'condition' }),
    );
    expect((await byAsset('u7')).parentId).toBeUndefined();
  });

  it('a configured gateway that never connected is not commissioned: no outage ticket, whatever the wait', async () => {
    await gateways.start();
    await vi.advanceTimersByTimeAsync(60 * MIN);
    expect(await all()).toEqual([]);
    expect(gateways.statuses().map((g) => g.state)).toEqual([
      'not_commissioned',
      'not_commissioned',
      'not_commissioned',
    ]);
    // Once it has connected, it is watched, across restarts too.
    gateways.connected('north', 'north-gw');
    await vi.advanceTimersByTimeAsync(0);
    await gateways.stop();
    const again = new GatewayWatch({ ...h, log: silentLog, graceSeconds: 60 });
    await again.start();
    await vi.advanceTimersByTimeAsync(61 * SEC);
    expect((await all()).map((t) => [t.site, t.fault])).toEqual([['north', 'gateway_offline']]);
    expect(again.statuses().find((g) => g.site === 'north')?.state).toBe('offline');
    await again.stop();
  });

  it('a maintainer may still work the outage ticket itself while it recovers', async () => {
    await commissionedGateway();
    const parent = await gatewayGone();
    await h.tickets.dispatch(parent.id, 'wang', desk);
    await h.tickets.arrive(parent.id, wang);
    gateways.connected('xincheng', 'xincheng-gw');
    await vi.advanceTimersByTimeAsync(0);
    await h.tickets.repaired(parent.id, wang, { note: 'replugged the gateway' });
    await vi.advanceTimersByTimeAsync(2 * MIN);
    expect(await byAsset('xincheng-gw')).toMatchObject({
      status: 'verified',
      repair: { met: true },
      arrival: { met: true },
    });
  });
});
