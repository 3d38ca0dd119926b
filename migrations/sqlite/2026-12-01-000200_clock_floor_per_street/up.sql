-- The server clock starts above the largest HLC ever stored. It was read from an index on
-- the history's HLCs, an entry per pushed change kept for one read at start-up (and one
-- per household import). Each street now keeps the largest HLC its records ever held,
-- written with the seqs its push already takes under the street's lock, and the floor is
-- the largest of them.
ALTER TABLE streets ADD COLUMN max_hlc TEXT;
UPDATE streets SET max_hlc = (
    SELECT max(history.hlc) FROM records JOIN history ON history.record_id = records.id
    WHERE records.street_id = streets.id
);
DROP INDEX history_hlc;
