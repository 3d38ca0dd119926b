//! The append-only log of every distinct pushed field value, won or lost.
//!
//! One row per pushed change holds the values it wrote, as a JSON array of
//! `[field, hlc, value]`: a push of 500 new visits writes 500 rows, not one per field.
//! Entry `k` of row `n` sits at [`Position`] `(n, k)`, which is received order.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::query_builder::AstPass;
use diesel::sql_types::{BigInt, Text};
use serde_json::Value;
use sync_protocol::{FieldName, Hlc};

use super::decode::Cells;
use super::error::{CorruptRow, DbResult};
use super::multi_row::{bind_cells, BindRow, MultiRow};
use super::schema::history;
use super::DbConn;
use crate::model::{RecordId, UserId};

/// One field value a change wrote.
#[derive(Debug, Clone)]
pub struct NewEntry {
    /// Field name.
    pub field: FieldName,
    /// The value as pushed (numbers in canonical form).
    pub value: Value,
    /// HLC.
    pub hlc: Hlc,
    /// The value lost to a newer one, so a resent change may have logged it already: it is
    /// looked up before it is stored. (A value that wins was never logged: the state only
    /// moves forward in the merge order, so nothing logged before can win now.)
    pub lost: bool,
}

/// The values one change wrote to one record.
#[derive(Debug, Clone)]
pub struct NewChange {
    /// Record.
    pub record_id: RecordId,
    /// Its values.
    pub entries: Vec<NewEntry>,
    /// Pushing device (`server` for reviews and imports).
    pub device_id: String,
    /// Pushing user.
    pub user_id: UserId,
    /// Unix ms.
    pub received_at: i64,
}

/// Where an entry sits in the log: its row, then its place in the row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    /// The row (insertion order).
    pub row: i64,
    /// The entry within the row.
    pub entry: i64,
}

/// A stored entry, decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Where it sits: received order.
    pub position: Position,
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
#[derive(Debug, Clone)]
struct NewStored {
    record_id: String,
    hlc: String,
    entries: String,
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
    entries: String,
    device_id: String,
    user_id: String,
    received_at: i64,
}

/// An entry as the `entries` array holds it: `[field, hlc, value]`.
type Cell = (String, String, Value);

impl Stored {
    fn decode(self) -> Result<Vec<Entry>, CorruptRow> {
        let row = self.id.to_string();
        let cells = Cells::new("history", &row);
        let record_id: RecordId = cells.exact("record_id", &self.record_id, "UUID")?;
        let user_id: UserId = cells.exact("user_id", &self.user_id, "UUID")?;
        let received_at = cells.millis("received_at", self.received_at)?;
        let stored: Vec<Cell> = cells.json("entries", &self.entries)?;
        if stored.is_empty() {
            return Err(cells.corrupt("entries", "holds no entry"));
        }
        stored
            .into_iter()
            .zip(0..)
            .map(|((field, hlc, value), entry)| {
                Ok(Entry {
                    position: Position {
                        row: self.id,
                        entry,
                    },
                    record_id,
                    field: cells.exact("entries", &field, "field name")?,
                    hlc: cells.exact("entries", &hlc, "HLC")?,
                    value,
                    device_id: self.device_id.clone(),
                    user_id,
                    received_at,
                })
            })
            .collect()
    }
}

/// What makes an entry distinct: record, field, HLC and the value's canonical text.
type Key = (RecordId, FieldName, String, String);

fn key(record_id: RecordId, field: FieldName, hlc: &Hlc, value: &Value) -> Key {
    (record_id, field, hlc.to_string(), value.to_string())
}

/// The distinct entries already logged for these records.
fn logged(conn: &mut DbConn, record_ids: &[RecordId]) -> DbResult<HashSet<Key>> {
    let mut keys = HashSet::new();
    for chunk in record_ids.chunks(500) {
        let texts: Vec<String> = chunk.iter().map(ToString::to_string).collect();
        let rows: Vec<Stored> = history::table
            .filter(history::record_id.eq_any(&texts))
            .select(Stored::as_select())
            .load(conn)?;
        for row in rows {
            for entry in row.decode()? {
                keys.insert(key(entry.record_id, entry.field, &entry.hlc, &entry.value));
            }
        }
    }
    Ok(keys)
}

