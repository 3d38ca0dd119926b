-- History is stored one row per pushed change instead of one row per field: a new visit
-- wrote four or five rows, each in three indexes, and that log dominated the cost of a push.
-- A row's `entries` is a JSON array of [field, hlc, value] with each value in its canonical
-- JSON text; `hlc` is the largest HLC among them (the server clock's floor at start-up).
-- The wire stays one entry per (field, value, HLC). A row keeps its id: entry k of row n
-- sorts at (n, k), so a stored per-field row becomes entry 0 of the row with its old id.
-- Uniqueness of (record, field, HLC, value) is kept by the writer, under the street lock.
CREATE TABLE history_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    record_id TEXT NOT NULL,
    hlc TEXT NOT NULL,
    entries TEXT NOT NULL,
    device_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    received_at BIGINT NOT NULL
);
INSERT INTO history_changes (id, record_id, hlc, entries, device_id, user_id, received_at)
SELECT id, record_id, hlc,
       '[[' || json_quote(field) || ',' || json_quote(hlc) || ',' || value || ']]',
       device_id, user_id, received_at
FROM history ORDER BY id;
DROP TABLE history;
ALTER TABLE history_changes RENAME TO history;
CREATE INDEX history_by_record ON history (record_id, id);
CREATE INDEX history_hlc ON history (hlc);
