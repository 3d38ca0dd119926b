//! Streets (a street, alley, ngõ or hẻm), each in one ward.

use std::collections::HashMap;

use diesel::prelude::*;
use uuid::Uuid;

use super::schema::streets;
use super::DbConn;
use crate::model::{stored_uuid, Street};

/// A stored street.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = streets)]
pub struct StreetRow {
    /// Id.
    pub id: String,
    /// Ward.
    pub ward_id: String,
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
            id: stored_uuid(&self.id),
            ward_id: stored_uuid(&self.ward_id),
            code: self.code.clone(),
            name: self.name.clone(),
        }
    }
}

/// Stores new streets in few statements.
pub fn insert_many(conn: &mut DbConn, rows: &[StreetRow]) -> QueryResult<()> {
    for chunk in rows.chunks(1000) {
        on_backend!(&mut *conn, |c| diesel::insert_into(streets::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(())
}

/// Renames a street.
pub fn rename(conn: &mut DbConn, id: &str, name: &str) -> QueryResult<()> {
    diesel::update(streets::table.find(id))
        .set(streets::name.eq(name))
        .execute(conn)
        .map(|_| ())
}

/// A street by id.
pub fn find(conn: &mut DbConn, id: Uuid) -> QueryResult<Option<StreetRow>> {
    find_text(conn, &id.to_string())
}

/// A street by stored id text.
pub fn find_text(conn: &mut DbConn, id: &str) -> QueryResult<Option<StreetRow>> {
    streets::table
        .find(id)
        .select(StreetRow::as_select())
        .first(conn)
        .optional()
}

/// Streets of one ward, by code.
pub fn in_ward(conn: &mut DbConn, ward_id: &str) -> QueryResult<Vec<StreetRow>> {
    streets::table
        .filter(streets::ward_id.eq(ward_id))
        .order(streets::code.asc())
        .select(StreetRow::as_select())
        .load(conn)
}

/// Streets of many wards, by code.
pub fn in_wards(conn: &mut DbConn, ward_ids: &[String]) -> QueryResult<Vec<StreetRow>> {
    let mut all = Vec::new();
    for chunk in ward_ids.chunks(1000) {
        let rows: Vec<StreetRow> = streets::table
            .filter(streets::ward_id.eq_any(chunk))
            .select(StreetRow::as_select())
            .load(conn)?;
        all.extend(rows);
    }
    all.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(all)
}

/// Streets by id.
pub fn by_ids(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<StreetRow>> {
    let mut all = Vec::new();
    for chunk in ids.chunks(1000) {
        let rows: Vec<StreetRow> = streets::table
            .filter(streets::id.eq_any(chunk))
            .select(StreetRow::as_select())
            .load(conn)?;
        all.extend(rows);
    }
    Ok(all)
}

/// Streets keyed by code, restricted to the given codes.
pub fn by_codes(conn: &mut DbConn, codes: &[String]) -> QueryResult<HashMap<String, StreetRow>> {
    let mut all = HashMap::new();
    for chunk in codes.chunks(1000) {
        let rows: Vec<StreetRow> = streets::table
            .filter(streets::code.eq_any(chunk))
            .select(StreetRow::as_select())
            .load(conn)?;
        all.extend(rows.into_iter().map(|row| (row.code.clone(), row)));
    }
    Ok(all)
}

/// Takes the street's row lock and hands out `count` new seqs, returning the first.
/// The lock is held until the transaction ends, so a reader that sees seq N has also
/// seen every seq below N of this street: cursors never skip a record.
pub fn allocate_seqs(conn: &mut DbConn, street_id: &str, count: i64) -> QueryResult<i64> {
    diesel::update(streets::table.find(street_id))
        .set(streets::last_seq.eq(streets::last_seq + count))
        .execute(conn)?;
    let last: i64 = streets::table
        .find(street_id)
        .select(streets::last_seq)
        .first(conn)?;
    Ok(last - count + 1)
}

/// Takes the street's row lock without handing out a seq.
pub fn lock(conn: &mut DbConn, street_id: &str) -> QueryResult<()> {
    diesel::update(streets::table.find(street_id))
        .set(streets::last_seq.eq(streets::last_seq))
        .execute(conn)
        .map(|_| ())
}
