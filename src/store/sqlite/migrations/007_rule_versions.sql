-- Issue 11: alert rules change at runtime, by version. Each version holds the whole rule as an
-- admin sees it (the rule and its site and asset overrides), or NULL once it was removed.
-- `state`: applied (in force, or was), pending (waits for a second admin), rejected.
-- `source_hash`: for versions seeded from the YAML, the hash of what the YAML said, so that a
-- changed YAML at the next start becomes a new version and an unchanged one does not.
CREATE TABLE rule_versions (
  rule_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('applied', 'pending', 'rejected')),
  document TEXT,
  base_version INTEGER,
  author TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  comment TEXT NOT NULL,
  diff TEXT NOT NULL,
  assets_affected INTEGER NOT NULL DEFAULT 0,
  source_hash TEXT,
  restored_from INTEGER,
  decided_by TEXT,
  decided_at INTEGER,
  decision_comment TEXT,
  PRIMARY KEY (rule_id, version)
);

-- How a ticket was closed (real_fault, no_fault_found, sensor_fault, duplicate): the noise score.
ALTER TABLE tickets ADD COLUMN resolution TEXT;
CREATE INDEX tickets_rule_closed ON tickets (rule_id, closed_at) WHERE status = 'closed';
