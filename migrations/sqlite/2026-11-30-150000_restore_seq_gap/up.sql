-- After a restore from a backup, `canvass migrate --after-restore` moves every street's next
-- seq past a gap, so new seqs never equal seqs phones saw before the restore, and remembers
-- the gap: a cursor inside it can only come from before the restore and restarts from 0.
ALTER TABLE streets ADD COLUMN restored_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE streets ADD COLUMN seq_floor BIGINT NOT NULL DEFAULT 0;
