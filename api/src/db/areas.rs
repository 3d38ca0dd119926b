//! The area tree (province → district → ward, or province → ward), stored as parent links.

use std::collections::HashMap;

use diesel::prelude::*;

use super::decode::Cells;
use super::error::{CorruptRow, DbResult};
use super::schema::areas;
use super::DbConn;
use crate::model::{Area, AreaId, Level};

/// The deepest tree walked. Real trees have three levels; a deeper chain is a cycle of
/// parent links, which is reported instead of looped on.
const MAX_DEPTH: usize = 16;

/// A stored area, decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct AreaRow {
    /// Id.
    pub id: AreaId,
    /// Unique official code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Level.
    pub level: Level,
    /// Parent (`None` for a root).
    pub parent_id: Option<AreaId>,
}

impl AreaRow {
    /// The wire form.
    pub fn to_api(&self) -> Area {
        Area {
            id: self.id.uuid(),
            code: self.code.clone(),
            name: self.name.clone(),
            level: self.level,
            parent_id: self.parent_id.map(AreaId::uuid),
        }
    }
}

/// An `areas` row as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = areas)]
struct Stored {
    id: String,
    code: String,
    name: String,
    level: String,
    #[diesel(treat_none_as_null = true)]
    parent_id: Option<String>,
}

impl Stored {
    fn decode(self) -> Result<AreaRow, CorruptRow> {
        let cells = Cells::new("areas", &self.id);
        Ok(AreaRow {
            id: cells.exact("id", &self.id, "UUID")?,
            level: cells.exact("level", &self.level, "level")?,
            parent_id: cells.exact_opt("parent_id", self.parent_id.as_deref(), "UUID")?,
            code: self.code,
            name: self.name,
        })
    }
}

impl From<&AreaRow> for Stored {
    fn from(row: &AreaRow) -> Stored {
        Stored {
            id: row.id.to_string(),
            code: row.code.clone(),
            name: row.name.clone(),
            level: row.level.as_str().to_owned(),
            parent_id: row.parent_id.map(|p| p.to_string()),
        }
    }
}

fn decode_all(rows: Vec<Stored>) -> DbResult<Vec<AreaRow>> {
    Ok(rows
        .into_iter()
        .map(Stored::decode)
        .collect::<Result<_, _>>()?)
}

/// Stores a new area.
pub fn insert(conn: &mut DbConn, row: &AreaRow) -> QueryResult<()> {
    diesel::insert_into(areas::table)
        .values(Stored::from(row))
        .execute(conn)
        .map(|_| ())
}

