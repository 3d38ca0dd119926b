//! Streets (a street, alley, ngõ or hẻm), each in one ward.

use std::collections::HashMap;

use diesel::prelude::*;

use super::decode::Cells;
use super::error::{CorruptRow, DbResult};
use super::schema::streets;
use super::DbConn;
use crate::model::{AreaId, Street, StreetId};
use sync_protocol::Hlc;

/// A stored street, decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct StreetRow {
    /// Id.
    pub id: StreetId,
    /// Ward.
    pub ward_id: AreaId,
    /// Unique code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Last seq handed out in this street's bucket.
    pub last_seq: i64,
}

impl StreetRow {
    /// The wire form.
    pub fn to_api(&self) -> Street {
        Street {
            id: self.id.uuid(),
            ward_id: self.ward_id.uuid(),
            code: self.code.clone(),
            name: self.name.clone(),
        }
    }
}

/// A `streets` row as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = streets)]
struct Stored {
    id: String,
    ward_id: String,
    code: String,
    name: String,
    last_seq: i64,
}

impl Stored {
    fn decode(self) -> Result<StreetRow, CorruptRow> {
        let cells = Cells::new("streets", &self.id);
        if self.last_seq < 0 {
            return Err(cells.corrupt("last_seq", format!("{} is negative", self.last_seq)));
        }
        Ok(StreetRow {
            id: cells.exact("id", &self.id, "UUID")?,
            ward_id: cells.exact("ward_id", &self.ward_id, "UUID")?,
            code: self.code,
            name: self.name,
            last_seq: self.last_seq,
        })
    }
}

impl From<&StreetRow> for Stored {
    fn from(row: &StreetRow) -> Stored {
        Stored {
            id: row.id.to_string(),
            ward_id: row.ward_id.to_string(),
            code: row.code.clone(),
            name: row.name.clone(),
            last_seq: row.last_seq,
        }
    }
}

fn decode_all(rows: Vec<Stored>) -> DbResult<Vec<StreetRow>> {
    Ok(rows
        .into_iter()
        .map(Stored::decode)
        .collect::<Result<_, _>>()?)
}

fn texts<T: ToString>(ids: &[T]) -> Vec<String> {
    ids.iter().map(ToString::to_string).collect()
}

