import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TicketEventType } from '../../src/domain/types.ts';
import type { NewTicket, Store } from '../../src/store/store.ts';

const T0 = Date.parse('2026-11-26T09:00:00Z');

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

const ev = (type: TicketEventType, at = T0) => ({
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
      const { ticket, event } = await store.createTicket(newTicket(), ev('raised'));
      expect(ticket).toEqual({ id: ticket.id, ...newTicket() });
      expect(event).toMatchObject({ ticketId: ticket.id, type: 'raised', detail: { nested: { ok: true } } });
      expect(await store.getTicket(ticket.id)).toEqual(ticket);
      expect(await store.listTicketEvents(ticket.id)).toEqual([event]);
    });

    it('keeps one open ticket per site, asset and fault', async () => {
      const { ticket } = await store.createTicket(newTicket(), ev('raised'));
      await expect(store.createTicket(newTicket(), ev('raised'))).rejects.toMatchObject({
        code: 'ticket_exists',
      });
      expect(
        await store.findOpenTicket({ site: 'xincheng', assetId: 'leak-b1-riser', fault: 'leak' }),
      ).toEqual(ticket);
      // Other site, asset or fault: separate tickets.
      await store.createTicket(newTicket({ site: 'north' }), ev('raised'));
      await store.createTicket(newTicket({ fault: 'offline' }), ev('raised'));
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
      await store.createTicket(newTicket(), ev('raised'));
    });

    it('applies an update only from an expected status, and appends its event', async () => {
      const { ticket } = await store.createTicket(newTicket(), ev('raised'));
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
      const { ticket } = await store.createTicket(newTicket(), ev('raised'));
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
      const a = (await store.createTicket(newTicket(), ev('raised'))).ticket;
      const b = (
        await store.createTicket(
          newTicket({ site: 'north', category: 'lock', assetId: 'lock-1', fault: 'offline' }),
          ev('raised'),
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

    it.runIf(factory.reopen !== undefined)('keeps committed tickets when reopened', async () => {
      const { ticket } = await store.createTicket(newTicket(), ev('raised'));
      await store.close();
      store = await (factory.reopen as () => Promise<Store>)();
      expect(await store.getTicket(ticket.id)).toEqual(ticket);
    });
  });
}
