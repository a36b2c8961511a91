import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * The PostgreSQL server the tests use: `XIAOER_TEST_PG_URL`, by default the local cluster's
 * `postgres` role over TCP (scripts/ensure-services.sh makes sure it runs and lets it in). The
 * URL names a database to connect to for CREATE and DROP DATABASE; each test gets its own.
 */
export const TEST_PG_URL = process.env.XIAOER_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  name: string;
  /** The server's URL with this database in it. */
  url: string;
  /** Drops it, ending whatever sessions are still connected (WITH (FORCE)). */
  drop(): Promise<void>;
}

/** Runs `work` on a connection to the server's maintenance database (CREATE, DROP, settings). */
export async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_PG_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * A new, empty database with a random name (`<prefix>_<hex>`), so suites on the same server
 * (another `npm test` included) never meet. From template0: nobody is ever connected to it,
 * whereas a session on template1 would make CREATE DATABASE fail.
 */
export async function createTestDatabase(prefix = 'xiaoer_test'): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(8).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name} TEMPLATE template0`));
  const url = new URL(TEST_PG_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: () => admin(async (c) => void (await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))),
  };
}