/// Stores new streets in few statements.
pub fn insert_many(conn: &mut DbConn, rows: &[StreetRow]) -> QueryResult<()> {
    let stored: Vec<Stored> = rows.iter().map(Stored::from).collect();
    for chunk in stored.chunks(1000) {
        on_backend!(&mut *conn, |c| diesel::insert_into(streets::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(())
}

/// Renames a street.
pub fn rename(conn: &mut DbConn, id: StreetId, name: &str) -> QueryResult<()> {
    diesel::update(streets::table.find(id.to_string()))
        .set(streets::name.eq(name))
        .execute(conn)
        .map(|_| ())
}

/// A street by id.
pub fn find(conn: &mut DbConn, id: StreetId) -> DbResult<Option<StreetRow>> {
    let row: Option<Stored> = streets::table
        .find(id.to_string())
        .select(Stored::as_select())
        .first(conn)
        .optional()?;
    Ok(row.map(Stored::decode).transpose()?)
}

/// Streets of one ward, by code.
pub fn in_ward(conn: &mut DbConn, ward_id: AreaId) -> DbResult<Vec<StreetRow>> {
    decode_all(
        streets::table
            .filter(streets::ward_id.eq(ward_id.to_string()))
            .order(streets::code.asc())
            .select(Stored::as_select())
            .load(conn)?,
    )
}

/// Streets of many wards, by code.
pub fn in_wards(conn: &mut DbConn, ward_ids: &[AreaId]) -> DbResult<Vec<StreetRow>> {
    let mut all = Vec::new();
    for chunk in texts(ward_ids).chunks(1000) {
        let rows: Vec<Stored> = streets::table
            .filter(streets::ward_id.eq_any(chunk))
            .select(Stored::as_select())
            .load(conn)?;
        all.extend(decode_all(rows)?);
    }
    all.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(all)
}

/// Streets by id.
pub fn by_ids(conn: &mut DbConn, ids: &[StreetId]) -> DbResult<Vec<StreetRow>> {
    let mut all = Vec::new();
    for chunk in texts(ids).chunks(1000) {
        let rows: Vec<Stored> = streets::table
            .filter(streets::id.eq_any(chunk))
            .select(Stored::as_select())
            .load(conn)?;
        all.extend(decode_all(rows)?);
    }
    Ok(all)
}

/// Streets keyed by code, restricted to the given codes.
pub fn by_codes(conn: &mut DbConn, codes: &[String]) -> DbResult<HashMap<String, StreetRow>> {
    let mut all = HashMap::new();
    for chunk in codes.chunks(1000) {
        let rows: Vec<Stored> = streets::table
            .filter(streets::code.eq_any(chunk))
            .select(Stored::as_select())
            .load(conn)?;
        all.extend(
            decode_all(rows)?
                .into_iter()
                .map(|row| (row.code.clone(), row)),
        );
    }
    Ok(all)
}

/// Takes the street's row lock and hands out `count` new seqs, returning the first, for
/// records whose newest HLC is `newest`, which the street keeps if it is its largest.
/// The lock is held until the transaction ends, so a reader that sees seq N has also
/// seen every seq below N of this street: cursors never skip a record.
pub fn allocate_seqs(
    conn: &mut DbConn,
    street_id: StreetId,
    count: i64,
    newest: Option<&Hlc>,
) -> QueryResult<i64> {
    use diesel::dsl::case_when;
    let id = street_id.to_string();
    // One statement: the seqs and the newest HLC under the same row lock, and the new
    // last seq returned by it.
    let newest = newest.map(ToString::to_string);
    let raised = case_when(
        streets::max_hlc
            .is_null()
            .or(streets::max_hlc.nullable().lt(newest.clone())),
        newest.into_sql::<diesel::sql_types::Nullable<diesel::sql_types::Text>>(),
    )
    .otherwise(streets::max_hlc);
    let last: i64 = on_backend!(conn, |c| diesel::update(streets::table.find(&id))
        .set((
            streets::last_seq.eq(streets::last_seq + count),
            streets::max_hlc.eq(raised),
        ))
        .returning(streets::last_seq)
        .get_result(c))?;
    Ok(last - count + 1)
}

/// The largest HLC any stored record ever held (HLC text sorts like HLCs: fixed-width ms
/// and counter): the server clock starts above it. Kept per street as records are
/// written, so no index on the history is needed for it.
pub fn max_hlc(conn: &mut DbConn) -> DbResult<Option<Hlc>> {
    let row: Option<(String, Option<String>)> = streets::table
        .filter(streets::max_hlc.is_not_null())
        .order(streets::max_hlc.desc())
        .select((streets::id, streets::max_hlc))
        .first(conn)
        .optional()?;
    let Some((id, Some(hlc))) = row else {
        return Ok(None);
    };
    Ok(Some(
        Cells::new("streets", &id).exact("max_hlc", &hlc, "HLC")?,
    ))
}

/// Where a street's seqs jumped at the last restore: `(restored_seq, seq_floor)`, both 0
/// when it never was. No record ever has a seq strictly between them.
pub fn restore_gaps(
    conn: &mut DbConn,
    ids: &[StreetId],
) -> QueryResult<HashMap<StreetId, (i64, i64)>> {
    let mut gaps = HashMap::new();
    for chunk in texts(ids).chunks(1000) {
        let rows: Vec<(String, i64, i64)> = streets::table
            .filter(streets::id.eq_any(chunk))
            .filter(streets::seq_floor.gt(0))
            .select((streets::id, streets::restored_seq, streets::seq_floor))
            .load(conn)?;
        for (id, restored, floor) in rows {
            if let Ok(uuid) = uuid::Uuid::parse_str(&id) {
                gaps.insert(StreetId(uuid), (restored, floor));
            }
        }
    }
    Ok(gaps)
}

/// After a restore from a backup: every street's next seq jumps `gap` past its last one,
/// so no new seq equals one a phone saw before the restore. Returns how many streets moved.
pub fn open_restore_gap(conn: &mut DbConn, gap: i64) -> QueryResult<usize> {
    diesel::update(streets::table)
        .set((
            streets::restored_seq.eq(streets::last_seq),
            streets::seq_floor.eq(streets::last_seq + gap),
            streets::last_seq.eq(streets::last_seq + gap),
        ))
        .execute(conn)
}

/// Takes the street's row lock without handing out a seq.
pub fn lock(conn: &mut DbConn, street_id: StreetId) -> QueryResult<()> {
    diesel::update(streets::table.find(street_id.to_string()))
        .set(streets::last_seq.eq(streets::last_seq))
        .execute(conn)
        .map(|_| ())
}

/// Decodes every stored street, returning the rows that do not decode (`canvass verify`).
pub fn undecodable(conn: &mut DbConn) -> QueryResult<Vec<CorruptRow>> {
    let rows: Vec<Stored> = streets::table.select(Stored::as_select()).load(conn)?;
    Ok(rows.into_iter().filter_map(|r| r.decode().err()).collect())
}
