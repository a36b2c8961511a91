import type Database from 'better-sqlite3';
import { conflict, notFound } from '../../core/errors.ts';
import {
  type NoiseCountRow,
  noiseByRule,
  type RuleVersionRow,
  rowToRuleVersion as rowToVersion,
  ruleVersionValues,
} from '../rows.ts';
import type { NewRuleVersion, RuleDecision, RuleNoiseRow, RuleVersion } from '../store.ts';

/** The rule-version queries of the SQLite store (kept apart: sqlite-store.ts is about tickets). */
export class SqliteRuleVersions {
  readonly #db: Database.Database;

  constructor(db: Database.Database) {
    this.#db = db;
  }

  /** The next version number of the rule, in the same transaction as the insert. */
  add(v: NewRuleVersion): RuleVersion {
    return this.#db.transaction(() => {
      const { next } = this.#db
        .prepare('SELECT COALESCE(MAX(version), 0) + 1 AS next FROM rule_versions WHERE rule_id = ?')
        .get(v.ruleId) as { next: number };
      this.#db
        .prepare(
          `INSERT INTO rule_versions (rule_id, version, state, document, base_version, author, created_at,
             comment, diff, assets_affected, source_hash, restored_from)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(...ruleVersionValues(v, next));
      return this.#get(v.ruleId, next) as RuleVersion;
    })();
  }

  list(ruleId?: string): RuleVersion[] {
    const rows = (
      ruleId === undefined
        ? this.#db.prepare('SELECT * FROM rule_versions ORDER BY rule_id, version').all()
        : this.#db.prepare('SELECT * FROM rule_versions WHERE rule_id = ? ORDER BY version').all(ruleId)
    ) as RuleVersionRow[];
    return rows.map(rowToVersion);
  }

  /** Approves or rejects a pending version; anything else is a conflict (decided already). */
  decide(ruleId: string, version: number, d: RuleDecision): RuleVersion {
    return this.#db.transaction(() => {
      const current = this.#get(ruleId, version);
      if (!current) throw notFound(`version of rule "${ruleId}"`, version);
      if (current.state !== 'pending') {
        throw conflict(
          'rule_version_decided',
          `version ${version} of rule "${ruleId}" is ${current.state}, not pending`,
        );
      }
      this.#db
        .prepare(
          `UPDATE rule_versions SET state = ?, decided_by = ?, decided_at = ?, decision_comment = ?
           WHERE rule_id = ? AND version = ?`,
        )
        .run(d.state, d.by, d.at, d.comment ?? null, ruleId, version);
      return this.#get(ruleId, version) as RuleVersion;
    })();
  }

  /** Closed tickets per rule since `since`, by resolution: what the noise score is made of. */
  noise(since: number): RuleNoiseRow[] {
    const rows = this.#db
      .prepare(
        `SELECT rule_id, resolution, COUNT(*) AS n FROM tickets
         WHERE status = 'closed' AND closed_at >= ? AND resolution IS NOT NULL AND rule_id <> 'manual'
         GROUP BY rule_id, resolution`,
      )
      .all(since) as NoiseCountRow[];
    return noiseByRule(rows);
  }

  #get(ruleId: string, version: number): RuleVersion | undefined {
    const row = this.#db
      .prepare('SELECT * FROM rule_versions WHERE rule_id = ? AND version = ?')
      .get(ruleId, version) as RuleVersionRow | undefined;
    return row ? rowToVersion(row) : undefined;
  }
}
