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
/// [`MAX_DEPTH`] as the recursive queries bind it.
const MAX_DEPTH_SQL: i32 = MAX_DEPTH as i32;

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
#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = areas)]
struct Stored {
    id: String,
    code: String,
    name: String,
    level: String,
    #[diesel(treat_none_as_null = true)]
    parent_id: Option<String>,
}

/// An area found by a walk of the tree, with its distance from where the walk began.
#[derive(QueryableByName)]
struct InTree {
    #[diesel(embed)]
    area: Stored,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    depth: i32,
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
    // One statement instead of one lookup per level: every push checks its streets' wards
    // this way, and every scoped read its area.
    walk(
        conn,
        "WITH RECURSIVE up(id, code, name, level, parent_id, depth) AS ( \
           SELECT id, code, name, level, parent_id, 0 FROM areas WHERE id = $1 \
           UNION ALL \
           SELECT a.id, a.code, a.name, a.level, a.parent_id, up.depth + 1 \
           FROM up JOIN areas a ON a.id = up.parent_id WHERE up.depth <= $2) \
         SELECT id, code, name, level, parent_id, depth FROM up ORDER BY depth",
        id,
        format!("the parent chain is longer than {MAX_DEPTH}: a cycle"),
    )
}

/// Whether `id` is `ancestor` or lies below it.
pub fn is_within(conn: &mut DbConn, id: AreaId, ancestor: AreaId) -> DbResult<bool> {
    Ok(lineage(conn, id)?.iter().any(|row| row.id == ancestor))
}

/// Every area of the subtree rooted at `root`, the root first and each level before the
/// next.
pub fn subtree(conn: &mut DbConn, root: AreaId) -> DbResult<Vec<AreaRow>> {
    // One statement instead of one per level: a coverage read of a province walks a few
    // hundred areas, and a national dashboard reads every province.
    walk(
        conn,
        "WITH RECURSIVE down(id, code, name, level, parent_id, depth) AS ( \
           SELECT id, code, name, level, parent_id, 0 FROM areas WHERE id = $1 \
           UNION ALL \
           SELECT a.id, a.code, a.name, a.level, a.parent_id, down.depth + 1 \
           FROM down JOIN areas a ON a.parent_id = down.id WHERE down.depth <= $2) \
         SELECT id, code, name, level, parent_id, depth FROM down ORDER BY depth",
        root,
        format!("lies more than {MAX_DEPTH} levels below {root}: a cycle"),
    )
}

/// Runs a recursive walk of the tree from `start` (`$1`), which stops one level past
/// [`MAX_DEPTH`] (`$2`): a row that deep can only come from a cycle of parent links, which
/// is reported as `cycle` instead of walked forever.
fn walk(
    conn: &mut DbConn,
    sql: &'static str,
    start: AreaId,
    cycle: String,
) -> DbResult<Vec<AreaRow>> {
    let rows: Vec<InTree> = diesel::sql_query(sql)
        .bind::<diesel::sql_types::Text, _>(start.to_string())
        .bind::<diesel::sql_types::Integer, _>(MAX_DEPTH_SQL)
        .load(conn)?;
    if let Some(deep) = rows.iter().find(|row| row.depth > MAX_DEPTH_SQL) {
        return Err(Cells::new("areas", &deep.area.id)
            .corrupt("parent_id", cycle)
            .into());
    }
    decode_all(rows.into_iter().map(|row| row.area).collect())
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
