//! CSV imports of areas, streets and households (contract section 4), all or nothing,
//! with errors naming the line of the file. Each runs in the caller's write transaction.

use std::collections::{BTreeSet, HashMap, HashSet};

use sync_protocol::{household_id, Hlc};

use crate::access::Endpoint;
use crate::db::areas::{self, AreaRow};
use crate::db::streets::{self, StreetRow};
use crate::db::{records, DbConn};
use crate::error::{ApiError, ApiResult};
use crate::http::body;
use crate::http::csv_rows::{self, check_len, CsvRow};
use crate::model::{
    AreaId, HouseholdImportCounts, ImportCounts, Level, RecordId, StreetId, UserId,
};
use crate::services::Scope;
use crate::sync::new_households::{self, NewHousehold};

/// What a CSV import creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportKind {
    /// `code,name,level,parent_code` (admins).
    Areas,
    /// `ward_code,code,name` (admins; ward leaders in their ward).
    Streets,
    /// `street_code,house_number` (admins; ward leaders in their ward).
    Households,
}

impl ImportKind {
    /// The columns of its header.
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            ImportKind::Areas => &["code", "name", "level", "parent_code"],
            ImportKind::Streets => &["ward_code", "code", "name"],
            ImportKind::Households => &["street_code", "house_number"],
        }
    }

    /// 403 unless the scope may run this import at all.
    pub fn permit(self, scope: &Scope) -> ApiResult<()> {
        let endpoint = match self {
            ImportKind::Areas => Endpoint::WriteAreas,
            ImportKind::Streets | ImportKind::Households => Endpoint::WriteStreets,
        };
        scope.permit(endpoint).map(|_| ())
    }

    /// Parses a CSV body of this kind (outside any transaction: it needs no database).
    pub fn parse(self, text: &str) -> ApiResult<Vec<CsvRow>> {
        csv_rows::parse(text, self.columns())
    }
}

/// Area codes are GSO codes: short.
const MAX_AREA_CODE: usize = 32;
/// Street codes carry their ward's code and a local name, e.g. `25741-H12`.
const MAX_STREET_CODE: usize = 64;

/// Checks an area's code and name (`line` names the CSV line, if any).
pub fn check_area(line: Option<u64>, code: &str, name: &str) -> ApiResult<()> {
    body::check_code_and_name(line, code, MAX_AREA_CODE, name)
}

/// Checks a street's code and name (`line` names the CSV line, if any).
pub fn check_street(line: Option<u64>, code: &str, name: &str) -> ApiResult<()> {
    body::check_code_and_name(line, code, MAX_STREET_CODE, name)
}

/// The error for an area whose level cannot have that parent.
pub fn level_error(line: Option<u64>, level: Level, parent: Option<Level>) -> ApiError {
    let prefix = line.map(|l| format!("line {l}: ")).unwrap_or_default();
    let parent = parent.map_or("no parent", Level::as_str);
    ApiError::validation(format!(
        "{prefix}a {} cannot have {parent} as parent",
        level.as_str()
    ))
}

/// The ward a street goes in: it must exist (422), be a ward (422), and lie in the scope
/// (403).
pub fn target_ward(
    conn: &mut DbConn,
    scope: &Scope,
    ward: Option<AreaRow>,
    line: Option<u64>,
) -> ApiResult<AreaRow> {
    let prefix = line.map(|l| format!("line {l}: ")).unwrap_or_default();
    let ward = ward.ok_or_else(|| ApiError::validation(format!("{prefix}no such ward")))?;
    if ward.level != Level::Ward {
        return Err(ApiError::validation(format!(
            "{prefix}{} is not a ward",
            ward.code
        )));
    }
    if !scope.covers(conn, ward.id)? {
        return Err(ApiError::forbidden(format!(
            "{prefix}ward {} is not yours",
            ward.code
        )));
    }
    Ok(ward)
}

/// Imports areas; parents may come later in the file.
pub fn import_areas(conn: &mut DbConn, scope: &Scope, rows: &[CsvRow]) -> ApiResult<ImportCounts> {
    ImportKind::Areas.permit(scope)?;
    import_area_rows(conn, rows)
}

struct PlannedArea {
    line: u64,
    code: String,
    name: String,
    level: Level,
    parent_code: Option<String>,
}

