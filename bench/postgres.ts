import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * A fresh PostgreSQL database per cluster run, on the server the tests use (`XIAOER_TEST_PG_URL`,
 * by default the local cluster's `postgres` role over loopback, which scripts/ensure-services.sh
 * sets up). The same few lines as test/helpers/postgres.ts, kept here so that the bench does not
 * depend on the tests' helpers for its store.
 */
export const BENCH_PG_URL = process.env.XIAOER_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface BenchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: BENCH_PG_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** An empty database `xiaoer_bench_<hex>` (from template0, which nobody is connected to). */
export async function createBenchDatabase(): Promise<BenchDatabase> {
  const name = `xiaoer_bench_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name} TEMPLATE template0`));
  const url = new URL(BENCH_PG_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: () => admin(async (c) => void (await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))),
  };
}

/** The server's version and the settings that decide what a commit costs. */
export async function postgresSettings(): Promise<string> {
  return admin(async (c) => {
    const { rows } = await c.query<{ v: string; sc: string; fs: string }>(
      `SELECT split_part(version(), ' ', 2) AS v, current_setting('synchronous_commit') AS sc, current_setting('fsync') AS fs`,
    );
    const r = rows[0];
    return r ? `PostgreSQL ${r.v} (synchronous_commit ${r.sc}, fsync ${r.fs})` : 'PostgreSQL';
  });
}
