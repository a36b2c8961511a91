import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Directory } from '../../../src/config/directory.ts';
import { EventBus } from '../../../src/core/event-bus.ts';
import { systemScheduler } from '../../../src/core/scheduler.ts';
import { SqliteStore } from '../../../src/store/sqlite/sqlite-store.ts';
import { TicketService } from '../../../src/tickets/ticket-service.ts';
import { exampleConfig, raisedLeak, silentLog } from '../../helpers/domain.ts';

const T0 = Date.parse('2026-12-01T09:00:00Z');

/** Ticket writes of one turn of the event loop share one COMMIT, and each settles after it. */
describe('SQLite group commit', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'xiaoer-group-'));
    file = path.join(dir, 'db.sqlite');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function open() {
    const store = new SqliteStore(file, { groupCommit: true });
    await store.migrate();
    const tickets = new TicketService({
      store,
      directory: new Directory(exampleConfig()),
      clock: systemScheduler,
      bus: new EventBus(),
      log: silentLog,
    });
    return { store, tickets };
  }

  /** Tickets as another connection sees them: only what is committed. */
  const committed = () => {
    const db = new Database(file, { readonly: true });
    try {
      return (db.prepare('SELECT count(*) AS n FROM tickets').get() as { n: number }).n;
    } finally {
      db.close();
    }
  };

  it('commits the writes of one turn together, and settles none of them before the COMMIT', async () => {
    const { store, tickets } = await open();
    let settled = 0;
    const raised = ['xincheng', 'north', 'east'].map((site) =>
      tickets.applyAlarm(raisedLeak({ site, raisedAt: T0 })).then(() => settled++),
    );
    // Each raise awaits its look-ups first: let the writes happen, within this turn.
    for (let i = 0; i < 20; i++) await Promise.resolve();
    expect(settled).toBe(0);
    expect(committed()).toBe(0);
    await Promise.all(raised);
    expect(committed()).toBe(3);
    await store.close();
  });

  it('rejects a write that fails (a guard no longer holds) without undoing the others of its group', async () => {
    const { store, tickets } = await open();
    await tickets.applyAlarm(raisedLeak({ raisedAt: T0 }));
    const [ticket] = await store.listTickets({});
    const id = ticket?.id ?? 0;
    const event = { at: T0 + 1000, actor: 'test', type: 'dispatched' as const, detail: {} };
    const results = await Promise.allSettled([
      store.updateTicket(id, { assignee: 'wang', updatedAt: T0 + 1000 }, event),
      store.updateTicket(id, { assignee: 'li', updatedAt: T0 + 1000 }, event, ['closed']),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
    expect(new Database(file, { readonly: true }).prepare('SELECT assignee FROM tickets').get()).toEqual({
      assignee: 'wang',
    });
    await store.close();
  });

  it('commits what is pending when the store closes', async () => {
    const { store, tickets } = await open();
    const raising = tickets.applyAlarm(raisedLeak({ raisedAt: T0 }));
    for (let i = 0; i < 20; i++) await Promise.resolve();
    await store.close();
    await raising;
    expect(committed()).toBe(1);
  });
});
