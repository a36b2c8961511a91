import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { storeContract } from './store.contract.ts';

let dir = '';
const open = async () => {
  const store = new SqliteStore(path.join(dir, 'xiaoer.db'));
  await store.migrate();
  return store;
};

storeContract('sqlite', {
  async create() {
    dir = mkdtempSync(path.join(tmpdir(), 'xiaoer-store-'));
    return open();
  },
  reopen: open,
  async cleanup() {
    rmSync(dir, { recursive: true, force: true });
  },
});
