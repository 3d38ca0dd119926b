-- A record's street, ward and campaign are no longer foreign keys. Streets, areas and
-- campaigns are never deleted and their ids never change, and a push stores a record only
-- on a street it has just loaded, with that street's ward and the campaign it loaded: the
-- three checks per stored row (three trigger queries each on PostgreSQL) guarded nothing
-- the writer does not, and cost a quarter of PostgreSQL's work per new visit
-- (docs/benchmarks.md). `canvass verify` checks that every record's street, ward and
-- campaign exist. SQLite cannot drop a constraint, so the table is rebuilt as it was.
CREATE TABLE records_rebuilt (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('household', 'visit')),
    street_id TEXT NOT NULL,
    ward_id TEXT NOT NULL,
    household_id TEXT,
    campaign_id TEXT,
    volunteer_id TEXT,
    seq BIGINT NOT NULL,
    state TEXT NOT NULL,
    -- Columns derived from `state` for filtering and counting.
    deleted BOOLEAN NOT NULL DEFAULT FALSE,
    house_number TEXT,
    outcome TEXT,
    visited_at TEXT,
    visited_at_us BIGINT,
    review TEXT,
    first_device TEXT,
    conflict BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at BIGINT NOT NULL
);
INSERT INTO records_rebuilt SELECT * FROM records;
DROP TABLE records;
ALTER TABLE records_rebuilt RENAME TO records;
CREATE UNIQUE INDEX records_street_seq ON records (street_id, seq);
CREATE INDEX records_household ON records (household_id, campaign_id);
CREATE INDEX records_visit_list ON records (campaign_id, visited_at_us, id);
CREATE INDEX records_ward ON records (campaign_id, ward_id);
