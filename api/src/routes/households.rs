//! `POST /households/import`: pre-registers households with their deterministic ids.

use actix_web::{web, HttpRequest, HttpResponse};

use crate::access::Endpoint;
use crate::auth::Caller;
use crate::db::streets;
use crate::error::ApiResult;
use crate::http::body;
use crate::model::HouseholdImportCounts;
use crate::services::imports::{self, ImportKind};
use crate::state::AppState;

/// Import households from CSV (`street_code,house_number`), all or nothing.
#[utoipa::path(post, path = "/api/v1/households/import", operation_id = "importHouseholds", tag = "streets",
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
    let scope = caller.scope()?;
    let bytes = body::read_limited(&req, payload, body::CSV_LIMIT).await?;
    let text = body::csv_text(&req, &bytes)?;
    let rows = ImportKind::Households.parse(&text)?;
    let user = scope.user();
    // Every row is judged on a reader connection, so the writer is held only for the
    // existence check and the inserts (a large import must not freeze pushes).
    let plan = state
        .db
        .read(move |conn| imports::plan_households(conn, &scope, &rows))
        .await?;
    let clock = state.clone();
    let counts = state
        .db
        .write(move |conn| {
            // Another process may have stored newer HLCs: stamp above all of them.
            if let Some(max) = streets::max_hlc(conn)? {
                clock.witness(&max);
            }
            imports::write_households(conn, user, plan, &clock.tick())
        })
        .await?;
    Ok(HttpResponse::Ok().json(counts))
}
