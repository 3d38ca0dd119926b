//! Coverage, `coverage.csv` and progress (contract section 9), served from the counters.

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sync_protocol::VisitFacts;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::access::Endpoint;
use crate::auth::Caller;
use crate::db::areas::{self, AreaRow};
use crate::db::campaigns::CampaignRow;
use crate::db::{counters, progress_visits, DbConn};
use crate::error::{ApiError, ApiResult};
use crate::http::body;
use crate::model::{date_in_range, AreaId, Level, RecordId};
use crate::routes::campaigns::load as load_campaign;
use crate::state::AppState;
use crate::sync::figures::{roll_up, Coverage, Figures};
use crate::sync::progress::{ratio, Timeline};

/// Most dates one progress answer holds.
const MAX_PROGRESS_DAYS: u64 = 366;

/// The area a coverage query is about.
#[derive(Debug, Deserialize, IntoParams)]
pub struct AreaQuery {
    /// Default: the campaign's own area.
    pub area_id: Option<String>,
}

/// Range of a progress query.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ProgressQuery {
    /// Default: the campaign's own area.
    pub area_id: Option<String>,
    /// First date (default `starts_on`).
    pub from: Option<String>,
    /// Last date (default today in the campaign's time zone).
    pub to: Option<String>,
}

/// One date of progress.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProgressItem {
    /// Local date.
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    /// Reached households at the end of it.
    pub households_reached: i64,
    /// Smartphone users.
    pub smartphone_users: i64,
    /// App users.
    pub app_users: i64,
    /// Their ratio, null when 0.
    pub coverage: Option<f64>,
}

/// Answer of the progress query.
#[derive(Debug, Serialize, ToSchema)]
pub struct Progress {
    /// One item per date.
    pub items: Vec<ProgressItem>,
    /// The campaign's target.
    pub target_ratio: f64,
    /// The campaign's deadline.
    #[schema(value_type = String, format = Date)]
    pub deadline: NaiveDate,
    /// When the target is (or was) reached at the recent daily gain.
    #[schema(value_type = Option<String>, format = Date)]
    pub projected_date: Option<NaiveDate>,
}

/// Resolves and authorises the area of a coverage query: 404 unknown, 403 outside the
/// caller's scope, 422 outside the campaign.
fn target_area(
    conn: &mut DbConn,
    caller: &Caller,
    campaign: &CampaignRow,
    area: Option<Uuid>,
) -> ApiResult<AreaRow> {
    let id = area.map_or(campaign.area_id, AreaId::from);
    let area = areas::find(conn, id)?.ok_or_else(|| ApiError::not_found("area"))?;
    caller.require_area(conn, area.id)?;
    if !areas::is_within(conn, area.id, campaign.area_id)? {
        return Err(ApiError::validation(
            "the area is outside the campaign's area",
        ));
    }
    Ok(area)
}

/// The area's coverage and its children's.
fn coverage_tree(conn: &mut DbConn, campaign: &CampaignRow, area: &AreaRow) -> ApiResult<Coverage> {
    let subtree = areas::subtree(conn, area.id)?;
    let wards: Vec<AreaId> = subtree
        .iter()
        .filter(|a| a.level == Level::Ward)
        .map(|a| a.id)
        .collect();
    let households: HashMap<AreaId, i64> =
        counters::households_of(conn, &wards)?.into_iter().collect();
    let ward_counters: HashMap<AreaId, counters::WardCounts> =
        counters::coverage_of(conn, campaign.id, &wards)?
            .into_iter()
            .map(|row| (row.ward_id, row.counts))
            .collect();
    let figures = roll_up(&subtree, &households, &ward_counters);
    let empty = Figures::default();
    let mut top = Coverage::of(
        area,
        figures.get(&area.id).unwrap_or(&empty),
        campaign.target_ratio,
    );
    let mut children: Vec<&AreaRow> = subtree
        .iter()
        .filter(|a| a.parent_id == Some(area.id))
        .collect();
    children.sort_by(|a, b| a.code.cmp(&b.code));
    top.children = Some(
        children
            .into_iter()
            .map(|child| {
                Coverage::of(
                    child,
                    figures.get(&child.id).unwrap_or(&empty),
                    campaign.target_ratio,
                )
            })
            .collect(),
    );
    Ok(top)
}

