ALTER TABLE history DROP CONSTRAINT history_pkey;
ALTER TABLE history ADD CONSTRAINT history_pkey PRIMARY KEY (id);
CREATE INDEX history_by_record ON history (record_id, id);
