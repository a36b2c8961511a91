-- Assets seen on the wire that the config does not list: kept as unconfirmed until an admin
-- confirms them (with a kind and category), so their data is not lost meanwhile.
CREATE TABLE discovered_assets (
  site TEXT NOT NULL,
  id TEXT NOT NULL,
  kind TEXT NOT NULL,
  category TEXT,
  name TEXT,
  location TEXT,
  status TEXT NOT NULL,
  source TEXT NOT NULL,
  first_seen_at INTEGER NOT NULL,
  confirmed_at INTEGER,
  confirmed_by TEXT,
  PRIMARY KEY (site, id)
);
