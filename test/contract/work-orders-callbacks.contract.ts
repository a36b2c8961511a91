import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Callback } from '../../src/domain/types.ts';
import type { Store } from '../../src/store/store.ts';
import { ev, newTicket, type StoreFactory, T0, WO_PREFIX } from './store.contract.ts';

const HOUR = 3_600_000;

/** Work-order numbers and satisfaction call-backs (issue 13): what every Store backend must do. */
export function workOrderCallbackContract(driver: string, factory: StoreFactory): void {
  describe(`Store contract, work orders and call-backs: ${driver}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await factory.create();
    });
    afterEach(async () => {
      await store.close();
      await factory.cleanup?.();
    });

    const raise = async (assetId: string, prefix = WO_PREFIX, site = 'xincheng') =>
      (await store.createTicket(newTicket({ assetId, site }), ev('raised'), prefix)).ticket;
    const close = async (id: number, at: number) =>
      (await store.updateTicket(id, { status: 'closed', closedAt: at, updatedAt: at }, ev('closed', at)))
        .ticket;
    const callback = (ticketId: number, over: Partial<Callback> = {}): Callback => ({
      ticketId,
      reached: true,
      score: 4,
      remark: '师傅很快',
      recordedBy: 'desk',
      recordedAt: T0 + 5 * HOUR,
      ...over,
    });

    it('numbers tickets per prefix in order; a refused ticket takes no number', async () => {
      const a = await raise('a');
      const b = await raise('b');
      const other = await raise('a', 'NO-20261126', 'north');
      await expect(raise('a')).rejects.toMatchObject({ code: 'ticket_exists' });
      const c = await raise('c');
      expect([a, b, c, other].map((t) => t.workOrder)).toEqual([
        'XC-20261126-001',
        'XC-20261126-002',
        'XC-20261126-003',
        'NO-20261126-001',
      ]);
      expect(await store.getTicket(a.id)).toEqual(a);
    });

    it('numbers tickets created at the same moment apart', async () => {
      const made = await Promise.all(['a', 'b', 'c', 'd'].map((id) => raise(id)));
      expect(new Set(made.map((t) => t.workOrder)).size).toBe(4);
    });

    it('keeps the number through changes and in the log snapshots', async () => {
      const a = await raise('a');
      const closed = await close(a.id, T0 + HOUR);
      expect(closed.workOrder).toBe(a.workOrder);
      const log = await store.readTicketLog(0, 10);
      expect(log.map((e) => e.ticket.workOrder)).toEqual([a.workOrder, a.workOrder]);
    });

    it('finds tickets by part of the number, in any case, dashes optional, or by id', async () => {
      const a = await raise('a');
      const b = await raise('b');
      const north = await raise('a', 'NO-20261126', 'north');
      const ids = async (q: string) => (await store.listTickets({ q })).map((t) => t.id);
      expect(await ids('XC-20261126-002')).toEqual([b.id]);
      expect(await ids('xc20261126')).toEqual([b.id, a.id]);
      expect(await ids('20261126-001')).toEqual([north.id, a.id]);
      expect(await ids('%')).toEqual([]);
      expect(await ids(String(north.id))).toContain(north.id);
      expect((await store.listTickets({ q: '20261126', sites: ['north'] })).map((t) => t.id)).toEqual([
        north.id,
      ]);
    });

    it('records one call-back per closed ticket, with its event in the log', async () => {
      const open = await raise('a');
      await expect(store.recordCallback(callback(open.id), ev('callback_recorded'))).rejects.toMatchObject({
        code: 'ticket_not_closed',
        httpStatus: 409,
      });
      await expect(store.recordCallback(callback(9999), ev('callback_recorded'))).rejects.toMatchObject({
        code: 'not_found',
      });
      const closed = await close(open.id, T0 + HOUR);
      const { ticket, event } = await store.recordCallback(callback(open.id), ev('callback_recorded'));
      expect(ticket).toEqual(closed);
      expect(event).toMatchObject({ ticketId: open.id, type: 'callback_recorded' });
      expect((await store.readTicketLog(0, 10)).at(-1)).toEqual({ event, ticket: closed });
      await expect(
        store.recordCallback(callback(open.id, { score: 1 }), ev('callback_recorded')),
      ).rejects.toMatchObject({ code: 'callback_exists', httpStatus: 409 });
      expect(await store.satisfaction([open.id, 9999])).toEqual([callback(open.id)]);
    });

    it('keeps a call-back nobody answered without a score', async () => {
      const a = await raise('a');
      await close(a.id, T0 + HOUR);
      const unanswered = callback(a.id, { reached: false, score: undefined, remark: undefined });
      await store.recordCallback(unanswered, ev('callback_recorded'));
      expect(await store.satisfaction([a.id])).toEqual([
        { ticketId: a.id, reached: false, recordedBy: 'desk', recordedAt: T0 + 5 * HOUR },
      ]);
    });

    it('lists due call-backs oldest closed first, and recorded ones newest first', async () => {
      const a = await raise('a');
      const b = await raise('b');
      const c = await raise('c', 'NO-20261126', 'north');
      const open = await raise('d');
      const outage = await raise('gw');
      const child = (
        await store.updateTicket((await raise('e')).id, { parentId: outage.id, updatedAt: T0 }, ev('linked'))
      ).ticket;
      await close(b.id, T0 + HOUR);
      await close(a.id, T0 + 2 * HOUR);
      await close(c.id, T0 + 3 * HOUR);
      await close(child.id, T0 + 3 * HOUR);
      const due = async (filter = {}) =>
        (await store.listCallbacks({ due: true, ...filter })).map((e) => e.ticket.id);
      expect(await due()).toEqual([b.id, a.id, c.id]);
      expect(await due({ sites: ['north'] })).toEqual([c.id]);
      expect(await due({ site: 'xincheng' })).toEqual([b.id, a.id]);
      expect(await due({ from: T0 + 2 * HOUR, to: T0 + 3 * HOUR })).toEqual([a.id]);
      expect(await due({ limit: 1 })).toEqual([b.id]);
      expect(open.status).toBe('raised');

      await store.recordCallback(callback(b.id, { recordedAt: T0 + 4 * HOUR }), ev('callback_recorded'));
      await store.recordCallback(callback(c.id, { recordedAt: T0 + 5 * HOUR }), ev('callback_recorded'));
      expect(await due()).toEqual([a.id]);
      const recorded = await store.listCallbacks({});
      expect(recorded.map((e) => [e.ticket.id, e.callback?.recordedAt])).toEqual([
        [c.id, T0 + 5 * HOUR],
        [b.id, T0 + 4 * HOUR],
      ]);
      expect(recorded[1]?.callback).toEqual(callback(b.id, { recordedAt: T0 + 4 * HOUR }));
    });
  });
}
