-- A record's history is only ever read by record (its page of the log, the dedupe of a
-- resent change, `canvass verify` in that order): the primary key on `id` alone was an index
-- kept for no reader, one more B-tree entry (and WAL record) per pushed change. The key is
-- now the (record_id, id) that every reader uses, and the separate index on it goes.
-- `id` still comes from its sequence: received order within a record.
DROP INDEX history_by_record;
ALTER TABLE history DROP CONSTRAINT history_pkey;
ALTER TABLE history ADD CONSTRAINT history_pkey PRIMARY KEY (record_id, id);