/// Plans the whole import in memory against the stored tree, then writes it in batches,
/// parents before children.
fn import_area_rows(conn: &mut DbConn, rows: &[CsvRow]) -> ApiResult<ImportCounts> {
    let mut planned: Vec<PlannedArea> = Vec::with_capacity(rows.len());
    let mut line_of_code: HashMap<String, u64> = HashMap::new();
    for row in rows {
        let [code, name, level, parent_code] = &row.fields[..] else {
            return Err(ApiError::validation(format!(
                "line {}: expected 4 fields",
                row.line
            )));
        };
        check_area(Some(row.line), code, name)?;
        check_len(row.line, "name", name, 1, 200)?;
        let level = Level::parse(level).ok_or_else(|| {
            ApiError::validation(format!(
                "line {}: level must be province, district or ward",
                row.line
            ))
        })?;
        if let Some(first) = line_of_code.insert(code.clone(), row.line) {
            return Err(ApiError::validation(format!(
                "line {}: code {code} already appears on line {first}",
                row.line
            )));
        }
        planned.push(PlannedArea {
            line: row.line,
            code: code.clone(),
            name: name.clone(),
            level,
            parent_code: (!parent_code.is_empty()).then(|| parent_code.clone()),
        });
    }
    let stored = areas::all_by_code(conn)?;
    let in_file: HashMap<&str, &PlannedArea> =
        planned.iter().map(|p| (p.code.as_str(), p)).collect();
    let mut ids: HashMap<String, AreaId> = stored
        .iter()
        .map(|(code, row)| (code.clone(), row.id))
        .collect();
    for plan in &planned {
        ids.entry(plan.code.clone()).or_insert_with(AreaId::new_v4);
    }
    let mut inserts: Vec<(Level, AreaRow)> = Vec::new();
    let mut updates: Vec<AreaRow> = Vec::new();
    for plan in &planned {
        let parent_level = match &plan.parent_code {
            None => None,
            Some(parent) => match (in_file.get(parent.as_str()), stored.get(parent)) {
                (Some(p), _) => Some(p.level),
                (None, Some(p)) => Some(p.level),
                (None, None) => {
                    return Err(ApiError::validation(format!(
                        "line {}: parent_code {parent} names no area in the file or the database",
                        plan.line
                    )))
                }
            },
        };
        if !plan.level.may_have_parent(parent_level) {
            return Err(level_error(Some(plan.line), plan.level, parent_level));
        }
        // Every planned code got an id above, and every parent code was found above.
        let id_of = |code: &str| {
            ids.get(code).copied().ok_or_else(|| {
                ApiError::internal(format!("line {}: no id planned for {code}", plan.line))
            })
        };
        let row = AreaRow {
            id: id_of(&plan.code)?,
            code: plan.code.clone(),
            name: plan.name.clone(),
            level: plan.level,
            parent_id: plan.parent_code.as_deref().map(id_of).transpose()?,
        };
        match stored.get(&plan.code) {
            Some(existing) if existing.level != plan.level => {
                return Err(ApiError::validation(format!(
                    "line {}: area {} is a {}; an import cannot change its level",
                    plan.line, plan.code, existing.level
                )))
            }
            Some(_) => updates.push(row),
            None => inserts.push((plan.level, row)),
        }
    }
    // Parents first: provinces, then districts, then wards (a ward's parent is never a ward).
    inserts.sort_by_key(|(level, _)| match level {
        Level::Province => 0,
        Level::District => 1,
        Level::Ward => 2,
    });
    let created = inserts.len() as u64;
    let rows: Vec<AreaRow> = inserts.into_iter().map(|(_, row)| row).collect();
    areas::insert_many(conn, &rows)?;
    for row in &updates {
        let unchanged = stored
            .get(&row.code)
            .is_some_and(|old| old.name == row.name && old.parent_id == row.parent_id);
        if !unchanged {
            areas::update(conn, row)?;
        }
    }
    Ok(ImportCounts {
        created,
        updated: updates.len() as u64,
    })
}

/// Imports streets: a street that exists is renamed, never moved to another ward.
pub fn import_streets(
    conn: &mut DbConn,
    scope: &Scope,
    rows: &[CsvRow],
) -> ApiResult<ImportCounts> {
    ImportKind::Streets.permit(scope)?;
    let codes: Vec<String> = rows
        .iter()
        .filter_map(|r| r.fields.get(1).cloned())
        .collect();
    let stored = streets::by_codes(conn, &codes)?;
    let mut wards: HashMap<String, areas::AreaRow> = HashMap::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut inserts = Vec::new();
    let mut updated = 0u64;
    for row in rows {
        let [ward_code, code, name] = &row.fields[..] else {
            return Err(ApiError::validation(format!(
                "line {}: expected 3 fields",
                row.line
            )));
        };
        check_street(Some(row.line), code, name)?;
        if let Some(first) = seen.insert(code.clone(), row.line) {
            return Err(ApiError::validation(format!(
                "line {}: street {code} already appears on line {first}",
                row.line
            )));
        }
        let ward = match wards.get(ward_code) {
            Some(ward) => ward.clone(),
            None => {
                let found = areas::find_by_code(conn, ward_code)?;
                let ward = target_ward(conn, scope, found, Some(row.line))?;
                wards.insert(ward_code.clone(), ward.clone());
                ward
            }
        };
        match stored.get(code) {
            Some(existing) if existing.ward_id != ward.id => {
                return Err(ApiError::validation(format!(
                    "line {}: street {code} belongs to another ward; an import cannot move it",
                    row.line
                )))
            }
            Some(existing) => {
                if &existing.name != name {
                    streets::rename(conn, existing.id, name)?;
                }
                updated += 1;
            }
            None => inserts.push(StreetRow {
                id: StreetId::new_v4(),
                ward_id: ward.id,
                code: code.clone(),
                name: name.clone(),
                last_seq: 0,
            }),
        }
    }
    streets::insert_many(conn, &inserts)?;
    Ok(ImportCounts {
        created: inserts.len() as u64,
        updated,
    })
}

