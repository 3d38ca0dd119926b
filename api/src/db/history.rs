//! The append-only log of every distinct pushed field value, won or lost.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::Value;
use sync_protocol::{FieldName, Hlc};

use super::decode::Cells;
use super::error::{CorruptRow, DbResult};
use super::schema::history;
use super::DbConn;
use crate::model::{RecordId, UserId};

/// A new history entry.
#[derive(Debug, Clone)]
pub struct NewEntry {
    /// Record.
    pub record_id: RecordId,
    /// Field name.
    pub field: FieldName,
    /// The value as pushed (numbers in canonical form).
    pub value: Value,
    /// HLC.
    pub hlc: Hlc,
    /// Pushing device (`server` for reviews and imports).
    pub device_id: String,
    /// Pushing user.
    pub user_id: UserId,
    /// Unix ms.
    pub received_at: i64,
}

/// A stored entry, decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Insertion order.
    pub id: i64,
    /// Record.
    pub record_id: RecordId,
    /// Field name.
    pub field: FieldName,
    /// The value.
    pub value: Value,
    /// HLC.
    pub hlc: Hlc,
    /// Device.
    pub device_id: String,
    /// User.
    pub user_id: UserId,
    /// When the server received it.
    pub received_at: DateTime<Utc>,
}

/// A new `history` row as stored.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = history)]
struct NewStored {
    record_id: String,
    field: String,
    value: String,
    hlc: String,
    device_id: String,
    user_id: String,
    received_at: i64,
}

/// A `history` row as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = history)]
struct Stored {
    id: i64,
    record_id: String,
    field: String,
    value: String,
    hlc: String,
    device_id: String,
    user_id: String,
    received_at: i64,
}

impl Stored {
    fn decode(self) -> Result<Entry, CorruptRow> {
        let row = self.id.to_string();
        let cells = Cells::new("history", &row);
        Ok(Entry {
            id: self.id,
            record_id: cells.exact("record_id", &self.record_id, "UUID")?,
            field: cells.exact("field", &self.field, "field name")?,
            value: cells.json("value", &self.value)?,
            hlc: cells.exact("hlc", &self.hlc, "HLC")?,
            user_id: cells.exact("user_id", &self.user_id, "UUID")?,
            received_at: cells.millis("received_at", self.received_at)?,
            device_id: self.device_id,
        })
    }
}

impl From<&NewEntry> for NewStored {
    fn from(entry: &NewEntry) -> NewStored {
        NewStored {
            record_id: entry.record_id.to_string(),
            field: entry.field.as_str().to_owned(),
            // The canonical JSON text: the uniqueness of (record, field, HLC, value) and the
            // comparison with a field's current value both rest on it.
            value: entry.value.to_string(),
            hlc: entry.hlc.to_string(),
            device_id: entry.device_id.clone(),
            user_id: entry.user_id.to_string(),
            received_at: entry.received_at,
        }
    }
}

/// Appends entries; an entry already logged (same record, field, HLC and value) is skipped,
/// so a re-sent change adds nothing.
pub fn append(conn: &mut DbConn, entries: &[NewEntry]) -> QueryResult<()> {
    let entries: Vec<NewStored> = entries.iter().map(NewStored::from).collect();
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

/// A page of one record's log, oldest first: at most `limit` entries after the entry
/// `after` (by insertion order, which is received order: a record's pushes take its
/// street's lock). The `(record_id, id)` index serves it however long the log is.
pub fn page_of_record(
    conn: &mut DbConn,
    record_id: RecordId,
    after: Option<i64>,
    limit: i64,
) -> DbResult<Vec<Entry>> {
    let rows: Vec<Stored> = history::table
        .filter(history::record_id.eq(record_id.to_string()))
        .filter(history::id.gt(after.unwrap_or(i64::MIN)))
        .order(history::id.asc())
        .limit(limit)
        .select(Stored::as_select())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(Stored::decode)
        .collect::<Result<_, _>>()?)
}

/// The largest HLC ever stored (HLC text sorts like HLCs: fixed-width ms and counter).
pub fn max_hlc(conn: &mut DbConn) -> DbResult<Option<Hlc>> {
    let row: Option<(i64, String)> = history::table
        .order(history::hlc.desc())
        .select((history::id, history::hlc))
        .first(conn)
        .optional()?;
    Ok(row
        .map(|(id, hlc)| Cells::new("history", &id.to_string()).exact("hlc", &hlc, "HLC"))
        .transpose()?)
}

/// Decodes every stored history entry, a page at a time, returning the rows that do not
/// decode (`canvass verify`).
pub fn undecodable(conn: &mut DbConn) -> QueryResult<Vec<CorruptRow>> {
    let mut bad = Vec::new();
    let mut after = i64::MIN;
    loop {
        let rows: Vec<Stored> = history::table
            .filter(history::id.gt(after))
            .order(history::id.asc())
            .limit(1000)
            .select(Stored::as_select())
            .load(conn)?;
        let Some(last) = rows.last() else {
            return Ok(bad);
        };
        after = last.id;
        bad.extend(rows.into_iter().filter_map(|r| r.decode().err()));
    }
}
