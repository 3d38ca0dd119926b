//! Coverage, `coverage.csv` and progress (contract section 9): thin handlers over
//! [`crate::services::coverage`] and [`crate::services::progress`].

use actix_web::{web, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::access::Endpoint;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::http::body;
use crate::http::csv_out::{self, Cell};
use crate::model::{date_in_range, AreaId};
use crate::services;
pub use crate::services::progress::{DateRange, Progress, ProgressItem};
use crate::state::AppState;
use crate::sync::figures::Coverage;

/// The area a coverage query is about.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AreaQuery {
    /// Default: the campaign's own area.
    #[param(value_type = Option<Uuid>, format = Uuid)]
    pub area_id: Option<String>,
}

/// Range of a progress query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProgressQuery {
    /// Default: the campaign's own area.
    #[param(value_type = Option<Uuid>, format = Uuid)]
    pub area_id: Option<String>,
    /// First date (default `starts_on`); at most 366 days before `to`.
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<String>,
    /// Last date (default today in the campaign's time zone).
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<String>,
}

/// The coverage tree a coverage request asks for, judged 403 → 404 → 403 (scope) → 422.
async fn load_tree(
    caller: Caller,
    state: &AppState,
    campaign: &str,
    query: &AreaQuery,
) -> ApiResult<Coverage> {
    caller.permit(Endpoint::ReadCoverage)?;
    let scope = caller.scope()?;
    let campaign_id = body::path_id(campaign, "campaign")?;
    let area = body::query_id(query.area_id.as_deref(), "area_id")?.map(AreaId::from);
    state
        .db
        .read(move |conn| services::coverage::coverage(conn, &scope, campaign_id.into(), area))
        .await
}

/// Coverage of an area and its children.
#[utoipa::path(get, path = "/api/v1/campaigns/{cid}/coverage", operation_id = "getCoverage", tag = "coverage", params(("cid" = Uuid, Path, description = "Campaign id"), AreaQuery),
    responses((status = 200, body = Coverage), (status = 422, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn coverage(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<AreaQuery>,
) -> ApiResult<HttpResponse> {
    let tree = load_tree(caller, &state, &path, &query).await?;
    Ok(HttpResponse::Ok().json(tree))
}

/// Coverage of an area's children as CSV, one row per child.
#[utoipa::path(get, path = "/api/v1/campaigns/{cid}/coverage.csv", operation_id = "getCoverageCsv", tag = "coverage", params(("cid" = Uuid, Path, description = "Campaign id"), AreaQuery),
    responses((status = 200, content_type = "text/csv", body = String)),
    security(("bearer" = [])))]
pub async fn coverage_csv(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<AreaQuery>,
) -> ApiResult<HttpResponse> {
    let tree = load_tree(caller, &state, &path, &query).await?;
    let mut out = String::from(csv_out::BOM);
    csv_out::push_header(
        &mut out,
        &[
            "code",
            "name",
            "level",
            "households_total",
            "households_attempted",
            "households_reached",
            "smartphone_users",
            "app_users",
            "coverage",
            "target_met",
        ],
    );
    // One row per child, as the JSON's `children`: a ward's CSV is its header alone.
    for row in tree.children.unwrap_or_default() {
        csv_out::push_row(
            &mut out,
            &[
                Cell::Text(&row.code),
                Cell::Text(&row.name),
                Cell::Text(row.level.as_str()),
                Cell::number(Some(row.households_total)),
                Cell::number(Some(row.households_attempted)),
                Cell::number(Some(row.households_reached)),
                Cell::number(Some(row.smartphone_users)),
                Cell::number(Some(row.app_users)),
                Cell::number(row.coverage),
                Cell::Bool(row.target_met),
            ],
        );
    }
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .body(out))
}

fn parse_date(text: Option<&str>, name: &str) -> ApiResult<Option<NaiveDate>> {
    let bad = || {
        ApiError::validation(format!(
            "{name} must be a date (YYYY-MM-DD) in the years 1 to 9999"
        ))
    };
    match text {
        None | Some("") => Ok(None),
        Some(text) => {
            let date: NaiveDate = text.parse().map_err(|_| bad())?;
            if date_in_range(date) {
                Ok(Some(date))
            } else {
                Err(bad())
            }
        }
    }
}

/// Coverage per local date, and when the target will be met at the recent pace.
#[utoipa::path(get, path = "/api/v1/campaigns/{cid}/progress", operation_id = "getProgress", tag = "coverage", params(("cid" = Uuid, Path, description = "Campaign id"), ProgressQuery),
    responses((status = 200, body = Progress), (status = 422, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn progress(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<ProgressQuery>,
) -> ApiResult<HttpResponse> {
    caller.permit(Endpoint::ReadCoverage)?;
    let campaign_id = body::path_id(&path, "campaign")?;
    let area = body::query_id(query.area_id.as_deref(), "area_id")?.map(AreaId::from);
    let from = parse_date(query.from.as_deref(), "from")?;
    let to = parse_date(query.to.as_deref(), "to")?;
    let scope = caller.scope()?;
    let progress = state
        .db
        .read(move |conn| {
            services::progress::progress(
                conn,
                &scope,
                campaign_id.into(),
                area,
                DateRange { from, to },
            )
        })
        .await?;
    Ok(HttpResponse::Ok().json(progress))
}
