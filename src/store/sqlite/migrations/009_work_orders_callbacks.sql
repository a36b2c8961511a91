-- Issue 13: work-order numbers people can say on the phone, and satisfaction call-backs.

-- `<site code>-<YYYYMMDD>-<nnn>`, e.g. XC-20261201-007: the site's code, the day the fault was
-- detected (in the reports' time zone) and its place among that site's tickets of that day. Given
-- in the ticket's own INSERT transaction and never changed.
ALTER TABLE tickets ADD COLUMN work_order TEXT;
CREATE UNIQUE INDEX tickets_work_order ON tickets (work_order);

-- The last number given per site code and day (`XC-20261201`); it moves in the transaction that
-- inserts the ticket, so two tickets never get the same number and a refused ticket takes none.
CREATE TABLE work_order_days (
  prefix TEXT PRIMARY KEY,
  last_seq INTEGER NOT NULL
);

-- Tickets from before this migration, in id order. SQL cannot read the config, so they get the
-- default site code (the id's first two letters, upper-cased) and the day in China Standard Time
-- (UTC+8, the default time zone Asia/Shanghai, which has no daylight saving).
CREATE TEMP TABLE work_order_backfill AS
  SELECT id, prefix, ROW_NUMBER() OVER (PARTITION BY prefix ORDER BY id) AS seq
  FROM (
    SELECT id,
      upper(substr(site, 1, 2)) || '-' || strftime('%Y%m%d', detected_at / 1000, 'unixepoch', '+8 hours') AS prefix
    FROM tickets
  );
UPDATE tickets SET work_order = (
  SELECT b.prefix || '-' || printf('%03d', b.seq) FROM work_order_backfill b WHERE b.id = tickets.id
);
INSERT INTO work_order_days (prefix, last_seq) SELECT prefix, MAX(seq) FROM work_order_backfill GROUP BY prefix;
DROP TABLE work_order_backfill;

-- The desk's call to the reporter after a ticket closed: one per ticket. Nobody reached: no score.
CREATE TABLE callbacks (
  ticket_id INTEGER PRIMARY KEY REFERENCES tickets(id),
  reached INTEGER NOT NULL CHECK (reached IN (0, 1)),
  score INTEGER CHECK (score BETWEEN 1 AND 5),
  remark TEXT,
  recorded_by TEXT NOT NULL,
  recorded_at INTEGER NOT NULL,
  CHECK ((reached = 1) = (score IS NOT NULL))
);
CREATE INDEX callbacks_recorded_at ON callbacks (recorded_at);
CREATE INDEX tickets_closed_at ON tickets (closed_at) WHERE status = 'closed';
-- The reports read a period's tickets by when they were detected.
CREATE INDEX tickets_detected_at ON tickets (detected_at);

-- Tickets closed before call-backs existed were never going to be called back: without this
-- mark, an upgrade would put every one of them on the desk's list as overdue. The due list
-- starts after the last ticket closed before this migration (0 on a new database).
INSERT INTO settings (key, value)
  SELECT 'callbacks.dueAfter', CAST(COALESCE(MAX(closed_at), -1) AS TEXT) FROM tickets WHERE status = 'closed';
