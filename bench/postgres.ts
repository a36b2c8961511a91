import { admin } from '../test/helpers/postgres.ts';

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
