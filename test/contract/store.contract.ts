import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TicketEventType } from '../../src/domain/types.ts';
import type { NewTicket, Store } from '../../src/store/store.ts';

export const T0 = Date.parse('2026-11-26T09:00:00Z');

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
