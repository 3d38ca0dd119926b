-- Ids are UUID text and times are Unix milliseconds so that one diesel schema fits both backends.
CREATE TABLE server_settings (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

CREATE TABLE areas (
    id TEXT PRIMARY KEY NOT NULL,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    level TEXT NOT NULL CHECK (level IN ('province', 'district', 'ward')),
    parent_id TEXT REFERENCES areas (id)
);
CREATE INDEX areas_parent_id ON areas (parent_id);

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'supervisor', 'ward_leader', 'volunteer')),
    area_id TEXT REFERENCES areas (id),
    password_hash TEXT NOT NULL,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL
);
CREATE INDEX users_area_id ON users (area_id);

CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    family_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    expires_at BIGINT NOT NULL,
    used BOOLEAN NOT NULL DEFAULT FALSE,
    revoked BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL
);
CREATE INDEX refresh_tokens_family_id ON refresh_tokens (family_id);

CREATE TABLE streets (
    id TEXT PRIMARY KEY NOT NULL,
    ward_id TEXT NOT NULL REFERENCES areas (id),
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    -- Per-street sequence allocator: bumped under the street's row lock so that seqs
    -- become visible to readers in the order they were handed out.
    last_seq BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX streets_ward_id ON streets (ward_id);

CREATE TABLE campaigns (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    area_id TEXT NOT NULL REFERENCES areas (id),
    target_ratio DOUBLE PRECISION NOT NULL,
    starts_on TEXT NOT NULL,
    deadline TEXT NOT NULL,
    timezone TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE assignments (
    id TEXT PRIMARY KEY NOT NULL,
    campaign_id TEXT NOT NULL REFERENCES campaigns (id),
    street_id TEXT NOT NULL REFERENCES streets (id),
    volunteer_id TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    -- Kept after deletion: a volunteer may still push for 7 days after unassignment.
    deleted_at BIGINT
);
CREATE UNIQUE INDEX assignments_live_unique ON assignments (campaign_id, street_id, volunteer_id)
    WHERE deleted_at IS NULL;
CREATE INDEX assignments_volunteer ON assignments (volunteer_id, campaign_id);
CREATE INDEX assignments_street ON assignments (campaign_id, street_id);

-- Households and visits: the current merged state of every synced record.
CREATE TABLE records (
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
CREATE UNIQUE INDEX records_street_seq ON records (street_id, seq);
CREATE INDEX records_household ON records (household_id, campaign_id);
CREATE INDEX records_visit_list ON records (campaign_id, visited_at_us, id);
CREATE INDEX records_ward ON records (campaign_id, ward_id);

-- Every distinct (field, value, hlc) ever pushed, won or lost.
CREATE TABLE history (
    id BIGSERIAL PRIMARY KEY,
    record_id TEXT NOT NULL,
    field TEXT NOT NULL,
    value TEXT NOT NULL,
    hlc TEXT NOT NULL,
    device_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    received_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX history_distinct ON history (record_id, field, hlc, value);
CREATE INDEX history_hlc ON history (hlc);

CREATE TABLE ward_totals (
    ward_id TEXT PRIMARY KEY NOT NULL REFERENCES areas (id),
    households_total BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE ward_coverage (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id),
    ward_id TEXT NOT NULL REFERENCES areas (id),
    households_attempted BIGINT NOT NULL DEFAULT 0,
    households_reached BIGINT NOT NULL DEFAULT 0,
    smartphone_users BIGINT NOT NULL DEFAULT 0,
    app_users BIGINT NOT NULL DEFAULT 0,
    last_visit_at TEXT,
    last_visit_at_us BIGINT,
    PRIMARY KEY (campaign_id, ward_id)
);