/// Pre-registers households with their deterministic ids, stamped with `hlc` (a fresh
/// server HLC), on one connection: [`plan_households`] then [`write_households`]. Returns the
/// counts and the largest HLC stored.
pub fn import_households(
    conn: &mut DbConn,
    scope: &Scope,
    rows: &[CsvRow],
    hlc: &Hlc,
) -> ApiResult<(HouseholdImportCounts, Option<Hlc>)> {
    let plan = plan_households(conn, scope, rows)?;
    let counts = write_households(conn, scope.user(), plan, hlc)?;
    let stored = (counts.created > 0).then(|| hlc.clone());
    Ok((counts, stored))
}

/// The checked rows of a household import: households to create unless they exist, and how
/// many rows repeat an earlier one.
#[derive(Debug)]
pub struct HouseholdPlan {
    households: Vec<NewHousehold>,
    repeated: u64,
}

/// Judges every row of a household import (streets, scope, lengths, ids). It only reads,
/// so it runs on a reader connection and the writer is held just for [`write_households`].
pub fn plan_households(
    conn: &mut DbConn,
    scope: &Scope,
    rows: &[CsvRow],
) -> ApiResult<HouseholdPlan> {
    ImportKind::Households.permit(scope)?;
    let codes: Vec<String> = rows
        .iter()
        .filter_map(|r| r.fields.first().cloned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let by_code = streets::by_codes(conn, &codes)?;
    let mut covered: HashMap<AreaId, bool> = HashMap::new();
    let mut households = Vec::new();
    let mut seen = HashSet::new();
    let mut repeated = 0u64;
    for row in rows {
        let [street_code, house_number] = &row.fields[..] else {
            return Err(ApiError::validation(format!(
                "line {}: expected 2 fields",
                row.line
            )));
        };
        let street = by_code.get(street_code).ok_or_else(|| {
            ApiError::validation(format!(
                "line {}: no street has code {street_code}",
                row.line
            ))
        })?;
        let mine = match covered.get(&street.ward_id) {
            Some(known) => *known,
            None => {
                let mine = scope.covers(conn, street.ward_id)?;
                covered.insert(street.ward_id, mine);
                mine
            }
        };
        if !mine {
            return Err(ApiError::forbidden(format!(
                "line {}: street {street_code} is outside your ward",
                row.line
            )));
        }
        check_len(
            row.line,
            "house_number",
            house_number,
            1,
            sync_protocol::MAX_HOUSE_NUMBER_CHARS,
        )?;
        if body::has_control(house_number) {
            return Err(ApiError::validation(format!(
                "line {}: house_number must not contain control characters",
                row.line
            )));
        }
        let id = household_id(street.id.uuid(), house_number).ok_or_else(|| {
            ApiError::validation(format!(
                "line {}: house_number holds no letter or digit once normalized",
                row.line
            ))
        })?;
        if seen.insert(id) {
            households.push(NewHousehold {
                id: RecordId(id),
                street_id: street.id,
                ward_id: street.ward_id,
                house_number: house_number.clone(),
            });
        } else {
            repeated += 1;
        }
    }
    Ok(HouseholdPlan {
        households,
        repeated,
    })
}

/// Writes a planned household import in the caller's write transaction, each statement
/// planned for its own values (a bulk transaction: [`DbConn::plan_each_statement`]): takes
/// the streets' row locks, leaves out the households that exist, and creates the others in
/// bulk.
pub fn write_households(
    conn: &mut DbConn,
    user_id: UserId,
    plan: HouseholdPlan,
    hlc: &Hlc,
) -> ApiResult<HouseholdImportCounts> {
    conn.plan_each_statement()?;
    let street_ids: Vec<StreetId> = plan.households.iter().map(|h| h.street_id).collect();
    new_households::lock_streets(conn, &street_ids)?;
    let ids: Vec<RecordId> = plan.households.iter().map(|h| h.id).collect();
    let stored = records::existing(conn, &ids)?;
    let new: Vec<NewHousehold> = plan
        .households
        .into_iter()
        .filter(|h| !stored.contains(&h.id))
        .collect();
    new_households::create(conn, user_id, &new, hlc)?;
    Ok(HouseholdImportCounts {
        created: new.len() as u64,
        existing: plan.repeated + stored.len() as u64,
    })
}