/// The coverage tree a coverage request asks for, judged 403 → 404 → 403 (scope) → 422.
async fn load_tree(
    caller: Caller,
    state: &AppState,
    campaign: &str,
    query: &AreaQuery,
) -> ApiResult<Coverage> {
    caller.permit(Endpoint::ReadCoverage)?;
    let campaign_id = body::path_id(campaign, "campaign")?;
    let area = body::query_id(query.area_id.as_deref(), "area_id")?;
    state
        .db
        .read(move |conn| {
            let campaign = load_campaign(conn, campaign_id)?;
            let area = target_area(conn, &caller, &campaign, area)?;
            coverage_tree(conn, &campaign, &area)
        })
        .await
}

/// Coverage of an area and its children.
#[utoipa::path(get, path = "/api/v1/campaigns/{cid}/coverage", tag = "coverage", params(AreaQuery),
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

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// Coverage of an area's children as CSV, one row per child.
#[utoipa::path(get, path = "/api/v1/campaigns/{cid}/coverage.csv", tag = "coverage", params(AreaQuery),
    responses((status = 200, content_type = "text/csv", body = String)),
    security(("bearer" = [])))]
pub async fn coverage_csv(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<AreaQuery>,
) -> ApiResult<HttpResponse> {
    let tree = load_tree(caller, &state, &path, &query).await?;
    let mut out = String::from(
        "code,name,level,households_total,households_attempted,households_reached,smartphone_users,app_users,coverage,target_met\n",
    );
    // One row per child, as the JSON's `children`: a ward's CSV is its header alone.
    for row in tree.children.unwrap_or_default() {
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{}\n",
            csv_field(&row.code),
            csv_field(&row.name),
            row.level.as_str(),
            row.households_total,
            row.households_attempted,
            row.households_reached,
            row.smartphone_users,
            row.app_users,
            row.coverage.map(|c| c.to_string()).unwrap_or_default(),
            row.target_met
        ));
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
#[utoipa::path(get, path = "/api/v1/campaigns/{cid}/progress", tag = "coverage", params(ProgressQuery),
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
    let area = body::query_id(query.area_id.as_deref(), "area_id")?;
    let from = parse_date(query.from.as_deref(), "from")?;
    let to = parse_date(query.to.as_deref(), "to")?;
    let progress = state
        .db
        .read(move |conn| {
            let campaign = load_campaign(conn, campaign_id)?;
            let area = target_area(conn, &caller, &campaign, area)?;
            let tz = campaign.timezone;
            let today = chrono::Utc::now().with_timezone(&tz).date_naive();
            let starts_on = campaign.starts_on;
            let explicit = from.is_some() || to.is_some();
            let to = to.unwrap_or(today);
            // A default `from` never makes the span too long: an old campaign's progress
            // without parameters is its last 366 days. `to` is within the years 1–9999, so
            // going back a year cannot leave the calendar.
            let from = match from {
                Some(from) => from,
                None => to
                    .checked_sub_days(chrono::Days::new(MAX_PROGRESS_DAYS - 1))
                    .ok_or_else(|| ApiError::internal(format!("{to} minus a year")))?
                    .max(starts_on),
            };
            if from > to && explicit {
                return Err(ApiError::validation("from is after to"));
            }
            if (to - from).num_days() >= MAX_PROGRESS_DAYS as i64 {
                return Err(ApiError::validation("progress spans at most 366 days"));
            }
            let wards = areas::wards_within(conn, area.id)?;
            let visits: Vec<(RecordId, VisitFacts)> =
                progress_visits::live(conn, campaign.id, &wards)?;
            let timeline = Timeline::build(visits, tz);
            let items = from
                .iter_days()
                .take_while(|d| *d <= to)
                .map(|date| {
                    let c = timeline.at(date);
                    ProgressItem {
                        date,
                        households_reached: c.households_reached,
                        smartphone_users: c.smartphone_users,
                        app_users: c.app_users,
                        coverage: ratio(&c),
                    }
                })
                .collect();
            Ok(Progress {
                items,
                target_ratio: campaign.target_ratio,
                deadline: campaign.deadline,
                projected_date: timeline.projected_date(today, campaign.target_ratio),
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(progress))
}
