//! Areas: create, read, list children, CSV import (contract section 4).

use std::collections::HashMap;

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::access::Endpoint;
use crate::auth::Caller;
use crate::db::areas::{self, AreaRow};
use crate::db::{streets, DbConn};
use crate::error::{ApiError, ApiResult};
use crate::http::body;
use crate::http::csv_rows::{self, check_len};
use crate::model::{Area, AreaId, ImportCounts, Items, Level, Street};
use crate::state::AppState;

/// Body of `POST /areas`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewArea {
    /// Unique official code, 1–32 characters.
    pub code: String,
    /// Name, 1–200 characters.
    pub name: String,
    /// Level.
    pub level: Level,
    /// Parent (null for a province).
    #[serde(default)]
    pub parent_id: Option<Uuid>,
}

/// Filter of `GET /areas`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct AreaFilter {
    /// Children of this area; absent: the roots.
    pub parent_id: Option<String>,
}

/// Area codes are GSO codes: short.
const MAX_AREA_CODE: usize = 32;

fn check_code_and_name(line: Option<u64>, code: &str, name: &str) -> ApiResult<()> {
    body::check_code_and_name(line, code, MAX_AREA_CODE, name)
}

fn level_error(line: Option<u64>, level: Level, parent: Option<Level>) -> ApiError {
    let prefix = line.map(|l| format!("line {l}: ")).unwrap_or_default();
    let parent = parent.map_or("no parent", Level::as_str);
    ApiError::validation(format!(
        "{prefix}a {} cannot have {parent} as parent",
        level.as_str()
    ))
}

/// Create an area.
#[utoipa::path(post, path = "/api/v1/areas", tag = "areas", request_body = NewArea,
    responses((status = 201, body = Area), (status = 409, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn create(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    caller.permit(Endpoint::WriteAreas)?;
    let new: NewArea = body::read_json(&req, payload).await?;
    let code = new.code.trim().to_owned();
    let name = new.name.trim().to_owned();
    check_code_and_name(None, &code, &name)?;
    let area = state
        .db
        .write(move |conn| {
            let parent = match new.parent_id {
                Some(id) => Some(
                    areas::find(conn, id.into())?
                        .ok_or_else(|| ApiError::validation("parent_id names no known area"))?,
                ),
                None => None,
            };
            let parent_level = parent.as_ref().map(|p| p.level);
            if !new.level.may_have_parent(parent_level) {
                return Err(level_error(None, new.level, parent_level));
            }
            if areas::find_by_code(conn, &code)?.is_some() {
                return Err(ApiError::Conflict(format!("area code {code} is taken")));
            }
            let row = AreaRow {
                id: AreaId::new_v4(),
                code,
                name,
                level: new.level,
                parent_id: parent.map(|p| p.id),
            };
            areas::insert(conn, &row)?;
            Ok(row.to_api())
        })
        .await?;
    Ok(HttpResponse::Created().json(area))
}

/// Read one area.
#[utoipa::path(get, path = "/api/v1/areas/{id}", tag = "areas",
    responses((status = 200, body = Area), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn get(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    caller.permit(Endpoint::ReadCatalogue)?;
    let id = body::path_id(&path, "area")?;
    let area = state
        .db
        .read(move |conn| Ok(areas::find(conn, id.into())?))
        .await?;
    let area = area.ok_or_else(|| ApiError::not_found("area"))?;
    Ok(HttpResponse::Ok().json(area.to_api()))
}

/// The children of an area, or the roots.
#[utoipa::path(get, path = "/api/v1/areas", tag = "areas", params(AreaFilter),
    responses((status = 200, body = Items<Area>)), security(("bearer" = [])))]
pub async fn list(
    caller: Caller,
    state: web::Data<AppState>,
    filter: web::Query<AreaFilter>,
) -> ApiResult<HttpResponse> {
    caller.permit(Endpoint::ReadCatalogue)?;
    let parent: Option<AreaId> =
        body::query_id(filter.parent_id.as_deref(), "parent_id")?.map(AreaId::from);
    let items = state
        .db
        .read(move |conn| {
            if let Some(parent) = parent {
                if areas::find(conn, parent)?.is_none() {
                    return Err(ApiError::not_found("area"));
                }
            }
            Ok(areas::children(conn, parent)?
                .iter()
                .map(AreaRow::to_api)
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(HttpResponse::Ok().json(Items { items }))
}

/// Streets of a ward (or of every ward below an area).
#[utoipa::path(get, path = "/api/v1/areas/{id}/streets", tag = "streets",
    responses((status = 200, body = Items<Street>), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn streets_of(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    caller.permit(Endpoint::ReadCatalogue)?;
    let id = body::path_id(&path, "area")?;
    let items = state
        .db
        .read(move |conn| {
            let area = areas::find(conn, id.into())?.ok_or_else(|| ApiError::not_found("area"))?;
            let rows = if area.level == Level::Ward {
                streets::in_ward(conn, area.id)?
            } else {
                let wards = areas::wards_within(conn, area.id)?;
                streets::in_wards(conn, &wards)?
            };
            Ok(rows
                .iter()
                .map(streets::StreetRow::to_api)
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(HttpResponse::Ok().json(Items { items }))
}

/// Import areas from CSV (`code,name,level,parent_code`), all or nothing.
#[utoipa::path(post, path = "/api/v1/areas/import", tag = "areas",
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ImportCounts), (status = 422, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn import(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    caller.permit(Endpoint::WriteAreas)?;
    let bytes = body::read_limited(&req, payload, body::CSV_LIMIT).await?;
    let text = body::csv_text(&req, &bytes)?;
    let rows = csv_rows::parse(&text, &["code", "name", "level", "parent_code"])?;
    let counts = state.db.write(move |conn| import_rows(conn, &rows)).await?;
    Ok(HttpResponse::Ok().json(counts))
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
fn import_rows(conn: &mut DbConn, rows: &[csv_rows::CsvRow]) -> ApiResult<ImportCounts> {
    let mut planned: Vec<PlannedArea> = Vec::with_capacity(rows.len());
    let mut line_of_code: HashMap<String, u64> = HashMap::new();
    for row in rows {
        let [code, name, level, parent_code] = &row.fields[..] else {
            return Err(ApiError::validation(format!(
                "line {}: expected 4 fields",
                row.line
            )));
        };
        check_code_and_name(Some(row.line), code, name)?;
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
