-- A visit's history pages by (record_id, id): one page costs the same however long the log.
CREATE INDEX history_by_record ON history (record_id, id);
