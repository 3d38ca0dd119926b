CREATE TABLE records_rebuilt (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('household', 'visit')),
    street_id TEXT NOT NULL REFERENCES streets (id),
    ward_id TEXT NOT NULL REFERENCES areas (id),
    household_id TEXT,
    campaign_id TEXT REFERENCES campaigns (id),
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
