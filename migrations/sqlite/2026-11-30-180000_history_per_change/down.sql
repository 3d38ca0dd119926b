CREATE TABLE history_fields (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    record_id TEXT NOT NULL,
    field TEXT NOT NULL,
    value TEXT NOT NULL,
    hlc TEXT NOT NULL,
    device_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    received_at BIGINT NOT NULL
);
INSERT INTO history_fields (record_id, field, value, hlc, device_id, user_id, received_at)
SELECT h.record_id, e.value ->> 0, e.value -> 2, e.value ->> 1, h.device_id, h.user_id,
       h.received_at
FROM history AS h, json_each(h.entries) AS e
ORDER BY h.id, e.key;
DROP TABLE history;
ALTER TABLE history_fields RENAME TO history;
CREATE UNIQUE INDEX history_distinct ON history (record_id, field, hlc, value);
CREATE INDEX history_hlc ON history (hlc);
CREATE INDEX history_by_record ON history (record_id, id);
