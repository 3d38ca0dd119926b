CREATE TABLE history_fields (
    id BIGSERIAL PRIMARY KEY,
    record_id TEXT NOT NULL,
    field TEXT NOT NULL,
    value TEXT NOT NULL,
    hlc TEXT NOT NULL,
    device_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    received_at BIGINT NOT NULL
);
INSERT INTO history_fields (record_id, field, value, hlc, device_id, user_id, received_at)
SELECT h.record_id, e.entry ->> 0, (e.entry -> 2)::text, e.entry ->> 1, h.device_id,
       h.user_id, h.received_at
FROM history AS h, json_array_elements(h.entries::json) WITH ORDINALITY AS e (entry, n)
ORDER BY h.id, e.n;
DROP TABLE history;
ALTER TABLE history_fields RENAME TO history;
ALTER SEQUENCE history_fields_id_seq RENAME TO history_id_seq;
ALTER INDEX history_fields_pkey RENAME TO history_pkey;
CREATE UNIQUE INDEX history_distinct ON history (record_id, field, hlc, value);
CREATE INDEX history_hlc ON history (hlc);
CREATE INDEX history_by_record ON history (record_id, id);
