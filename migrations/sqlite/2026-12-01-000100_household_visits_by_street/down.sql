DROP INDEX records_household;
CREATE INDEX records_household ON records (household_id, campaign_id);
