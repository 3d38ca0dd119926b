//! Visit list, history and review (contract section 8): thin handlers over
//! [`crate::services::visits`] and [`crate::services::history`].

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use sync_protocol::{Outcome, Review};
use utoipa::{IntoParams, ToSchema};

use crate::access::Endpoint;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::http::body;
use crate::model::{AreaId, CampaignId, RecordId, StreetId, UserId};
pub use crate::services::history::HistoryEntry;
pub use crate::services::visits::Visit;
use crate::services::visits::{self, ReviewInput, VisitFilters};
use crate::services::{self as svc};
use crate::state::AppState;

/// A page of visits.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct VisitPage {
    /// Visits, newest `visited_at` first.
    pub items: Vec<Visit>,
    /// Pass back as `page_token` for the next page; null on the last.
    pub next_page_token: Option<String>,
}

/// A page of a visit's history.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct HistoryPageBody {
    /// Entries, oldest `received_at` first.
    pub items: Vec<HistoryEntry>,
    /// Pass back as `page_token` for the next page; null on the last.
    pub next_page_token: Option<String>,
}

/// Paging of a visit's history.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// 1–1000, default 100.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    pub page_size: Option<String>,
    /// From the previous page.
    pub page_token: Option<String>,
}

/// Filters of the visit list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VisitQuery {
    /// Only this ward.
    #[param(value_type = Option<Uuid>, format = Uuid)]
    pub ward_id: Option<String>,
    /// Only this street.
    #[param(value_type = Option<Uuid>, format = Uuid)]
    pub street_id: Option<String>,
    /// Only this volunteer's.
    #[param(value_type = Option<Uuid>, format = Uuid)]
    pub volunteer_id: Option<String>,
    /// Only this outcome.
    #[param(value_type = Option<crate::model::OutcomeName>)]
    pub outcome: Option<String>,
    /// Only this review state (`pending` matches visits never reviewed).
    #[param(value_type = Option<crate::model::ReviewName>)]
    pub review: Option<String>,
    /// 1–1000, default 100.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    pub page_size: Option<String>,
    /// From the previous page.
    pub page_token: Option<String>,
    /// Include deleted visits.
    #[param(value_type = Option<bool>)]
    pub include_deleted: Option<String>,
}

/// Body of a review.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ReviewRequest {
    /// The verdict.
    #[schema(value_type = crate::model::Verdict)]
    pub review: Review,
    /// Stored as the visit's `review_note` (≤ 500 characters); absent leaves the note as it
    /// is, `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, max_length = 500)]
    pub note: Option<Option<String>>,
}

/// Tells a `null` apart from an absent key: `Some(None)` for `null`.
fn present<'de, D>(deserializer: D) -> Result<Option<Option<String>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    Option::<String>::deserialize(deserializer).map(Some)
}

fn parse_bool(text: Option<&str>, name: &str) -> ApiResult<bool> {
    match text {
        None | Some("") | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(ApiError::validation(format!(
            "{name} must be true or false"
        ))),
    }
}

/// `page_size`: 1–1000, default 100 (422 otherwise).
pub fn parse_page_size(text: Option<&str>) -> ApiResult<i64> {
    match text {
        None | Some("") => Ok(100),
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| ApiError::validation("page_size must be an integer from 1 to 1000")),
    }
}

/// The filters of a visit list or export query, parsed (422 for a malformed one).
pub fn parse_filters(query: &VisitQuery) -> ApiResult<VisitFilters> {
    let outcome = match query.outcome.as_deref() {
        None | Some("") => None,
        Some(text) => Some(
            text.parse::<Outcome>()
                .map_err(|_| ApiError::validation("unknown outcome"))?,
        ),
    };
    let review = match query.review.as_deref() {
        None | Some("") => None,
        Some(text) => Some(
            text.parse::<Review>()
                .map_err(|_| ApiError::validation("unknown review"))?,
        ),
    };
    Ok(VisitFilters {
        ward: body::query_id(query.ward_id.as_deref(), "ward_id")?.map(AreaId::from),
        street: body::query_id(query.street_id.as_deref(), "street_id")?.map(StreetId::from),
        volunteer: body::query_id(query.volunteer_id.as_deref(), "volunteer_id")?.map(UserId::from),
        outcome,
        review,
        include_deleted: parse_bool(query.include_deleted.as_deref(), "include_deleted")?,
    })
}

