//! `visits.csv` and `visits.geojson` (contract section 13): the visit list's filters and
//! scope, no paging, streamed a chunk at a time as [`crate::services::exports`] reads it.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use futures_util::stream;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::access::Endpoint;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::http::body;
use crate::routes::visits::{parse_filters, VisitQuery};
use crate::services::exports::{self, Export, ExportFormat};
use crate::state::AppState;

/// The visit list's filters without its paging: an export answers every matching visit.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// Only this ward.
    #[param(value_type = Option<uuid::Uuid>, format = Uuid)]
    pub ward_id: Option<String>,
    /// Only this street.
    #[param(value_type = Option<uuid::Uuid>, format = Uuid)]
    pub street_id: Option<String>,
    /// Only this volunteer's.
    #[param(value_type = Option<uuid::Uuid>, format = Uuid)]
    pub volunteer_id: Option<String>,
    /// Only this outcome.
    #[param(value_type = Option<crate::model::OutcomeName>)]
    pub outcome: Option<String>,
    /// Only this review state (`pending` matches visits never reviewed).
    #[param(value_type = Option<crate::model::ReviewName>)]
    pub review: Option<String>,
    /// Include deleted visits.
    #[param(value_type = Option<bool>)]
    pub include_deleted: Option<String>,
}

impl ExportQuery {
    fn filters(&self) -> VisitQuery {
        VisitQuery {
            ward_id: self.ward_id.clone(),
            street_id: self.street_id.clone(),
            volunteer_id: self.volunteer_id.clone(),
            outcome: self.outcome.clone(),
            review: self.review.clone(),
            page_size: None,
            page_token: None,
            include_deleted: self.include_deleted.clone(),
        }
    }
}

/// Judges the request (role, campaign, filters, scope) before the answer starts, so every
/// refusal is an ordinary problem answer; then streams.
async fn export(
    caller: Caller,
    state: web::Data<AppState>,
    campaign: &str,
    query: &ExportQuery,
    format: ExportFormat,
) -> ApiResult<HttpResponse> {
    caller.permit(Endpoint::ReadVisits)?;
    let scope = caller.scope()?;
    let campaign_id = body::path_id(campaign, "campaign")?;
    let filters = parse_filters(&query.filters())?;
    let export = state
        .db
        .read(move |conn| exports::start(conn, &scope, campaign_id.into(), &filters, format))
        .await?;
    let content_type = match format {
        ExportFormat::Csv => "text/csv; charset=utf-8",
        ExportFormat::GeoJson => "application/geo+json",
    };
    // Pulled by the client: the next chunk is read only when the last one has gone out,
    // so memory holds one chunk whatever the export's size.
    let chunks = stream::unfold(Some((export, state)), |next| async move {
        let (export, state) = next?;
        if export.is_done() {
            return None;
        }
        let db = state.db.clone();
        let read = db
            .read(move |conn| {
                let mut export: Export = export;
                let text = export.next_chunk(conn)?;
                Ok((text, export))
            })
            .await;
        match read {
            Ok((text, export)) => Some((
                Ok::<_, ApiError>(web::Bytes::from(text)),
                Some((export, state)),
            )),
            Err(err) => {
                // The status line has gone out: all that is left is to cut the answer
                // short, so that a client never takes a partial export for a whole one.
                tracing::error!(error = %err, "export stopped");
                Some((Err(err), None))
            }
        }
    });
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .streaming(chunks))
}

/// Every visit matching the filters as CSV, newest first.
#[utoipa::path(get, path = "/api/v1/campaigns/{cid}/visits.csv", operation_id = "exportVisitsCsv", tag = "visits",
    params(("cid" = uuid::Uuid, Path, description = "Campaign id"), ExportQuery),
    responses((status = 200, content_type = "text/csv", body = String),
              (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem),
              (status = 422, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn visits_csv(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<ExportQuery>,
) -> ApiResult<HttpResponse> {
    export(caller, state, &path, &query, ExportFormat::Csv).await
}

/// Every visit matching the filters that has a position, as a GeoJSON FeatureCollection.
#[utoipa::path(get, path = "/api/v1/campaigns/{cid}/visits.geojson", operation_id = "exportVisitsGeojson", tag = "visits",
    params(("cid" = uuid::Uuid, Path, description = "Campaign id"), ExportQuery),
    responses((status = 200, content_type = "application/geo+json", body = Object),
              (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem),
              (status = 422, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn visits_geojson(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<ExportQuery>,
) -> ApiResult<HttpResponse> {
    export(caller, state, &path, &query, ExportFormat::GeoJson).await
}
