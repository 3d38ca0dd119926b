-- A record's street, ward and campaign are no longer foreign keys. Streets, areas and
-- campaigns are never deleted and their ids never change, and a push stores a record only
-- on a street it has just loaded, with that street's ward and the campaign it loaded: the
-- three checks per stored row (three trigger queries each on PostgreSQL) guarded nothing
-- the writer does not, and cost a quarter of PostgreSQL's work per new visit
-- (docs/benchmarks.md). `canvass verify` checks that every record's street, ward and
-- campaign exist.
ALTER TABLE records
    DROP CONSTRAINT records_street_id_fkey,
    DROP CONSTRAINT records_ward_id_fkey,
    DROP CONSTRAINT records_campaign_id_fkey;