/// Stores many new areas in few statements.
pub fn insert_many(conn: &mut DbConn, rows: &[AreaRow]) -> QueryResult<()> {
    let stored: Vec<Stored> = rows.iter().map(Stored::from).collect();
    // Both backends cap bound parameters per statement; 5 columns × 1000 rows fits both.
    for chunk in stored.chunks(1000) {
        on_backend!(&mut *conn, |c| diesel::insert_into(areas::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(())
}

/// Rewrites an area's name and parent.
pub fn update(conn: &mut DbConn, row: &AreaRow) -> QueryResult<()> {
    diesel::update(areas::table.find(row.id.to_string()))
        .set(Stored::from(row))
        .execute(conn)
        .map(|_| ())
}

/// An area by id.
pub fn find(conn: &mut DbConn, id: AreaId) -> DbResult<Option<AreaRow>> {
    let row: Option<Stored> = areas::table
        .find(id.to_string())
        .select(Stored::as_select())
        .first(conn)
        .optional()?;
    Ok(row.map(Stored::decode).transpose()?)
}

/// An area by code.
pub fn find_by_code(conn: &mut DbConn, code: &str) -> DbResult<Option<AreaRow>> {
    let row: Option<Stored> = areas::table
        .filter(areas::code.eq(code))
        .select(Stored::as_select())
        .first(conn)
        .optional()?;
    Ok(row.map(Stored::decode).transpose()?)
}

/// Children of an area, or the roots for `None`, ordered by code.
pub fn children(conn: &mut DbConn, parent: Option<AreaId>) -> DbResult<Vec<AreaRow>> {
    let query = areas::table
        .select(Stored::as_select())
        .order(areas::code.asc())
        .into_boxed();
    let rows = match parent {
        Some(parent) => query
            .filter(areas::parent_id.eq(parent.to_string()))
            .load(conn)?,
        None => query.filter(areas::parent_id.is_null()).load(conn)?,
    };
    decode_all(rows)
}

/// Every area, keyed by code (imports plan against it).
pub fn all_by_code(conn: &mut DbConn) -> DbResult<HashMap<String, AreaRow>> {
    let rows = decode_all(areas::table.select(Stored::as_select()).load(conn)?)?;
    Ok(rows
        .into_iter()
        .map(|row| (row.code.clone(), row))
        .collect())
}

/// The area and its ancestors, the area first; empty for an unknown area.
pub fn lineage(conn: &mut DbConn, id: AreaId) -> DbResult<Vec<AreaRow>> {
    let mut chain: Vec<AreaRow> = Vec::new();
    let mut next = Some(id);
    while let Some(current) = next {
        if chain.len() > MAX_DEPTH {
            let last = chain.last().map_or(id, |row| row.id).to_string();
            return Err(Cells::new("areas", &last)
                .corrupt(
                    "parent_id",
                    format!("the parent chain is longer than {MAX_DEPTH}: a cycle"),
                )
                .into());
        }
        let Some(row) = find(conn, current)? else {
            // Parent links are foreign keys, so only the first lookup can miss.
            break;
        };
        next = row.parent_id;
        chain.push(row);
    }
    Ok(chain)
}

/// Whether `id` is `ancestor` or lies below it.
pub fn is_within(conn: &mut DbConn, id: AreaId, ancestor: AreaId) -> DbResult<bool> {
    Ok(lineage(conn, id)?.iter().any(|row| row.id == ancestor))
}

/// Every area of the subtree rooted at `root`, the root included, walked level by level.
pub fn subtree(conn: &mut DbConn, root: AreaId) -> DbResult<Vec<AreaRow>> {
    let mut all: Vec<AreaRow> = find(conn, root)?.into_iter().collect();
    let mut frontier: Vec<String> = all.iter().map(|row| row.id.to_string()).collect();
    let mut depth = 0;
    while !frontier.is_empty() {
        if depth > MAX_DEPTH {
            return Err(Cells::new("areas", &frontier[0])
                .corrupt(
                    "parent_id",
                    format!("lies more than {MAX_DEPTH} levels below {root}: a cycle"),
                )
                .into());
        }
        let mut next = Vec::new();
        for chunk in frontier.chunks(1000) {
            let rows: Vec<Stored> = areas::table
                .filter(areas::parent_id.eq_any(chunk))
                .select(Stored::as_select())
                .load(conn)?;
            next.extend(decode_all(rows)?);
        }
        frontier = next.iter().map(|row| row.id.to_string()).collect();
        all.extend(next);
        depth += 1;
    }
    Ok(all)
}

/// The ward ids of a subtree.
pub fn wards_within(conn: &mut DbConn, root: AreaId) -> DbResult<Vec<AreaId>> {
    Ok(subtree(conn, root)?
        .into_iter()
        .filter(|row| row.level == Level::Ward)
        .map(|row| row.id)
        .collect())
}

/// Decodes every stored area, returning the rows that do not decode (`canvass verify`).
pub fn undecodable(conn: &mut DbConn) -> QueryResult<Vec<CorruptRow>> {
    let rows: Vec<Stored> = areas::table.select(Stored::as_select()).load(conn)?;
    Ok(rows.into_iter().filter_map(|r| r.decode().err()).collect())
}
