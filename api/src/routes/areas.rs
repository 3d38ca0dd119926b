//! Areas: create, read, list children, CSV import (contract section 4).

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::access::Endpoint;
use crate::auth::Caller;
use crate::db::areas::{self, AreaRow};
use crate::db::streets;
use crate::error::{ApiError, ApiResult};
use crate::http::body;
use crate::model::{Area, AreaId, ImportCounts, Items, Level, Street};
use crate::services::imports::{self, check_area, level_error, ImportKind};
use crate::state::AppState;

/// Body of `POST /areas`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewArea {
    /// Unique official code, 1–32 characters without white space.
    #[schema(min_length = 1, max_length = 32, pattern = r"^\S+$")]
    pub code: String,
    /// Name, 1–200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// Level.
    pub level: Level,
    /// Parent (null for a province).
    #[serde(default)]
    pub parent_id: Option<Uuid>,
}

/// Filter of `GET /areas`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AreaFilter {
    /// Children of this area; absent: the roots.
    #[param(value_type = Option<Uuid>, format = Uuid)]
    pub parent_id: Option<String>,
}

/// Create an area.
#[utoipa::path(post, path = "/api/v1/areas", operation_id = "createArea", tag = "areas", request_body = NewArea,
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
    check_area(None, &code, &name)?;
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
#[utoipa::path(get, path = "/api/v1/areas/{id}", operation_id = "getArea",
    params(("id" = Uuid, Path, description = "Area id")), tag = "areas",
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
#[utoipa::path(get, path = "/api/v1/areas", operation_id = "listAreas", tag = "areas", params(AreaFilter),
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
#[utoipa::path(get, path = "/api/v1/areas/{id}/streets", operation_id = "listAreaStreets",
    params(("id" = Uuid, Path, description = "Ward (or any area) id")), tag = "streets",
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
#[utoipa::path(post, path = "/api/v1/areas/import", operation_id = "importAreas", tag = "areas",
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
    let scope = caller.scope()?;
    let bytes = body::read_limited(&req, payload, body::CSV_LIMIT).await?;
    let text = body::csv_text(&req, &bytes)?;
    let rows = ImportKind::Areas.parse(&text)?;
    let counts = state
        .db
        .write(move |conn| imports::import_areas(conn, &scope, &rows))
        .await?;
    Ok(HttpResponse::Ok().json(counts))
}
