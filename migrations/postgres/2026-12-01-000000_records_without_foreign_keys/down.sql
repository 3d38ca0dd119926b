ALTER TABLE records
    ADD CONSTRAINT records_street_id_fkey FOREIGN KEY (street_id) REFERENCES streets (id),
    ADD CONSTRAINT records_ward_id_fkey FOREIGN KEY (ward_id) REFERENCES areas (id),
    ADD CONSTRAINT records_campaign_id_fkey FOREIGN KEY (campaign_id) REFERENCES campaigns (id);
