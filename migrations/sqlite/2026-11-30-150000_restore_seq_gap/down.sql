ALTER TABLE streets DROP COLUMN seq_floor;
ALTER TABLE streets DROP COLUMN restored_seq;
