-- Issue 10: what a fault means is declared by its rule kind, not read from its name; the ticket
-- keeps it, so correlation finds a site's "not heard from" tickets whatever their faults are called.
ALTER TABLE tickets ADD COLUMN meaning TEXT NOT NULL DEFAULT 'condition';
UPDATE tickets SET meaning = 'availability' WHERE fault IN ('offline', 'no_data');
UPDATE tickets SET meaning = 'outage' WHERE fault IN ('gateway_offline', 'mass_offline');
UPDATE tickets SET meaning = 'reported' WHERE rule_id = 'manual';
