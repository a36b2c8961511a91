-- Issue 8 (first week at a real site) and issue 9 (abuse test).
-- The migration runner turns foreign keys off around migrations and checks them afterwards, as
-- SQLite's "generalized ALTER TABLE procedure" requires for rebuilding a table.

-- A category may have no arrival target (a request nobody needs to be on site for): the arrival
-- deadline becomes nullable, which SQLite can only do by rebuilding the table. `trigger` keeps
-- the reading or event that raised the ticket and the rule's limit, as JSON.
CREATE TABLE tickets_new (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  site TEXT NOT NULL,
  asset_id TEXT NOT NULL,
  category TEXT NOT NULL,
  fault TEXT NOT NULL,
  severity TEXT NOT NULL,
  rule_id TEXT NOT NULL,
  status TEXT NOT NULL,
  alarm_active INTEGER NOT NULL,
  raised_at INTEGER NOT NULL,
  detected_at INTEGER NOT NULL,
  arrival_due_at INTEGER,
  arrival_at INTEGER,
  arrival_breached_at INTEGER,
  arrival_met INTEGER,
  repair_due_at INTEGER NOT NULL,
  repair_at INTEGER,
  repair_verified_at INTEGER,
  repair_breached_at INTEGER,
  repair_met INTEGER,
  assignee TEXT,
  parent_id INTEGER REFERENCES tickets(id),
  closed_at INTEGER,
  updated_at INTEGER NOT NULL,
  open_key TEXT,
  flapping INTEGER NOT NULL DEFAULT 0,
  alarm_changed_at INTEGER,
  verify_due_at INTEGER,
  reopen_count INTEGER NOT NULL DEFAULT 0,
  arrival_escalation INTEGER NOT NULL DEFAULT 0,
  repair_escalation INTEGER NOT NULL DEFAULT 0,
  sla_paused_at INTEGER,
  trigger TEXT
);
INSERT INTO tickets_new (
  id, site, asset_id, category, fault, severity, rule_id, status, alarm_active, raised_at, detected_at,
  arrival_due_at, arrival_at, arrival_breached_at, arrival_met, repair_due_at, repair_at,
  repair_verified_at, repair_breached_at, repair_met, assignee, parent_id, closed_at, updated_at,
  open_key, flapping, alarm_changed_at, verify_due_at, reopen_count, arrival_escalation,
  repair_escalation, sla_paused_at
)
SELECT
  id, site, asset_id, category, fault, severity, rule_id, status, alarm_active, raised_at, detected_at,
  arrival_due_at, arrival_at, arrival_breached_at, arrival_met, repair_due_at, repair_at,
  repair_verified_at, repair_breached_at, repair_met, assignee, parent_id, closed_at, updated_at,
  open_key, flapping, alarm_changed_at, verify_due_at, reopen_count, arrival_escalation,
  repair_escalation, sla_paused_at
FROM tickets;
DROP TABLE tickets;
ALTER TABLE tickets_new RENAME TO tickets;
CREATE UNIQUE INDEX tickets_open_key ON tickets (open_key);
CREATE INDEX tickets_status ON tickets (status);
CREATE INDEX tickets_site_category ON tickets (site, category);
CREATE INDEX tickets_parent ON tickets (parent_id);
CREATE INDEX tickets_recent_closed ON tickets (site, asset_id, fault, closed_at);
CREATE INDEX tickets_assignee ON tickets (assignee, status);

-- Site gateways as the embedded broker has seen them: one never seen is "not commissioned yet",
-- a warning rather than an outage.
CREATE TABLE gateways (
  site TEXT NOT NULL,
  username TEXT NOT NULL,
  first_connected_at INTEGER NOT NULL,
  last_connected_at INTEGER NOT NULL,
  last_disconnected_at INTEGER,
  PRIMARY KEY (site, username)
);

-- Users can be disabled (never deleted: tickets and the audit trail name them).
ALTER TABLE users ADD COLUMN disabled_at INTEGER;
ALTER TABLE users ADD COLUMN updated_at INTEGER;

-- Who changed what outside tickets (users, planned work, assets), for the admins.
CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  detail TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
