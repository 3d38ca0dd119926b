//! Streets: create and CSV import (contract section 4).

use std::collections::HashMap;

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::access::Endpoint;
use crate::auth::Caller;
use crate::db::streets::{self, StreetRow};
use crate::db::{areas, DbConn};
use crate::error::{ApiError, ApiResult};
use crate::http::body;
use crate::http::csv_rows;
use crate::model::{ImportCounts, Level, Street, StreetId};
use crate::state::AppState;

/// Body of `POST /streets`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewStreet {
    /// The ward.
    pub ward_id: Uuid,
    /// Code, unique across all wards, 1–64 characters.
    pub code: String,
    /// Name, 1–200 characters.
    pub name: String,
}

/// Street codes carry their ward's code and a local name, e.g. `25741-H12`.
const MAX_STREET_CODE: usize = 64;

fn check_street(line: Option<u64>, code: &str, name: &str) -> ApiResult<()> {
    body::check_code_and_name(line, code, MAX_STREET_CODE, name)
}

/// The ward a street goes in: it must exist, be a ward, and lie in the caller's scope.
fn target_ward(
    conn: &mut DbConn,
    caller: &Caller,
    ward: Option<areas::AreaRow>,
    line: Option<u64>,
) -> ApiResult<areas::AreaRow> {
    let prefix = line.map(|l| format!("line {l}: ")).unwrap_or_default();
    let ward = ward.ok_or_else(|| ApiError::validation(format!("{prefix}no such ward")))?;
    if ward.level != Level::Ward {
        return Err(ApiError::validation(format!(
            "{prefix}{} is not a ward",
            ward.code
        )));
    }
    if !caller.covers_area(conn, ward.id)? {
        return Err(ApiError::forbidden(format!(
            "{prefix}ward {} is not yours",
            ward.code
        )));
    }
    Ok(ward)
}

/// Create a street in a ward.
#[utoipa::path(post, path = "/api/v1/streets", tag = "streets", request_body = NewStreet,
    responses((status = 201, body = Street), (status = 409, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn create(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    caller.permit(Endpoint::WriteStreets)?;
    let new: NewStreet = body::read_json(&req, payload).await?;
    let code = new.code.trim().to_owned();
    let name = new.name.trim().to_owned();
    let street = state
        .db
        .write(move |conn| {
            let ward = areas::find(conn, new.ward_id.into())?;
            let ward = target_ward(conn, &caller, ward, None)?;
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
#[utoipa::path(post, path = "/api/v1/streets/import", tag = "streets",
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
    let bytes = body::read_limited(&req, payload, body::CSV_LIMIT).await?;
    let text = body::csv_text(&req, &bytes)?;
    let rows = csv_rows::parse(&text, &["ward_code", "code", "name"])?;
    let counts = state
        .db
        .write(move |conn| import_rows(conn, &caller, &rows))
        .await?;
    Ok(HttpResponse::Ok().json(counts))
}

fn import_rows(
    conn: &mut DbConn,
    caller: &Caller,
    rows: &[csv_rows::CsvRow],
) -> ApiResult<ImportCounts> {
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
                let ward = target_ward(conn, caller, found, Some(row.line))?;
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