/// Appends the changes, one row each, in order; an entry already logged (same record,
/// field, HLC and value) is left out, so a resent change adds nothing.
pub fn append(conn: &mut DbConn, changes: &[NewChange]) -> DbResult<()> {
    let mut may_repeat: Vec<RecordId> = changes
        .iter()
        .filter(|c| c.entries.iter().any(|e| e.lost))
        .map(|c| c.record_id)
        .collect();
    may_repeat.sort_unstable();
    may_repeat.dedup();
    let mut seen = logged(conn, &may_repeat)?;
    let mut rows = Vec::with_capacity(changes.len());
    for change in changes {
        let mut cells: Vec<(&str, String, &Value)> = Vec::with_capacity(change.entries.len());
        let mut max_hlc: Option<&Hlc> = None;
        for entry in &change.entries {
            // Only a lost value can repeat a logged one (or another lost one of this push):
            // the others skip building the key, which was a third of the append.
            if entry.lost
                && !seen.insert(key(change.record_id, entry.field, &entry.hlc, &entry.value))
            {
                continue;
            }
            cells.push((entry.field.as_str(), entry.hlc.to_string(), &entry.value));
            if max_hlc.is_none_or(|m| entry.hlc > *m) {
                max_hlc = Some(&entry.hlc);
            }
        }
        let Some(max_hlc) = max_hlc else {
            continue;
        };
        rows.push(NewStored {
            record_id: change.record_id.to_string(),
            hlc: max_hlc.to_string(),
            // Values serialize to their canonical JSON text: the comparison with a
            // field's current value rests on it.
            entries: serde_json::to_string(&cells)
                .map_err(|err| diesel::result::Error::SerializationError(Box::new(err)))?,
            device_id: change.device_id.clone(),
            user_id: change.user_id.to_string(),
            received_at: change.received_at,
        });
    }
    // 6 columns × 500 rows stays under both backends' bound-parameter limits.
    for chunk in rows.chunks(500) {
        let statement = MultiRow {
            head: "INSERT INTO history (record_id, hlc, entries, device_id, user_id, received_at) VALUES",
            rows: chunk,
            tail: "",
        };
        on_backend!(&mut *conn, |c| statement.execute(c))?;
    }
    Ok(())
}

macro_rules! bind_new_stored {
    ($($backend:ty),*) => {$(
        impl BindRow<$backend> for NewStored {
            fn bind<'b>(&'b self, out: &mut AstPass<'_, 'b, $backend>) -> QueryResult<()> {
                bind_cells!(
                    out,
                    Text => &self.record_id,
                    Text => &self.hlc,
                    Text => &self.entries,
                    Text => &self.device_id,
                    Text => &self.user_id,
                    BigInt => &self.received_at,
                );
                Ok(())
            }
        }
    )*};
}
bind_new_stored!(diesel::sqlite::Sqlite, diesel::pg::Pg);

/// A page of one record's log, oldest first: at most `limit` entries after the entry at
/// `after` (received order: a record's pushes take its street's lock). The
/// `(record_id, id)` index serves it however long the log is.
pub fn page_of_record(
    conn: &mut DbConn,
    record_id: RecordId,
    after: Option<Position>,
    limit: i64,
) -> DbResult<Vec<Entry>> {
    let after = after.unwrap_or(Position {
        row: i64::MIN,
        entry: i64::MAX,
    });
    let wanted = usize::try_from(limit).unwrap_or(0);
    // The row of `after` may have no entry left; each of the `limit` rows past it holds
    // at least one, so they fill the page.
    let rows: Vec<Stored> = history::table
        .filter(history::record_id.eq(record_id.to_string()))
        .filter(history::id.ge(after.row))
        .order(history::id.asc())
        .limit(limit.saturating_add(1))
        .select(Stored::as_select())
        .load(conn)?;
    let mut page: Vec<Entry> = Vec::with_capacity(wanted);
    for row in rows {
        page.extend(row.decode()?.into_iter().filter(|e| e.position > after));
    }
    page.truncate(wanted);
    Ok(page)
}

/// Decodes every stored history row, returning the rows that do not decode
/// (`canvass verify`). Pages go in (record_id, id) order, the one key both backends index.
pub fn undecodable(conn: &mut DbConn) -> QueryResult<Vec<CorruptRow>> {
    let mut bad = Vec::new();
    // Record ids are never empty: the first page starts before every row.
    let (mut record, mut id) = (String::new(), i64::MIN);
    loop {
        let rows: Vec<Stored> = history::table
            // The bound on record_id alone is what lets SQLite start the page inside the
            // index; with the OR alone it scanned from the start for every page.
            .filter(history::record_id.ge(&record))
            .filter(history::record_id.gt(&record).or(history::id.gt(id)))
            .order((history::record_id.asc(), history::id.asc()))
            .limit(1000)
            .select(Stored::as_select())
            .load(conn)?;
        let Some(last) = rows.last() else {
            return Ok(bad);
        };
        (record, id) = (last.record_id.clone(), last.id);
        bad.extend(rows.into_iter().filter_map(|r| r.decode().err()));
    }
}
