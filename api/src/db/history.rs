//! The append-only log of every distinct pushed field value, won or lost.

use diesel::prelude::*;

use super::schema::history;
use super::DbConn;

/// A new history entry.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = history)]
pub struct NewEntry {
    /// Record.
    pub record_id: String,
    /// Field name.
    pub field: String,
    /// Canonical JSON of the value.
    pub value: String,
    /// HLC text.
    pub hlc: String,
    /// Pushing device (`server` for reviews and imports).
    pub device_id: String,
    /// Pushing user.
    pub user_id: String,
    /// Unix ms.
    pub received_at: i64,
}

/// A stored entry.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = history)]
pub struct Entry {
    /// Insertion order.
    pub id: i64,
    /// Record.
    pub record_id: String,
    /// Field name.
    pub field: String,
    /// Canonical JSON of the value.
    pub value: String,
    /// HLC text.
    pub hlc: String,
    /// Device.
    pub device_id: String,
    /// User.
    pub user_id: String,
    /// Unix ms.
    pub received_at: i64,
}

/// Appends entries; an entry already logged (same record, field, HLC and value) is skipped,
/// so a re-sent change adds nothing.
pub fn append(conn: &mut DbConn, entries: &[NewEntry]) -> QueryResult<()> {
    match conn {
        // Diesel cannot batch ON CONFLICT on SQLite; INSERT OR IGNORE is the same here.
        DbConn::Sqlite(c) => {
            for chunk in entries.chunks(100) {
                diesel::insert_or_ignore_into(history::table)
                    .values(chunk)
                    .execute(c)?;
            }
        }
        DbConn::Pg(c) => {
            for chunk in entries.chunks(500) {
                diesel::insert_into(history::table)
                    .values(chunk)
                    .on_conflict((
                        history::record_id,
                        history::field,
                        history::hlc,
                        history::value,
                    ))
                    .do_nothing()
                    .execute(c)?;
            }
        }
    }
    Ok(())
}

/// The log of one record, oldest first.
pub fn of_record(conn: &mut DbConn, record_id: &str) -> QueryResult<Vec<Entry>> {
    history::table
        .filter(history::record_id.eq(record_id))
        .order(history::id.asc())
        .select(Entry::as_select())
        .load(conn)
}

/// The devices that wrote non-review fields of a record.
pub fn writer_devices(conn: &mut DbConn, record_id: &str) -> QueryResult<Vec<String>> {
    history::table
        .filter(history::record_id.eq(record_id))
        .filter(history::field.ne_all(["review", "review_note"]))
        .select(history::device_id)
        .distinct()
        .load(conn)
}

/// The largest HLC ever stored (HLC text sorts like HLCs: fixed-width ms and counter).
pub fn max_hlc(conn: &mut DbConn) -> QueryResult<Option<String>> {
    history::table
        .select(diesel::dsl::max(history::hlc))
        .first(conn)
}