/// List a campaign's visits, newest first.
#[utoipa::path(get, path = "/api/v1/campaigns/{cid}/visits", operation_id = "listVisits", tag = "visits", params(("cid" = Uuid, Path, description = "Campaign id"), VisitQuery),
    responses((status = 200, body = VisitPage)), security(("bearer" = [])))]
pub async fn list(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<VisitQuery>,
) -> ApiResult<HttpResponse> {
    caller.permit(Endpoint::ReadVisits)?;
    let scope = caller.scope()?;
    let campaign_id = body::path_id(&path, "campaign")?;
    let query = query.into_inner();
    let filters = parse_filters(&query)?;
    let page_size = parse_page_size(query.page_size.as_deref())?;
    let campaign_id = CampaignId::from(campaign_id);
    let after = query
        .page_token
        .as_deref()
        .filter(|t| !t.is_empty())
        .map(|token| state.page_tokens.open_visits(campaign_id, token))
        .transpose()?;
    let page = state
        .db
        .read(move |conn| visits::visit_page(conn, &scope, campaign_id, &filters, page_size, after))
        .await?;
    Ok(HttpResponse::Ok().json(VisitPage {
        items: page.items,
        next_page_token: page
            .next
            .map(|cursor| state.page_tokens.visits(campaign_id, cursor)),
    }))
}

/// Every value ever pushed for a visit's fields, won or lost, oldest first, a page at a
/// time.
#[utoipa::path(get, path = "/api/v1/campaigns/{cid}/visits/{id}/history", operation_id = "getVisitHistory",
    params(("cid" = Uuid, Path, description = "Campaign id"), ("id" = Uuid, Path, description = "Visit id"), HistoryQuery), tag = "visits",
    responses((status = 200, body = HistoryPageBody), (status = 404, body = crate::error::Problem),
              (status = 422, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn history_of(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    query: web::Query<HistoryQuery>,
) -> ApiResult<HttpResponse> {
    caller.permit(Endpoint::ReadVisits)?;
    let scope = caller.scope()?;
    let (campaign_text, id_text) = path.into_inner();
    let campaign_id = body::path_id(&campaign_text, "campaign")?;
    let id: RecordId = body::path_id(&id_text, "visit")?.into();
    let page_size = parse_page_size(query.page_size.as_deref())?;
    let after = query
        .page_token
        .as_deref()
        .filter(|t| !t.is_empty())
        .map(|token| state.page_tokens.open_history(id, token))
        .transpose()?;
    let page = state
        .db
        .read(move |conn| {
            svc::history::history_page(conn, &scope, campaign_id.into(), id, page_size, after)
        })
        .await?;
    Ok(HttpResponse::Ok().json(HistoryPageBody {
        items: page.items,
        next_page_token: page.next.map(|after| state.page_tokens.history(id, after)),
    }))
}

/// Verify or reject a visit: an ordinary field change stamped with the server's HLC.
#[utoipa::path(post, path = "/api/v1/campaigns/{cid}/visits/{id}/review", operation_id = "reviewVisit",
    params(("cid" = Uuid, Path, description = "Campaign id"), ("id" = Uuid, Path, description = "Visit id")), tag = "visits",
    request_body = ReviewRequest,
    responses((status = 200, body = Visit), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn review(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    caller.permit(Endpoint::Review)?;
    let scope = caller.scope()?;
    let (campaign_text, id_text) = path.into_inner();
    let campaign_id = body::path_id(&campaign_text, "campaign")?;
    let id: RecordId = body::path_id(&id_text, "visit")?.into();
    // Ids and scope are judged before the body (section 2).
    state
        .db
        .read(move |conn| visits::visit(conn, &scope, campaign_id.into(), id))
        .await?;
    let request: ReviewRequest = body::read_json(&req, payload).await?;
    if request.review == Review::Pending {
        return Err(ApiError::validation("review must be verified or rejected"));
    }
    let input = ReviewInput {
        review: request.review,
        note: request.note,
    };
    let clock = state.clone();
    let (visit, _) = state
        .db
        .write(move |conn| {
            visits::review(conn, &scope, campaign_id.into(), id, input, |stored| {
                clock.tick_above(stored)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(visit))
}
