//! `POST /households/import`: pre-registers households with their deterministic ids.

use std::collections::{BTreeSet, HashMap};

use actix_web::{web, HttpRequest, HttpResponse};
use sync_protocol::{household_id, Change, FieldName, Hlc, Kind, PushStatus, Stamped};

use crate::access::Endpoint;
use crate::auth::Caller;
use crate::db::{records, streets, DbConn};
use crate::error::{ApiError, ApiResult};
use crate::http::body;
use crate::http::csv_rows::{self, check_len};
use crate::model::{AreaId, HouseholdImportCounts, RecordId, StreetId};
use crate::state::{AppState, SERVER_NODE};
use crate::sync::ingest::{ingest, Writer};

/// Import households from CSV (`street_code,house_number`), all or nothing.
#[utoipa::path(post, path = "/api/v1/households/import", tag = "streets",
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = HouseholdImportCounts), (status = 422, body = crate::error::Problem)),
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
    let rows = csv_rows::parse(&text, &["street_code", "house_number"])?;
    let hlc = state.tick();
    let (counts, max_hlc) = state
        .db
        .write(move |conn| import_rows(conn, &caller, &rows, &hlc))
        .await?;
    if let Some(max) = max_hlc {
        state.witness(&max);
    }
    Ok(HttpResponse::Ok().json(counts))
}

fn import_rows(
    conn: &mut DbConn,
    caller: &Caller,
    rows: &[csv_rows::CsvRow],
    hlc: &Hlc,
) -> ApiResult<(HouseholdImportCounts, Option<Hlc>)> {
    let codes: Vec<String> = rows
        .iter()
        .filter_map(|r| r.fields.first().cloned())
        .collect();
    let by_code = streets::by_codes(conn, &codes)?;
    let mut covered: HashMap<AreaId, bool> = HashMap::new();
    let mut planned: Vec<(RecordId, StreetId, String)> = Vec::new();
    let mut seen = BTreeSet::new();
    let mut existing = 0u64;
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
                let mine = caller.covers_area(conn, street.ward_id)?;
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
        let id = household_id(street.id.uuid(), house_number).ok_or_else(|| {
            ApiError::validation(format!(
                "line {}: house_number holds no letter or digit once normalized",
                row.line
            ))
        })?;
        if seen.insert(id) {
            planned.push((RecordId(id), street.id, house_number.clone()));
        } else {
            existing += 1;
        }
    }
    let ids: Vec<RecordId> = planned.iter().map(|p| p.0).collect();
    let stored = records::existing(conn, &ids)?;
    existing += planned.iter().filter(|p| stored.contains(&p.0)).count() as u64;
    let changes: Vec<Change> = planned
        .iter()
        .filter(|p| !stored.contains(&p.0))
        .map(|(id, street_id, house_number)| {
            Change::new(
                Kind::Household,
                id.uuid(),
                street_id.uuid(),
                None,
                &[(
                    FieldName::HouseNumber,
                    Stamped::new(serde_json::json!(house_number), hlc.clone()),
                )]
                .into_iter()
                .collect(),
            )
        })
        .collect();
    let writer = Writer {
        user_id: caller.id,
        role: caller.role,
        area_id: caller.user.area_id,
        device_id: SERVER_NODE.to_owned(),
    };
    let mut created = 0u64;
    let mut max_hlc = None;
    // An import is bounded by the body limit, not the push limit: ingest it in slices.
    for slice in changes.chunks(1000) {
        let done = ingest(conn, None, &writer, slice)?;
        for (result, change) in done.results.iter().zip(slice) {
            match result.status {
                PushStatus::Applied => created += 1,
                PushStatus::Unchanged => existing += 1,
                PushStatus::Rejected => {
                    return Err(ApiError::validation(format!(
                        "household {} refused: {}",
                        change.id,
                        result.message.clone().unwrap_or_default()
                    )))
                }
            }
        }
        max_hlc = max_hlc.max(done.max_hlc);
    }
    Ok((HouseholdImportCounts { created, existing }, max_hlc))
}
