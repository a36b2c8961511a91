import type pg from 'pg';
import { conflict, notFound } from '../../core/errors.ts';
import {
  type NoiseCountRow,
  noiseByRule,
  type RuleVersionRow,
  rowToRuleVersion,
  ruleVersionValues,
} from '../rows.ts';
import type { NewRuleVersion, RuleDecision, RuleNoiseRow, RuleVersion } from '../store.ts';
import { type Db, inTransaction, one, rows } from './pg-client.ts';

/** The rule-version queries of the PostgreSQL store (kept apart: postgres-store.ts is about tickets). */
export class PostgresRuleVersions {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  /**
   * The next version number of the rule, in the same transaction as the insert. The table lock
   * (it lets readers through, not other writers) makes two admins or two instances adding a
   * version at once number them one after the other rather than fail on the primary key; rule
   * changes are rare.
   */
  async add(v: NewRuleVersion): Promise<RuleVersion> {
    return inTransaction(this.#pool, async (client) => {
      await client.query('LOCK TABLE rule_versions IN SHARE ROW EXCLUSIVE MODE');
      const { next } = (await one<{ next: number }>(
        client,
        'SELECT COALESCE(MAX(version), 0) + 1 AS next FROM rule_versions WHERE rule_id = $1',
        [v.ruleId],
      )) as { next: number };
      const row = (await one<RuleVersionRow>(
        client,
        `INSERT INTO rule_versions (rule_id, version, state, document, base_version, author, created_at,
           comment, diff, assets_affected, source_hash, restored_from)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING *`,
        ruleVersionValues(v, next),
      )) as RuleVersionRow;
      return rowToRuleVersion(row);
    });
  }

  async list(ruleId?: string): Promise<RuleVersion[]> {
    const result =
      ruleId === undefined
        ? await rows<RuleVersionRow>(this.#pool, 'SELECT * FROM rule_versions ORDER BY rule_id, version')
        : await rows<RuleVersionRow>(
            this.#pool,
            'SELECT * FROM rule_versions WHERE rule_id = $1 ORDER BY version',
            [ruleId],
          );
    return result.map(rowToRuleVersion);
  }

  /** Approves or rejects a pending version (a guarded UPDATE); anything else is a conflict. */
  async decide(ruleId: string, version: number, d: RuleDecision): Promise<RuleVersion> {
    const decided = await one<RuleVersionRow>(
      this.#pool,
      `UPDATE rule_versions SET state = $3, decided_by = $4, decided_at = $5, decision_comment = $6
       WHERE rule_id = $1 AND version = $2 AND state = 'pending' RETURNING *`,
      [ruleId, version, d.state, d.by, d.at, d.comment ?? null],
    );
    if (decided) return rowToRuleVersion(decided);
    const current = await this.#get(this.#pool, ruleId, version);
    if (!current) throw notFound(`version of rule "${ruleId}"`, version);
    throw conflict(
      'rule_version_decided',
      `version ${version} of rule "${ruleId}" is ${current.state}, not pending`,
    );
  }

  /** Closed tickets per rule since `since`, by resolution: what the noise score is made of. */
  async noise(since: number): Promise<RuleNoiseRow[]> {
    const result = await rows<NoiseCountRow>(
      this.#pool,
      `SELECT rule_id, resolution, COUNT(*) AS n FROM tickets
       WHERE status = 'closed' AND closed_at >= $1 AND resolution IS NOT NULL AND rule_id <> 'manual'
       GROUP BY rule_id, resolution ORDER BY rule_id, resolution`,
      [since],
    );
    return noiseByRule(result);
  }

  async #get(db: Db, ruleId: string, version: number): Promise<RuleVersion | undefined> {
    const row = await one<RuleVersionRow>(
      db,
      'SELECT * FROM rule_versions WHERE rule_id = $1 AND version = $2',
      [ruleId, version],
    );
    return row ? rowToRuleVersion(row) : undefined;
  }
}
