import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TicketEventType, TicketStatus } from '../../src/domain/types.ts';
import type { NewTicket, Store, TicketGuard, TicketPatch } from '../../src/store/store.ts';

export const T0 = Date.parse('2026-11-26T09:00:00Z');

/** Every status but closed. */
const OPEN: TicketStatus[] = ['raised', 'dispatched', 'on_site', 'repaired', 'verified'];

export const newTicket = (overrides: Partial<NewTicket> = {}): NewTicket => ({
  site: 'xincheng',
  assetId: 'leak-b1-riser',
  category: 'plumbing',
  fault: 'leak',
  meaning: 'condition',
  severity: 'critical',
  status: 'raised',
  ruleId: 'water-leak',
  alarmActive: true,
  raisedAt: T0 + 10,
  detectedAt: T0,
  arrival: { dueAt: T0 + 300_000 },
  repair: { dueAt: T0 + 3_600_000 },
  updatedAt: T0 + 10,
  flapping: false,
  reopenCount: 0,
  escalation: { arrival: 0, repair: 0 },
  ...overrides,
});

/** The work-order numbers of xincheng's tickets of T0's day (the store adds the sequence). */
export const WO_PREFIX = 'XC-20261126';

export const ev = (type: TicketEventType, at = T0) => ({
  at,
  actor: 'system:test',
  type,
  detail: { n: 1, nested: { ok: true } },
});

export interface StoreFactory {
  /** A fresh, migrated store. */
  create(): Promise<Store>;
  /** The same database opened again, as after a restart (optional per driver). */
  reopen?(): Promise<Store>;
  cleanup?(): Promise<void>;
}

/**
 * The behaviour every Store backend must show (cf. aedes-persistence's abstract suite).
 * Each backend's test file calls this with its own factory.
 */
