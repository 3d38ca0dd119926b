CREATE INDEX history_hlc ON history (hlc);
ALTER TABLE streets DROP COLUMN max_hlc;
