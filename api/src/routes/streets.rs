//! Streets: create and CSV import (contract section 4).

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::access::Endpoint;
use crate::auth::Caller;
use crate::db::areas;
use crate::db::streets::{self, StreetRow};
use crate::error::{ApiError, ApiResult};
use crate::http::body;
use crate::model::{ImportCounts, Street, StreetId};
use crate::services::imports::{self, check_street, target_ward, ImportKind};
use crate::state::AppState;

/// Body of `POST /streets`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewStreet {
    /// The ward.
    pub ward_id: Uuid,
    /// Code, unique across all wards, 1–64 characters without white space.
    #[schema(min_length = 1, max_length = 64, pattern = r"^\S+$")]
    pub code: String,
    /// Name, 1–200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
}

/// Create a street in a ward.
#[utoipa::path(post, path = "/api/v1/streets", operation_id = "createStreet", tag = "streets", request_body = NewStreet,
    responses((status = 201, body = Street), (status = 409, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn create(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    caller.permit(Endpoint::WriteStreets)?;
    let scope = caller.scope()?;
    let new: NewStreet = body::read_json(&req, payload).await?;
    let code = new.code.trim().to_owned();
    let name = new.name.trim().to_owned();
    let street = state
        .db
        .write(move |conn| {
            let ward = areas::find(conn, new.ward_id.into())?;
            let ward = target_ward(conn, &scope, ward, None)?;
            check_street(None, &code, &name)?;
            if !streets::by_codes(conn, std::slice::from_ref(&code))?.is_empty() {
                return Err(ApiError::Conflict(format!("street code {code} is taken")));
            }
            let row = StreetRow {
                id: StreetId::new_v4(),
                ward_id: ward.id,
                code,
                name,
                last_seq: 0,
            };
            streets::insert_many(conn, std::slice::from_ref(&row))?;
            Ok(row.to_api())
        })
        .await?;
    Ok(HttpResponse::Created().json(street))
}

/// Import streets from CSV (`ward_code,code,name`), all or nothing.
#[utoipa::path(post, path = "/api/v1/streets/import", operation_id = "importStreets", tag = "streets",
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ImportCounts), (status = 422, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn import(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    caller.permit(Endpoint::WriteStreets)?;
    let scope = caller.scope()?;
    let bytes = body::read_limited(&req, payload, body::CSV_LIMIT).await?;
    let text = body::csv_text(&req, &bytes)?;
    let rows = ImportKind::Streets.parse(&text)?;
    let counts = state
        .db
        .write(move |conn| imports::import_streets(conn, &scope, &rows))
        .await?;
    Ok(HttpResponse::Ok().json(counts))
}
