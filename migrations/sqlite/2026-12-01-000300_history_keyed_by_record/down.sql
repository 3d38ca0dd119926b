-- Nothing changes on SQLite. The PostgreSQL migration of this name drops an index that
-- only PostgreSQL had: there the primary key on `id` was an index of its own beside the
-- table, while on SQLite `id` is the rowid, the table itself, and (record_id, id) is the
-- one index beside it. (The folders of both backends hold the same migrations.)
SELECT 1;
