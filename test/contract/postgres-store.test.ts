import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { PostgresStore, TICKET_LOG_CHANNEL } from '../../src/store/postgres/postgres-store.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { ev, newTicket, storeContract, T0, WO_PREFIX } from './store.contract.ts';
import { workOrderCallbackContract } from './work-orders-callbacks.contract.ts';

let db: TestDatabase | undefined;
const open = async () => {
  const store = new PostgresStore((db as TestDatabase).url, { poolSize: 4 });
  await store.migrate();
  return store;
};

const factory = {
  async create() {
    db = await createTestDatabase();
    return open();
  },
  reopen: open,
  async cleanup() {
    await db?.drop();
    db = undefined;
  },
};

storeContract('postgres', factory);
workOrderCallbackContract('postgres', factory);

/** What only a server shared by several processes adds: each store here is one process's pool. */
describe('PostgreSQL store across processes', () => {
  const stores: PostgresStore[] = [];
  const store = (poolSize = 4) => {
    const s = new PostgresStore((db as TestDatabase).url, { poolSize });
    stores.push(s);
    return s;
  };
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
    await factory.cleanup();
  });

  it('migrates a new database once when two instances start together', async () => {
    db = await createTestDatabase();
    const [a, b] = [store(), store()];
    await Promise.all([a.migrate(), b.migrate()]);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const applied = await client.query('SELECT version, name FROM schema_migrations ORDER BY version');
      expect(applied.rows).toEqual([{ version: 1, name: '001_init.sql' }]);
    } finally {
      await client.end();
    }
    // Both work on the schema.
    const { ticket } = await a.createTicket(newTicket(), ev('raised'), WO_PREFIX);
    expect(await b.getTicket(ticket.id)).toEqual(ticket);
  });

  it('gives one ticket and one ticket_exists when two instances raise the same fault at once', async () => {
    db = await createTestDatabase();
    const [a, b] = [store(), store()];
    await a.migrate();
    for (let round = 0; round < 10; round++) {
      const assetId = `pump-${round}`;
      const results = await Promise.allSettled(
        [a, b].map((s) => s.createTicket(newTicket({ assetId }), ev('raised'), WO_PREFIX)),
      );
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r) => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect((lost[0] as PromiseRejectedResult).reason).toMatchObject({ code: 'ticket_exists' });
      expect(await a.listTickets({ assetId })).toHaveLength(1);
    }
    // The refused tickets took no work-order number: 10 tickets, numbered 1 to 10.
    const numbers = (await b.listTickets({})).map((t) => t.workOrder).sort();
    expect(numbers).toEqual(
      Array.from({ length: 10 }, (_, i) => `${WO_PREFIX}-${String(i + 1).padStart(3, '0')}`),
    );
  });

  it('lets one of two racing changes from the same status apply, the other gets ticket_conflict', async () => {
    db = await createTestDatabase();
    const [a, b] = [store(), store()];
    await a.migrate();
    for (let round = 0; round < 10; round++) {
      const { ticket } = await a.createTicket(
        newTicket({ assetId: `door-${round}` }),
        ev('raised'),
        WO_PREFIX,
      );
      const results = await Promise.allSettled(
        [a, b].map((s, i) =>
          s.updateTicket(
            ticket.id,
            { status: 'dispatched', assignee: `m${i}`, updatedAt: T0 + 1 },
            ev('dispatched', T0 + 1),
            ['raised'],
          ),
        ),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(lost.reason).toMatchObject({ code: 'ticket_conflict' });
      expect((await b.listTicketEvents(ticket.id)).map((e) => e.type)).toEqual(['raised', 'dispatched']);
    }
  });

  it('makes event ids visible in id order: a reader paging by id misses none written by two pools', async () => {
    db = await createTestDatabase();
    const [a, b, reader] = [store(8), store(8), store(2)];
    await a.migrate();
    const tickets = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        a.createTicket(newTicket({ assetId: `m-${i}` }), ev('raised'), WO_PREFIX),
      ),
    );
    const seen: number[] = [];
    let position = 0;
    const readSome = async () => {
      const page = await reader.readTicketLog(position, 50);
      for (const entry of page) seen.push(entry.event.id);
      position = page.at(-1)?.event.id ?? position;
    };
    let writing = true;
    const follow = (async () => {
      while (writing) await readSome();
    })();
    const UPDATES = 200;
    await Promise.all(
      Array.from({ length: UPDATES }, (_, i) => {
        const s = i % 2 === 0 ? a : b;
        const { ticket } = tickets[i % tickets.length] as (typeof tickets)[number];
        return s.updateTicket(ticket.id, { reopenCount: i, updatedAt: T0 + i }, ev('reopened', T0 + i));
      }),
    );
    writing = false;
    await follow;
    await readSome();
    const total = tickets.length + UPDATES;
    expect(await reader.lastTicketEventId()).toBe(total);
    expect(seen).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  });

  it('announces each new event on the log channel with its id, once committed', async () => {
    db = await createTestDatabase();
    const s = store();
    await s.migrate();
    const listener = new pg.Client({ connectionString: db.url });
    await listener.connect();
    try {
      const heard: string[] = [];
      listener.on('notification', (n) => {
        if (n.channel === TICKET_LOG_CHANNEL && n.payload) heard.push(n.payload);
      });
      await listener.query(`LISTEN ${TICKET_LOG_CHANNEL}`);
      const { ticket, event } = await s.createTicket(newTicket(), ev('raised'), WO_PREFIX);
      const closed = await s.updateTicket(
        ticket.id,
        { status: 'closed', closedAt: T0, updatedAt: T0 },
        ev('closed'),
      );
      // A refused change announces nothing.
      await expect(
        s.updateTicket(ticket.id, { status: 'on_site', updatedAt: T0 }, ev('arrived'), ['raised']),
      ).rejects.toMatchObject({ code: 'ticket_conflict' });
      const called = await s.recordCallback(
        { ticketId: ticket.id, reached: true, score: 5, recordedBy: 'desk', recordedAt: T0 },
        ev('callback_recorded'),
      );
      const expected = [event.id, closed.event.id, called.event.id].map(String);
      const deadline = Date.now() + 5_000;
      while (heard.length < expected.length && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      expect(heard).toEqual(expected);
    } finally {
      await listener.end();
    }
  });
});
