DROP INDEX history_by_record;
