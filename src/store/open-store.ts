import path from 'node:path';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../core/logger.ts';
import { PostgresStore } from './postgres/postgres-store.ts';
import { SqliteStore } from './sqlite/sqlite-store.ts';
import type { Store } from './store.ts';

/** Where the store of this config is, for messages: the PostgreSQL URL without its password, or the file. */
export function storeLocation(config: Config): string {
  return config.database.url
    ? config.database.url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@')
    : sqliteFile(config);
}

export function sqliteFile(config: Config): string {
  return path.join(config.dataDir, 'xiaoer.db');
}

/**
 * The store a config names: PostgreSQL with `database.url` (several instances share it), else
 * SQLite in `dataDir`. The server, `npm run admin` and `npm run report` all open it here.
 */
export function openStore(config: Config, opts: { groupCommit?: boolean; log?: Logger } = {}): Store {
  const { database } = config;
  if (database.url)
    return new PostgresStore(database.url, {
      poolSize: database.poolSize,
      ...(opts.log ? { log: opts.log } : {}),
    });
  return new SqliteStore(sqliteFile(config), {
    synchronous: config.store.synchronous,
    ...(opts.groupCommit ? { groupCommit: true } : {}),
  });
}
