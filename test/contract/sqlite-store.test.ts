import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { ev, newTicket, storeContract } from './store.contract.ts';
import { workOrderCallbackContract } from './work-orders-callbacks.contract.ts';

let dir = '';
const open = async () => {
  const store = new SqliteStore(path.join(dir, 'xiaoer.db'));
  await store.migrate();
  return store;
};

const factory = {
  async create() {
    dir = mkdtempSync(path.join(tmpdir(), 'xiaoer-store-'));
    return open();
  },
  reopen: open,
  async cleanup() {
    rmSync(dir, { recursive: true, force: true });
  },
};

storeContract('sqlite', factory);
workOrderCallbackContract('sqlite', factory);

describe('SQLite migration 009', () => {
  afterEach(() => factory.cleanup());

  /** Takes the database back to what migration 008 left (the tickets stay). */
  function downgradeTo008(file: string): void {
    const db = new Database(file);
    db.exec(`
      DROP INDEX tickets_work_order; DROP INDEX tickets_closed_at; DROP INDEX tickets_detected_at;
      ALTER TABLE tickets DROP COLUMN work_order;
      DROP TABLE work_order_days; DROP TABLE callbacks;
      DELETE FROM settings WHERE key = 'callbacks.dueAfter';
      DELETE FROM schema_migrations WHERE version = 9;
    `);
    db.close();
  }

  it('numbers the tickets it finds in id order, by the default code and the day in UTC+8', async () => {
    const store = await factory.create();
    const at = (iso: string, site: string, assetId: string) =>
      newTicket({ site, assetId, detectedAt: Date.parse(iso) });
    for (const t of [
      at('2026-12-01T15:59:00Z', 'xincheng', 'a'), // 23:59 in Shanghai
      at('2026-12-01T16:00:00Z', 'xincheng', 'b'), // 00:00 the next day
      at('2026-12-01T15:59:00Z', 'north', 'a'),
      at('2026-12-01T01:00:00Z', 'xincheng', 'c'), // detected earlier, created later
    ])
      await store.createTicket(t, ev('raised'), 'ZZ-19700101');
    await store.close();
    downgradeTo008(path.join(dir, 'xiaoer.db'));

    const migrated = await open();
    expect((await migrated.listTickets({})).map((t) => t.workOrder).reverse()).toEqual([
      'XI-20261201-001',
      'XI-20261202-001',
      'NO-20261201-001',
      'XI-20261201-002',
    ]);
    // New tickets go on from the numbers given.
    const next = await migrated.createTicket(newTicket({ assetId: 'd' }), ev('raised'), 'XI-20261201');
    expect(next.ticket.workOrder).toBe('XI-20261201-003');
    await migrated.close();
  });

  it('puts no ticket closed before the upgrade on the call-back list, only those closed after it', async () => {
    const store = await factory.create();
    const T = Date.parse('2026-12-01T02:00:00Z');
    const close = async (s: SqliteStore, id: number, at: number) =>
      s.updateTicket(id, { status: 'closed', closedAt: at, updatedAt: at }, ev('closed', at));
    const old = await store.createTicket(
      newTicket({ assetId: 'a', detectedAt: T }),
      ev('raised'),
      'ZZ-19700101',
    );
    await close(store, old.ticket.id, T + 3_600_000);
    await store.close();
    downgradeTo008(path.join(dir, 'xiaoer.db'));

    const migrated = await open();
    expect(await migrated.listCallbacks({ due: true })).toEqual([]);
    const fresh = await migrated.createTicket(
      newTicket({ assetId: 'b', detectedAt: T }),
      ev('raised'),
      'XI-20261201',
    );
    await close(migrated, fresh.ticket.id, T + 7_200_000);
    expect((await migrated.listCallbacks({ due: true })).map((e) => e.ticket.id)).toEqual([fresh.ticket.id]);
    // The old ticket can still be called back by hand; it is only not listed as due.
    await migrated.close();
  });
});