export function storeContract(driver: string, factory: StoreFactory): void {
  describe(`Store contract: ${driver}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await factory.create();
    });
    afterEach(async () => {
      await store.close();
      await factory.cleanup?.();
    });

    it('migrates idempotently', async () => {
      await store.migrate();
      await store.migrate();
      expect(await store.listTickets({})).toEqual([]);
    });

    it('creates a ticket with its first event in one step and reads it back unchanged', async () => {
      const { ticket, event } = await store.createTicket(newTicket(), ev('raised'), WO_PREFIX);
      expect(ticket).toEqual({ id: ticket.id, workOrder: 'XC-20261126-001', ...newTicket() });
      expect(event).toMatchObject({ ticketId: ticket.id, type: 'raised', detail: { nested: { ok: true } } });
      expect(await store.getTicket(ticket.id)).toEqual(ticket);
      expect(await store.listTicketEvents(ticket.id)).toEqual([event]);
    });

    it('keeps one open ticket per site, asset and fault', async () => {
      const { ticket } = await store.createTicket(newTicket(), ev('raised'), WO_PREFIX);
      await expect(store.createTicket(newTicket(), ev('raised'), WO_PREFIX)).rejects.toMatchObject({
        code: 'ticket_exists',
      });
      expect(
        await store.findOpenTicket({ site: 'xincheng', assetId: 'leak-b1-riser', fault: 'leak' }),
      ).toEqual(ticket);
      // Other site, asset or fault: separate tickets.
      await store.createTicket(newTicket({ site: 'north' }), ev('raised'), WO_PREFIX);
      await store.createTicket(newTicket({ fault: 'offline' }), ev('raised'), WO_PREFIX);
      expect(await store.listTickets({})).toHaveLength(3);
      // Once closed, the same fault may be ticketed again.
      await store.updateTicket(
        ticket.id,
        { status: 'closed', closedAt: T0 + 1, updatedAt: T0 + 1 },
        ev('closed'),
      );
      expect(
        await store.findOpenTicket({ site: 'xincheng', assetId: 'leak-b1-riser', fault: 'leak' }),
      ).toBeUndefined();
      await store.createTicket(newTicket(), ev('raised'), WO_PREFIX);
    });

    it('applies an update only from an expected status, and appends its event', async () => {
      const { ticket } = await store.createTicket(newTicket(), ev('raised'), WO_PREFIX);
      const { ticket: onSite } = await store.updateTicket(
        ticket.id,
        {
          status: 'on_site',
          arrivalAt: T0 + 60_000,
          arrivalMet: true,
          assignee: 'wang',
          updatedAt: T0 + 60_000,
        },
        ev('arrived', T0 + 60_000),
        ['raised', 'dispatched'],
      );
      expect(onSite).toMatchObject({
        status: 'on_site',
        assignee: 'wang',
        arrival: { at: T0 + 60_000, met: true },
      });
      await expect(
        store.updateTicket(ticket.id, { status: 'on_site', updatedAt: T0 }, ev('arrived'), [
          'raised',
          'dispatched',
        ]),
      ).rejects.toMatchObject({ code: 'ticket_conflict', httpStatus: 409 });
      await expect(store.updateTicket(9999, { updatedAt: T0 }, ev('closed'))).rejects.toMatchObject({
        code: 'not_found',
      });
      expect((await store.listTicketEvents(ticket.id)).map((e) => e.type)).toEqual(['raised', 'arrived']);
    });

    it('refuses a change from another status without writing it or its event', async () => {
      const { ticket, event } = await store.createTicket(newTicket(), ev('raised'), WO_PREFIX);
      await expect(
        store.updateTicket(
          ticket.id,
          { status: 'repaired', repairAt: T0 + 5, assignee: 'li', updatedAt: T0 + 5 },
          ev('repaired', T0 + 5),
          ['on_site'],
        ),
      ).rejects.toMatchObject({ code: 'ticket_conflict', httpStatus: 409, details: { status: 'raised' } });
      expect(await store.getTicket(ticket.id)).toEqual(ticket);
      expect(await store.listTicketEvents(ticket.id)).toEqual([event]);
      expect(await store.lastTicketEventId()).toBe(event.id);
      expect((await store.readTicketLog(0, 10)).map((e) => e.event)).toEqual([event]);
    });

    it('applies an update only while its guard holds (escalation level, verification instant, pause)', async () => {
      const { ticket } = await store.createTicket(newTicket(), ev('raised'), WO_PREFIX);
      const refused = async (patch: Omit<TicketPatch, 'updatedAt'>, guard: TicketGuard) => {
        const before = await store.getTicket(ticket.id);
        const events = await store.listTicketEvents(ticket.id);
        await expect(
          store.updateTicket(ticket.id, { ...patch, updatedAt: T0 + 99 }, ev('escalated'), OPEN, guard),
        ).rejects.toMatchObject({ code: 'ticket_conflict', httpStatus: 409 });
        expect(await store.getTicket(ticket.id)).toEqual(before);
        expect(await store.listTicketEvents(ticket.id)).toEqual(events);
      };
      const applied = async (patch: Omit<TicketPatch, 'updatedAt'>, guard: TicketGuard, at: number) =>
        (await store.updateTicket(ticket.id, { ...patch, updatedAt: at }, ev('escalated', at), OPEN, guard))
          .ticket;

      // Escalation: each level once, per clock.
      const arrivalBelow1 = { escalationBelow: { clock: 'arrival' as const, level: 1 } };
      expect((await applied({ arrivalEscalation: 1 }, arrivalBelow1, T0 + 1)).escalation).toEqual({
        arrival: 1,
        repair: 0,
      });
      await refused({ arrivalEscalation: 1 }, arrivalBelow1);
      // The repair clock's level is its own.
      const repairBelow1 = { escalationBelow: { clock: 'repair' as const, level: 1 } };
      expect((await applied({ repairEscalation: 1 }, repairBelow1, T0 + 2)).escalation).toEqual({
        arrival: 1,
        repair: 1,
      });
      await refused({ repairEscalation: 2 }, repairBelow1);
      expect(
        (await applied({ repairEscalation: 2 }, { escalationBelow: { clock: 'repair', level: 2 } }, T0 + 3))
          .escalation,
      ).toEqual({ arrival: 1, repair: 2 });

      // Verification: only the instant it was planned for; none planned, none matches.
      await refused({ repairVerifiedAt: T0 + 4 }, { verifyDueAt: T0 + 4 });
      await applied({ verifyDueAt: T0 + 600_000 }, {}, T0 + 4);
      await refused({ repairVerifiedAt: T0 + 5 }, { verifyDueAt: T0 + 500_000 });
      expect(
        (await applied({ repairVerifiedAt: T0 + 600_000 }, { verifyDueAt: T0 + 600_000 }, T0 + 5)).repair
          .verifiedAt,
      ).toBe(T0 + 600_000);

      // Pause: clocks run (slaPaused: false) until a window pauses them, then only true applies.
      await refused({ slaPausedAt: T0 + 6 }, { slaPaused: true });
      expect((await applied({ slaPausedAt: T0 + 6 }, { slaPaused: false }, T0 + 6)).slaPausedAt).toBe(T0 + 6);
      await refused({ arrivalEscalation: 2 }, { slaPaused: false });
      const resumed = await applied({ slaPausedAt: null }, { slaPaused: true }, T0 + 7);
      expect(resumed).not.toHaveProperty('slaPausedAt');

      // A breach once per clock: a second scheduler (a leader that did not know it lost its lock)
      // cannot record it again.
      await applied({ arrivalBreachedAt: T0 + 300_000 }, { notBreached: 'arrival' }, T0 + 8);
      await refused({ arrivalBreachedAt: T0 + 300_001 }, { notBreached: 'arrival' });
      expect(
        (await applied({ repairBreachedAt: T0 + 3_600_000 }, { notBreached: 'repair' }, T0 + 9)).repair
          .breachedAt,
      ).toBe(T0 + 3_600_000);

      // Every condition at once: all must hold.
      await refused(
        { arrivalEscalation: 2 },
        { escalationBelow: { clock: 'arrival', level: 2 }, slaPaused: true },
      );
      expect((await store.listTicketEvents(ticket.id)).map((e) => e.type)).toEqual([
        'raised',
        ...Array<string>(9).fill('escalated'),
      ]);
    });

    it('refuses to reopen a closed ticket while another is open for the same asset and fault', async () => {
      const { ticket: first } = await store.createTicket(newTicket(), ev('raised'), WO_PREFIX);
      await store.updateTicket(
        first.id,
        { status: 'closed', closedAt: T0 + 1, updatedAt: T0 + 1 },
        ev('closed'),
      );
      const { ticket: second } = await store.createTicket(newTicket(), ev('raised'), WO_PREFIX);
      await expect(
        store.updateTicket(
          first.id,
          { status: 'raised', closedAt: null, updatedAt: T0 + 2 },
          ev('reopened'),
          ['closed'],
        ),
      ).rejects.toMatchObject({ code: 'ticket_exists', httpStatus: 409 });
      expect((await store.getTicket(first.id))?.status).toBe('closed');
      await store.updateTicket(
        second.id,
        { status: 'closed', closedAt: T0 + 3, updatedAt: T0 + 3 },
        ev('closed'),
      );
      const { ticket: reopened } = await store.updateTicket(
        first.id,
        { status: 'raised', closedAt: null, reopenCount: 1, updatedAt: T0 + 4 },
        ev('reopened'),
        ['closed'],
      );
      expect(reopened).toMatchObject({ status: 'raised', reopenCount: 1 });
      expect(reopened).not.toHaveProperty('closedAt');
      expect(
        await store.findOpenTicket({ site: 'xincheng', assetId: 'leak-b1-riser', fault: 'leak' }),
      ).toEqual(reopened);
    });

    it('finds the latest closed ticket of an asset and fault verified since an instant, for reopening', async () => {
      const key = { site: 'xincheng', assetId: 'leak-b1-riser', fault: 'leak' };
      /** Raises a ticket and closes it, repaired and verified at `verifiedAt` unless that is null. */
      const closed = async (over: Partial<NewTicket>, verifiedAt: number | null, closedAt: number) => {
        const { ticket } = await store.createTicket(
          newTicket(over),
          ev('raised'),
          over.site === 'north' ? 'NO-20261126' : WO_PREFIX,
        );
        const repair = verifiedAt === null ? {} : { repairAt: verifiedAt - 1, repairVerifiedAt: verifiedAt };
        return (
          await store.updateTicket(
            ticket.id,
            { ...repair, status: 'closed', closedAt, updatedAt: closedAt },
            ev('closed'),
          )
        ).ticket;
      };
      expect(await store.findRecentlyClosedTicket(key, T0)).toBeUndefined();
      const older = await closed({}, T0 + 100, T0 + 110);
      const latest = await closed({}, T0 + 200, T0 + 210);
      expect(await store.findRecentlyClosedTicket(key, T0)).toEqual(latest);
      // Verified at `since` counts; once the latest is too old, so is every earlier one.
      expect(await store.findRecentlyClosedTicket(key, T0 + 200)).toEqual(latest);
      expect(await store.findRecentlyClosedTicket(key, T0 + 201)).toBeUndefined();
      expect(older.status).toBe('closed');

      // Other faults, assets and sites are other tickets.
      await closed({ fault: 'offline' }, T0 + 300, T0 + 310);
      await closed({ assetId: 'leak-b2' }, T0 + 300, T0 + 310);
      await closed({ site: 'north' }, T0 + 300, T0 + 310);
      expect(await store.findRecentlyClosedTicket(key, T0 + 201)).toBeUndefined();
      // A ticket closed without a verified repair (a false alarm) is not one to reopen.
      await closed({}, null, T0 + 400);
      expect(await store.findRecentlyClosedTicket(key, T0 + 201)).toBeUndefined();
      // Nor is an open ticket, even with its repair verified.
      const { ticket: open } = await store.createTicket(newTicket(), ev('raised'), WO_PREFIX);
      await store.updateTicket(
        open.id,
        { status: 'verified', repairAt: T0 + 499, repairVerifiedAt: T0 + 500, updatedAt: T0 + 500 },
        ev('verified'),
      );
      expect(await store.findRecentlyClosedTicket(key, T0 + 201)).toBeUndefined();
      expect(await store.findRecentlyClosedTicket(key, T0)).toEqual(latest);
    });

    it('keeps maintenance windows: lists those not cancelled that end after an instant, cancels once', async () => {
      const HOUR = 3_600_000;
      const base = { site: 'xincheng', reason: 'pump overhaul', createdBy: 'admin', createdAt: T0 };
      const site = await store.addMaintenanceWindow({
        ...base,
        startsAt: T0 + 2 * HOUR,
        endsAt: T0 + 4 * HOUR,
      });
      expect(site).toEqual({ id: site.id, ...base, startsAt: T0 + 2 * HOUR, endsAt: T0 + 4 * HOUR });
      expect(site).not.toHaveProperty('assetId');
      const asset = await store.addMaintenanceWindow({
        ...base,
        assetId: 'leak-b1-riser',
        startsAt: T0 + HOUR,
        endsAt: T0 + 3 * HOUR,
      });
      const ended = await store.addMaintenanceWindow({ ...base, startsAt: T0 - 2 * HOUR, endsAt: T0 });
      const dropped = await store.addMaintenanceWindow({ ...base, startsAt: T0, endsAt: T0 + 5 * HOUR });
      expect(new Set([site.id, asset.id, ended.id, dropped.id]).size).toBe(4);

      const cancelled = await store.cancelMaintenanceWindow(dropped.id, 'wang', T0 + 60_000);
      expect(cancelled).toEqual({ ...dropped, cancelledAt: T0 + 60_000, cancelledBy: 'wang' });
      // By start; one that ends at `after` has ended, one cancelled is gone.
      expect((await store.listMaintenanceWindows(T0)).map((w) => w.id)).toEqual([asset.id, site.id]);
      expect(await store.listMaintenanceWindows(T0 - 1)).toEqual([ended, asset, site]);
      expect((await store.listMaintenanceWindows(T0 + 3 * HOUR)).map((w) => w.id)).toEqual([site.id]);
      expect(await store.listMaintenanceWindows(T0 + 4 * HOUR)).toEqual([]);

      // Cancelling twice, or a window that never was: not found (only an active window can be).
      await expect(store.cancelMaintenanceWindow(dropped.id, 'li', T0 + 120_000)).rejects.toMatchObject({
        code: 'not_found',
        httpStatus: 404,
      });
      await expect(store.cancelMaintenanceWindow(9999, 'li', T0)).rejects.toMatchObject({
        code: 'not_found',
      });
      expect((await store.listMaintenanceWindows(T0 - 1)).map((w) => w.id)).toEqual([
        ended.id,
        asset.id,
        site.id,
      ]);
    });

    it('stores booleans and optional instants faithfully', async () => {
      const { ticket } = await store.createTicket(newTicket(), ev('raised'), WO_PREFIX);
      const { ticket: updated } = await store.updateTicket(
        ticket.id,
        { alarmActive: false, arrivalBreachedAt: T0 + 300_000, arrivalMet: false, updatedAt: T0 + 300_000 },
        ev('sla_breached'),
      );
      expect(updated.alarmActive).toBe(false);
      expect(updated.arrival).toEqual({ dueAt: T0 + 300_000, breachedAt: T0 + 300_000, met: false });
      expect(updated.repair).toEqual({ dueAt: T0 + 3_600_000 });
    });

    it('filters ticket lists by status, site, category, asset and openness, newest first', async () => {
      const a = (await store.createTicket(newTicket(), ev('raised'), WO_PREFIX)).ticket;
      const b = (
        await store.createTicket(
          newTicket({ site: 'north', category: 'lock', assetId: 'lock-1', fault: 'offline' }),
          ev('raised'),
          'NO-20261126',
        )
      ).ticket;
      await store.updateTicket(a.id, { status: 'closed', closedAt: T0, updatedAt: T0 }, ev('closed'));
      expect((await store.listTickets({})).map((t) => t.id)).toEqual([b.id, a.id]);
      expect((await store.listTickets({ open: true })).map((t) => t.id)).toEqual([b.id]);
      expect((await store.listTickets({ status: ['closed'] })).map((t) => t.id)).toEqual([a.id]);
      expect((await store.listTickets({ site: 'north' })).map((t) => t.id)).toEqual([b.id]);
      expect((await store.listTickets({ category: 'plumbing' })).map((t) => t.id)).toEqual([a.id]);
      expect((await store.listTickets({ assetId: 'lock-1' })).map((t) => t.id)).toEqual([b.id]);
      expect((await store.listTickets({ limit: 1, offset: 1 })).map((t) => t.id)).toEqual([a.id]);
      // A report's period: detected in [from, to).
      const c = (
        await store.createTicket(
          newTicket({ assetId: 'late', detectedAt: T0 + 60_000 }),
          ev('raised'),
          WO_PREFIX,
        )
      ).ticket;
      const inPeriod = async (from: number, to: number) =>
        (await store.listTickets({ detectedFrom: from, detectedTo: to }))
          .map((t) => t.id)
          .sort((x, y) => x - y);
      expect(await inPeriod(c.detectedAt, c.detectedAt + 1)).toEqual([c.id]);
      expect(await inPeriod(c.detectedAt - 1, c.detectedAt)).toEqual([]);
      expect(await inPeriod(Math.min(a.detectedAt, b.detectedAt), c.detectedAt)).toEqual([a.id, b.id]);
    });

    it('sorts tickets by the nearest running deadline: overdue first, paused and stopped clocks last', async () => {
      const raise = async (assetId: string, over: Partial<NewTicket>) =>
        (await store.createTicket(newTicket({ assetId, ...over }), ev('raised'), WO_PREFIX)).ticket.id;
      const arriving = await raise('a', {});
      const paused = await raise('c', { arrival: { dueAt: T0 + 100_000 }, slaPausedAt: T0 });
      const repairing = await raise('b', {
        status: 'on_site',
        arrival: { dueAt: T0 + 300_000, at: T0 + 200_000, met: true },
        repair: { dueAt: T0 + 1_000_000 },
      });
      const noArrivalTarget = await raise('d', { arrival: {}, repair: { dueAt: T0 + 2_000_000 } });
      const repaired = await raise('e', {
        status: 'repaired',
        repair: { dueAt: T0 + 50_000, at: T0 + 40_000 },
      });
      const overdue = await raise('f', { arrival: { dueAt: T0 - 1_000 } });
      expect((await store.listTickets({ sort: 'deadline' })).map((t) => t.id)).toEqual([
        overdue,
        arriving,
        repairing,
        noArrivalTarget,
        repaired,
        paused,
      ]);
      expect((await store.listTickets({ sort: 'deadline', limit: 2, offset: 1 })).map((t) => t.id)).toEqual([
        arriving,
        repairing,
      ]);
    });

    it('keeps users with unique names and sessions that expire', async () => {
      const user = await store.createUser({
        username: 'wang',
        displayName: 'Wang Wei',
        role: 'maintainer',
        passwordHash: 'scrypt$x$y',
        createdAt: T0,
      });
      await expect(
        store.createUser({
          username: 'wang',
          displayName: 'x',
          role: 'staff',
          passwordHash: 'h',
          createdAt: T0,
        }),
      ).rejects.toMatchObject({ code: 'user_exists' });
      expect(await store.findUser('wang')).toMatchObject({ id: user.id, passwordHash: 'scrypt$x$y' });
      expect(await store.listUsers()).toEqual([user]);
      expect(await store.countUsers()).toBe(1);
      await store.createSession('hash1', user.id, T0 + 1000);
      expect(await store.findSessionUser('hash1', T0)).toEqual(user);
      expect(await store.findSessionUser('hash1', T0 + 1000)).toBeUndefined();
      await store.deleteSession('hash1');
      expect(await store.findSessionUser('hash1', T0)).toBeUndefined();
    });

    it('registers discovered assets once and confirms them', async () => {
      const seen = {
        site: 'east',
        id: 'leak-9',
        kind: 'plumbing',
        status: 'unconfirmed' as const,
        source: 'zigbee2mqtt',
        firstSeenAt: T0,
      };
      await store.addDiscoveredAsset(seen);
      await store.addDiscoveredAsset({ ...seen, kind: 'lock', firstSeenAt: T0 + 5 });
      expect(await store.listDiscoveredAssets()).toEqual([seen]);
      const confirmed = await store.confirmDiscoveredAsset('east', 'leak-9', {
        kind: 'plumbing',
        category: 'plumbing',
        name: 'Pantry leak',
        by: 'admin',
        at: T0 + 10,
      });
      expect(confirmed).toEqual({
        ...seen,
        status: 'confirmed',
        category: 'plumbing',
        name: 'Pantry leak',
        confirmedAt: T0 + 10,
        confirmedBy: 'admin',
      });
      await expect(
        store.confirmDiscoveredAsset('east', 'nope', { kind: 'x', category: 'x', by: 'a', at: T0 }),
      ).rejects.toMatchObject({ code: 'not_found' });
    });

    it('records dead letters newest first', async () => {
      for (const reason of ['schema', 'not_json']) {
        await store.addDeadLetter({
          at: T0,
          topic: 't',
          reason,
          detail: 'd',
          payloadBytes: 3,
          payloadHead: 'YWJj',
        });
      }
      expect(await store.countDeadLetters()).toBe(2);
      expect((await store.listDeadLetters({ limit: 10, offset: 0 })).map((d) => d.reason)).toEqual([
        'not_json',
        'schema',
      ]);
    });

    it('keeps the sites a user is scoped to, every site by default', async () => {
      const base = { displayName: 'x', role: 'maintainer' as const, passwordHash: 'h', createdAt: T0 };
      const all = await store.createUser({ ...base, username: 'any' });
      const north = await store.createUser({ ...base, username: 'wang', sites: ['north'] });
      expect(all.sites).toEqual([]);
      expect(north.sites).toEqual(['north']);
      expect(await store.findUser('wang')).toMatchObject({ sites: ['north'] });
      const moved = await store.updateUser('wang', { sites: ['north', 'east'], updatedAt: T0 + 1 });
      expect(moved.sites).toEqual(['north', 'east']);
      expect((await store.listUsers()).map((u) => u.sites)).toEqual([[], ['north', 'east']]);
    });

    it('keeps one open shift per user: starting another ends the open one', async () => {
      const first = await store.startShift(
        { username: 'wang', site: 'north', startedAt: T0, via: 'button' },
        T0,
      );
      expect(first).toEqual({
        shift: { id: first.shift.id, username: 'wang', site: 'north', startedAt: T0, via: 'button' },
      });
      await store.startShift({ username: 'li', site: 'north', startedAt: T0 + 1, via: 'qr' }, T0 + 1);
      const second = await store.startShift(
        { username: 'wang', site: 'east', startedAt: T0 + 60_000, via: 'qr' },
        T0 + 50_000,
      );
      expect(second.ended).toEqual({ ...first.shift, endedAt: T0 + 50_000 });
      expect((await store.listOpenShifts()).map((s) => [s.username, s.site])).toEqual([
        ['li', 'north'],
        ['wang', 'east'],
      ]);
      expect(await store.endShift('wang', T0 + 120_000)).toMatchObject({
        site: 'east',
        endedAt: T0 + 120_000,
      });
      expect(await store.endShift('wang', T0 + 130_000)).toBeUndefined();
      expect((await store.listOpenShifts()).map((s) => s.username)).toEqual(['li']);
    });

    it('keeps knowledge-base entries: list by category, fault and words; edit; delete', async () => {
      const entry = {
        category: 'lock',
        fault: 'offline',
        title: '门锁离线',
        hint: '智能门锁离线：先检查门锁处网线是否松动',
        body: '',
        createdBy: 'admin',
        createdAt: T0,
        updatedAt: T0,
      };
      const lock = await store.addKb(entry);
      expect(lock).toEqual({ id: lock.id, ...entry });
      const { ticket } = await store.createTicket(newTicket(), ev('raised'), WO_PREFIX);
      const wide = await store.addKb({
        ...entry,
        fault: undefined,
        title: '100% sure',
        hint: 'any lock',
        sourceTicketId: ticket.id,
      });
      expect(wide).not.toHaveProperty('fault');
      expect(wide.sourceTicketId).toBe(ticket.id);
      expect((await store.listKb({ category: 'lock' })).map((e) => e.id)).toEqual([lock.id, wide.id]);
      expect((await store.listKb({ category: 'lock', fault: 'offline' })).map((e) => e.id)).toEqual([
        lock.id,
      ]);
      expect((await store.listKb({ q: '网线' })).map((e) => e.id)).toEqual([lock.id]);
      // LIKE's wild cards are taken literally.
      expect((await store.listKb({ q: '0%' })).map((e) => e.id)).toEqual([wide.id]);
      expect((await store.listKb({ q: '_' })).map((e) => e.id)).toEqual([]);
      const edited = await store.updateKb(lock.id, { fault: null, hint: 'new', updatedAt: T0 + 5 });
      expect(edited).toEqual({ ...entry, id: lock.id, fault: undefined, hint: 'new', updatedAt: T0 + 5 });
      expect(await store.getKb(lock.id)).not.toHaveProperty('fault');
      await store.deleteKb(lock.id);
      expect(await store.getKb(lock.id)).toBeUndefined();
      await expect(store.deleteKb(lock.id)).rejects.toMatchObject({ code: 'not_found' });
      await expect(store.updateKb(lock.id, { hint: 'x', updatedAt: T0 })).rejects.toMatchObject({
        code: 'not_found',
      });
    });

    it('gives a setting its first value for good', async () => {
      expect(await store.settingOrInit('qr.signingKey', 'first')).toBe('first');
      expect(await store.settingOrInit('qr.signingKey', 'second')).toBe('first');
      expect(await store.settingOrInit('other', 'x')).toBe('x');
    });

    it.runIf(factory.reopen !== undefined)('keeps committed tickets when reopened', async () => {
      const { ticket } = await store.createTicket(newTicket(), ev('raised'), WO_PREFIX);
      await store.close();
      store = await (factory.reopen as () => Promise<Store>)();
      expect(await store.getTicket(ticket.id)).toEqual(ticket);
    });
  });
}
