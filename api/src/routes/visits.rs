//! Visit list, history and review (contract section 8): thin handlers over
//! [`crate::services::visits`] and [`crate::services::history`].

use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine;
use serde::Deserialize;
use sync_protocol::{Outcome, Review};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::access::Endpoint;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::http::body;
use crate::model::{AreaId, RecordId, StreetId, UserId};
pub use crate::services::history::HistoryEntry;
pub use crate::services::visits::Visit;
use crate::services::visits::{self, ReviewInput, VisitCursor, VisitFilters};
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

/// The `page_token` that continues after `cursor` (the dashboard's pages use it too).
pub fn encode_token(cursor: VisitCursor) -> String {
    let VisitCursor {
        visited_at_us: us,
        id,
    } = cursor;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{us}|{id}"))
}

/// The cursor of a `page_token` (422 for one this server did not give).
pub fn decode_token(token: &str) -> ApiResult<VisitCursor> {
    let bad = || ApiError::validation("page_token is not one this server gave");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (us, id) = text.split_once('|').ok_or_else(bad)?;
    Ok(VisitCursor {
        visited_at_us: us.parse().map_err(|_| bad())?,
        id: Uuid::parse_str(id).map_err(|_| bad())?.into(),
    })
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
    let after = query
        .page_token
        .as_deref()
        .filter(|t| !t.is_empty())
        .map(decode_token)
        .transpose()?;
    let page = state
        .db
        .read(move |conn| {
            visits::visit_page(conn, &scope, campaign_id.into(), &filters, page_size, after)
        })
        .await?;
    Ok(HttpResponse::Ok().json(VisitPage {
        items: page.items,
        next_page_token: page.next.map(encode_token),
    }))
}

/// Every value ever pushed for a visit's fields, won or lost.
#[utoipa::path(get, path = "/api/v1/campaigns/{cid}/visits/{id}/history", operation_id = "getVisitHistory",
    params(("cid" = Uuid, Path, description = "Campaign id"), ("id" = Uuid, Path, description = "Visit id")), tag = "visits",
    responses((status = 200, body = crate::model::Items<HistoryEntry>), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn history_of(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    caller.permit(Endpoint::ReadVisits)?;
    let scope = caller.scope()?;
    let (campaign_text, id_text) = path.into_inner();
    let campaign_id = body::path_id(&campaign_text, "campaign")?;
    let id: RecordId = body::path_id(&id_text, "visit")?.into();
    let items = state
        .db
        .read(move |conn| svc::history::history_of(conn, &scope, campaign_id.into(), id))
        .await?;
    Ok(HttpResponse::Ok().json(crate::model::Items { items }))
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
