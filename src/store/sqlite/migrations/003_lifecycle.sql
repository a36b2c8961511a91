-- Issue 4: verification by the sensor, reopening, flapping, escalation, maintenance windows.
ALTER TABLE tickets ADD COLUMN flapping INTEGER NOT NULL DEFAULT 0;
-- When the alarm last changed state (raised or cleared): verification counts from its clearing.
ALTER TABLE tickets ADD COLUMN alarm_changed_at INTEGER;
-- A reported repair is confirmed at this instant if the alarm stays clear until then.
ALTER TABLE tickets ADD COLUMN verify_due_at INTEGER;
ALTER TABLE tickets ADD COLUMN reopen_count INTEGER NOT NULL DEFAULT 0;
-- 0 none, 1 near the deadline, 2 breached: each level is notified once.
ALTER TABLE tickets ADD COLUMN arrival_escalation INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN repair_escalation INTEGER NOT NULL DEFAULT 0;
-- Set while a maintenance window pauses the SLA clocks.
ALTER TABLE tickets ADD COLUMN sla_paused_at INTEGER;
CREATE INDEX tickets_parent ON tickets (parent_id);
CREATE INDEX tickets_recent_closed ON tickets (site, asset_id, fault, closed_at);

CREATE TABLE maintenance_windows (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  site TEXT NOT NULL,
  -- NULL: the whole site.
  asset_id TEXT,
  starts_at INTEGER NOT NULL,
  ends_at INTEGER NOT NULL,
  reason TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  cancelled_at INTEGER,
  cancelled_by TEXT
);
CREATE INDEX maintenance_windows_ends ON maintenance_windows (ends_at);
