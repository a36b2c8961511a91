-- Issue 10: the ticket event log is the spine every consumer reads.
-- Each event keeps the ticket as it was right after the change, so a consumer reading the log
-- later (after a crash, or a webhook endpoint back after an hour) sends what happened then.
ALTER TABLE ticket_events ADD COLUMN ticket TEXT;
-- Where each durable consumer (MQTT-out, each webhook) has got to in the log: the last event id
-- it has handled. Saved after each event, so a crash repeats at most one (at least once).
CREATE TABLE consumer_positions (
  consumer TEXT PRIMARY KEY,
  position INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
