//! The area tree (province → district → ward, or province → ward), stored as parent links.

use std::collections::HashMap;

use diesel::prelude::*;
use uuid::Uuid;

use super::schema::areas;
use super::DbConn;
use crate::model::{stored_uuid, Area, Level};

/// A stored area.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = areas)]
pub struct AreaRow {
    /// Id.
    pub id: String,
    /// Unique official code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Level text.
    pub level: String,
    /// Parent id.
    #[diesel(treat_none_as_null = true)]
    pub parent_id: Option<String>,
}

impl AreaRow {
    /// The level; stored levels are CHECKed, so the fallback never happens.
    pub fn level(&self) -> Level {
        Level::parse(&self.level).unwrap_or(Level::Ward)
    }

    /// The wire form.
    pub fn to_api(&self) -> Area {
        Area {
            id: stored_uuid(&self.id),
            code: self.code.clone(),
            name: self.name.clone(),
            level: self.level(),
            parent_id: self.parent_id.as_deref().map(stored_uuid),
        }
    }
}

/// Stores a new area.
pub fn insert(conn: &mut DbConn, row: &AreaRow) -> QueryResult<()> {
    diesel::insert_into(areas::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// Stores many new areas in few statements.
pub fn insert_many(conn: &mut DbConn, rows: &[AreaRow]) -> QueryResult<()> {
    // Both backends cap bound parameters per statement; 5 columns × 1000 rows fits both.
    for chunk in rows.chunks(1000) {
        on_backend!(&mut *conn, |c| diesel::insert_into(areas::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(())
}

/// Rewrites an area's name and parent.
pub fn update(conn: &mut DbConn, row: &AreaRow) -> QueryResult<()> {
    diesel::update(areas::table.find(&row.id))
        .set(row)
        .execute(conn)
        .map(|_| ())
}

/// An area by id.
pub fn find(conn: &mut DbConn, id: Uuid) -> QueryResult<Option<AreaRow>> {
    areas::table
        .find(id.to_string())
        .select(AreaRow::as_select())
        .first(conn)
        .optional()
}

/// An area by stored id text.
pub fn find_text(conn: &mut DbConn, id: &str) -> QueryResult<Option<AreaRow>> {
    areas::table
        .find(id)
        .select(AreaRow::as_select())
        .first(conn)
        .optional()
}

/// An area by code.
pub fn find_by_code(conn: &mut DbConn, code: &str) -> QueryResult<Option<AreaRow>> {
    areas::table
        .filter(areas::code.eq(code))
        .select(AreaRow::as_select())
        .first(conn)
        .optional()
}

/// Children of an area, or the roots for `None`, ordered by code.
pub fn children(conn: &mut DbConn, parent: Option<Uuid>) -> QueryResult<Vec<AreaRow>> {
    let query = areas::table
        .select(AreaRow::as_select())
        .order(areas::code.asc())
        .into_boxed();
    match parent {
        Some(parent) => query
            .filter(areas::parent_id.eq(parent.to_string()))
            .load(conn),
        None => query.filter(areas::parent_id.is_null()).load(conn),
    }
}

/// Every area, keyed by code (imports plan against it).
pub fn all_by_code(conn: &mut DbConn) -> QueryResult<HashMap<String, AreaRow>> {
    let rows: Vec<AreaRow> = areas::table.select(AreaRow::as_select()).load(conn)?;
    Ok(rows
        .into_iter()
        .map(|row| (row.code.clone(), row))
        .collect())
}

/// The area and its ancestors, the area first. The tree is at most a few levels deep.
pub fn lineage(conn: &mut DbConn, id: &str) -> QueryResult<Vec<AreaRow>> {
    let mut chain = Vec::new();
    let mut next = Some(id.to_owned());
    while let Some(current) = next {
        if chain.len() > 16 {
            break; // a cycle would be a bug; never loop forever on it
        }
        let row: Option<AreaRow> = areas::table
            .find(&current)
            .select(AreaRow::as_select())
            .first(conn)
            .optional()?;
        match row {
            Some(row) => {
                next = row.parent_id.clone();
                chain.push(row);
            }
            None => break,
        }
    }
    Ok(chain)
}

/// Whether `id` is `ancestor` or lies below it.
pub fn is_within(conn: &mut DbConn, id: &str, ancestor: &str) -> QueryResult<bool> {
    Ok(lineage(conn, id)?.iter().any(|row| row.id == ancestor))
}

/// Every area of the subtree rooted at `root`, the root included, walked level by level.
pub fn subtree(conn: &mut DbConn, root: &str) -> QueryResult<Vec<AreaRow>> {
    let mut all: Vec<AreaRow> = areas::table
        .find(root)
        .select(AreaRow::as_select())
        .load(conn)?;
    let mut frontier: Vec<String> = all.iter().map(|row| row.id.clone()).collect();
    let mut depth = 0;
    while !frontier.is_empty() && depth < 16 {
        let mut next = Vec::new();
        for chunk in frontier.chunks(1000) {
            let rows: Vec<AreaRow> = areas::table
                .filter(areas::parent_id.eq_any(chunk))
                .select(AreaRow::as_select())
                .load(conn)?;
            next.extend(rows);
        }
        frontier = next.iter().map(|row| row.id.clone()).collect();
        all.extend(next);
        depth += 1;
    }
    Ok(all)
}

/// The ward ids of a subtree.
pub fn wards_within(conn: &mut DbConn, root: &str) -> QueryResult<Vec<String>> {
    Ok(subtree(conn, root)?
        .into_iter()
        .filter(|row| row.level() == Level::Ward)
        .map(|row| row.id)
        .collect())
}
