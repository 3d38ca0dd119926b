-- History is stored one row per pushed change instead of one row per field: a new visit
-- wrote four or five rows, each in three indexes, and that log dominated the cost of a push.
-- A row's `entries` is a JSON array of [field, hlc, value] with each value in its canonical
-- JSON text; `hlc` is the largest HLC among them (the server clock's floor at start-up).
-- The wire stays one entry per (field, value, HLC). A row keeps its id: entry k of row n
-- sorts at (n, k), so a stored per-field row becomes entry 0 of the row with its old id.
-- Uniqueness of (record, field, HLC, value) is kept by the writer, under the street lock.
DROP INDEX history_distinct;
ALTER TABLE history ADD COLUMN entries TEXT;
UPDATE history
SET entries = '[[' || to_json(field)::text || ',' || to_json(hlc)::text || ',' || value || ']]';
ALTER TABLE history ALTER COLUMN entries SET NOT NULL;
ALTER TABLE history DROP COLUMN field;
ALTER TABLE history DROP COLUMN value;
