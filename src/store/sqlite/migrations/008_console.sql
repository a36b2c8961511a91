-- Issue 12 (the web console): users scoped to sites, shifts, the knowledge base, settings.

-- The sites a user sees and works at, as a JSON array of site ids; '[]' means every site.
ALTER TABLE users ADD COLUMN sites TEXT NOT NULL DEFAULT '[]';

-- A maintainer's shift at a site: open while ended_at is NULL. The partial unique index keeps one
-- open shift per user even if two check-ins race.
CREATE TABLE shifts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  username TEXT NOT NULL,
  site TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  ended_at INTEGER,
  via TEXT NOT NULL CHECK (via IN ('button', 'qr'))
);
CREATE UNIQUE INDEX shifts_one_open_per_user ON shifts (username) WHERE ended_at IS NULL;
CREATE INDEX shifts_open_site ON shifts (site) WHERE ended_at IS NULL;

-- What to check first for a fault: per category and fault code, or for a whole category (fault NULL).
CREATE TABLE kb_entries (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  category TEXT NOT NULL,
  fault TEXT,
  title TEXT NOT NULL,
  hint TEXT NOT NULL,
  body TEXT NOT NULL DEFAULT '',
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  source_ticket_id INTEGER REFERENCES tickets(id)
);
CREATE INDEX kb_entries_category_fault ON kb_entries (category, fault);

-- Values xiaoer makes once and keeps (the QR signing key), by name.
CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
