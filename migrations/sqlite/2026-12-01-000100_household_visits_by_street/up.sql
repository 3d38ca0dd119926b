-- A household's visits are found under its street: (street_id, household_id) instead of
-- (household_id, campaign_id). Household ids are hashes of the street and house number, so
-- the old index put the 500 new visits of a push at 500 scattered places, each a page to
-- load, dirty and write to the log; the households of one push stand on a few streets, so
-- their entries now share a few pages. Households themselves (no household_id) are left
-- out of it, and no query reads it by campaign.
DROP INDEX records_household;
CREATE INDEX records_household ON records (street_id, household_id)
    WHERE household_id IS NOT NULL;
