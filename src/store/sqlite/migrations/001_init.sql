-- Tickets: one row per work order; every change also appends a ticket_events row.
CREATE TABLE tickets (
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
  arrival_due_at INTEGER NOT NULL,
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
  -- site/asset/fault while the ticket is open, NULL once closed: the unique index makes
  -- "one open ticket per asset and fault" hold even if two writers race.
  open_key TEXT
);
CREATE UNIQUE INDEX tickets_open_key ON tickets (open_key);
CREATE INDEX tickets_status ON tickets (status);
CREATE INDEX tickets_site_category ON tickets (site, category);

CREATE TABLE ticket_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  ticket_id INTEGER NOT NULL REFERENCES tickets(id),
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  type TEXT NOT NULL,
  detail TEXT NOT NULL
);
CREATE INDEX ticket_events_ticket ON ticket_events (ticket_id, id);

CREATE TABLE users (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  username TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL,
  role TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id),
  expires_at INTEGER NOT NULL
);

CREATE TABLE dead_letters (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  site TEXT,
  topic TEXT NOT NULL,
  reason TEXT NOT NULL,
  detail TEXT NOT NULL,
  payload_bytes INTEGER NOT NULL,
  payload_head TEXT NOT NULL
);
