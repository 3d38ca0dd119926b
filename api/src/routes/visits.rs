//! Visit list, history and review (contract section 8).

use std::collections::HashMap;

use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sync_protocol::{Change, FieldName, Kind, Outcome, PushStatus, Review, Stamped};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::access::{Endpoint, Grant};
use crate::auth::Caller;
use crate::db::campaigns::CampaignRow;
use crate::db::records::RecordRow;
use crate::db::visit_list::{self, VisitFilter};
use crate::db::{areas, history, records, streets, DbConn};
use crate::error::{ApiError, ApiResult};
use crate::http::body;
use crate::model::{rfc3339_ms, AreaId, RecordId, StreetId, UserId};
use crate::routes::campaigns::load as load_campaign;
use crate::state::{AppState, SERVER_NODE};
use crate::sync::ingest::{ingest, Writer};

/// A visit as the review screens show it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Visit {
    /// Id.
    pub id: Uuid,
    /// Street.
    pub street_id: Uuid,
    /// Household.
    pub household_id: Uuid,
    /// The household's number.
    pub house_number: Option<String>,
    /// Who logged it.
    pub volunteer_id: Option<Uuid>,
    /// Outcome.
    pub outcome: Option<String>,
    /// Smartphone users; null when never written (not asked is not zero).
    pub smartphone_users: Option<u32>,
    /// App users; null when never written.
    pub app_users: Option<u32>,
    /// When, as pushed.
    pub visited_at: Option<String>,
    /// Free text (never names, phone or ID numbers).
    pub note: Option<String>,
    /// `pending`, `verified` or `rejected`.
    pub review: String,
    /// The reviewer's note.
    pub review_note: Option<String>,
    /// Tombstoned.
    pub deleted: bool,
    /// Two or more devices wrote its fields.
    pub conflict: bool,
}

/// A page of visits.
#[derive(Debug, Serialize, ToSchema)]
pub struct VisitPage {
    /// Visits, newest `visited_at` first.
    pub items: Vec<Visit>,
    /// Pass back as `page_token` for the next page; null on the last.
    pub next_page_token: Option<String>,
}

/// Filters of the visit list.
#[derive(Debug, Deserialize, IntoParams)]
pub struct VisitQuery {
    /// Only this ward.
    pub ward_id: Option<String>,
    /// Only this street.
    pub street_id: Option<String>,
    /// Only this volunteer's.
    pub volunteer_id: Option<String>,
    /// Only this outcome.
    pub outcome: Option<String>,
    /// Only this review state (`pending` matches visits never reviewed).
    pub review: Option<String>,
    /// 1–1000, default 100.
    pub page_size: Option<String>,
    /// From the previous page.
    pub page_token: Option<String>,
    /// Include deleted visits.
    pub include_deleted: Option<String>,
}

/// One history entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryEntry {
    /// Field name.
    pub field: String,
    /// The pushed value.
    #[schema(value_type = Object)]
    pub value: Value,
    /// Its HLC.
    pub hlc: String,
    /// Pushing device (`server` for reviews).
    pub device_id: String,
    /// Pushing user.
    pub user_id: Uuid,
    /// When the server received it.
    pub received_at: String,
    /// Whether it is the field's current value.
    pub won: bool,
}

/// Body of a review.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ReviewRequest {
    /// `verified` or `rejected`.
    #[schema(value_type = String)]
    pub review: Review,
    /// Stored as the visit's `review_note` (≤ 500 characters); absent leaves the note as it
    /// is, `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub note: Option<Option<String>>,
}

/// Tells a `null` apart from an absent key: `Some(None)` for `null`.
fn present<'de, D>(deserializer: D) -> Result<Option<Option<String>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    Option::<String>::deserialize(deserializer).map(Some)
}

/// A count of a visit: `None` when never written. A stored count is an integer 0–50 (push
/// validates it), so anything else is an error, never a number made up.
fn count(row: &RecordRow, field: FieldName) -> ApiResult<Option<u32>> {
    row.state
        .value(field)
        .map(|value| {
            value
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| {
                    ApiError::internal(format!(
                        "visit {}: {} is {value}, not a count",
                        row.id,
                        field.as_str()
                    ))
                })
        })
        .transpose()
}

fn visit_of(
    row: &RecordRow,
    house_numbers: &HashMap<RecordId, Option<String>>,
) -> ApiResult<Visit> {
    // Stored visits decode with their household (see `db::records`); a household row that
    // is gone would be a broken reference, reported rather than shown without its number.
    let missing = |what: &str| ApiError::internal(format!("visit {}: no {what}", row.id));
    let household = row.household_id.ok_or_else(|| missing("household_id"))?;
    let house_number = house_numbers
        .get(&household)
        .ok_or_else(|| missing("stored household"))?
        .clone();
    let state = &row.state;
    Ok(Visit {
        id: row.id.uuid(),
        street_id: row.street_id.uuid(),
        household_id: household.uuid(),
        house_number,
        volunteer_id: row.volunteer_id.map(UserId::uuid),
        outcome: state.outcome().map(|o| o.as_str().to_owned()),
        smartphone_users: count(row, FieldName::SmartphoneUsers)?,
        app_users: count(row, FieldName::AppUsers)?,
        visited_at: state.visited_at_text().map(str::to_owned),
        note: state.note().map(str::to_owned),
        review: state.review().as_str().to_owned(),
        review_note: state.review_note().map(str::to_owned),
        deleted: state.deleted(),
        conflict: row.conflict,
    })
}

fn visits_of(conn: &mut DbConn, rows: &[RecordRow]) -> ApiResult<Vec<Visit>> {
    let households: Vec<RecordId> = rows.iter().filter_map(|r| r.household_id).collect();
    let numbers: HashMap<RecordId, Option<String>> = visit_list::house_numbers(conn, &households)?
        .into_iter()
        .collect();
    rows.iter().map(|row| visit_of(row, &numbers)).collect()
}

fn encode_token(us: i64, id: RecordId) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{us}|{id}"))
}

fn decode_token(token: &str) -> ApiResult<(i64, RecordId)> {
    let bad = || ApiError::validation("page_token is not one this server gave");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (us, id) = text.split_once('|').ok_or_else(bad)?;
    Ok((
        us.parse().map_err(|_| bad())?,
        Uuid::parse_str(id).map_err(|_| bad())?.into(),
    ))
}

/// Loads a visit of the campaign named in a path and checks the caller may see it.
fn visible_visit(
    conn: &mut DbConn,
    caller: &Caller,
    grant: Grant,
    campaign: &CampaignRow,
    id: RecordId,
) -> ApiResult<RecordRow> {
    let row = records::find(conn, id)?
        .filter(|r| r.kind == Kind::Visit && r.campaign_id == Some(campaign.id))
        .ok_or_else(|| ApiError::not_found("visit"))?;
    match grant {
        Grant::OwnRecords => {
            if row.volunteer_id != Some(caller.id) {
                return Err(ApiError::forbidden("a volunteer sees only its own visits"));
            }
        }
        _ => caller.require_area(conn, row.ward_id)?,
    }
    Ok(row)
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

fn parse_page_size(text: Option<&str>) -> ApiResult<i64> {
    match text {
        None | Some("") => Ok(100),
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| ApiError::validation("page_size must be an integer from 1 to 1000")),
    }
}

/// List a campaign's visits, newest first.
#[utoipa::path(get, path = "/api/v1/campaigns/{cid}/visits", tag = "visits", params(VisitQuery),
    responses((status = 200, body = VisitPage)), security(("bearer" = [])))]
pub async fn list(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<VisitQuery>,
) -> ApiResult<HttpResponse> {
    let grant = caller.permit(Endpoint::ReadVisits)?;
    let campaign_id = body::path_id(&path, "campaign")?;
    let query = query.into_inner();
    let ward: Option<AreaId> =
        body::query_id(query.ward_id.as_deref(), "ward_id")?.map(AreaId::from);
    let street: Option<StreetId> =
        body::query_id(query.street_id.as_deref(), "street_id")?.map(StreetId::from);
    let volunteer: Option<UserId> =
        body::query_id(query.volunteer_id.as_deref(), "volunteer_id")?.map(UserId::from);
    let page_size = parse_page_size(query.page_size.as_deref())?;
    let include_deleted = parse_bool(query.include_deleted.as_deref(), "include_deleted")?;
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
    let after = query
        .page_token
        .as_deref()
        .filter(|t| !t.is_empty())
        .map(decode_token)
        .transpose()?;
    let page = state
        .db
        .read(move |conn| {
            let campaign = load_campaign(conn, campaign_id)?;
            let mut filter = VisitFilter {
                outcome,
                review,
                include_deleted,
                after,
                ..VisitFilter::new(campaign.id)
            };
            // A ward or street filter must lie in the caller's scope, a volunteer's included
            // (its ward): a known id outside it is 403 (§2), not an empty list.
            if let Some(ward) = ward {
                let ward = areas::find(conn, ward)?.ok_or_else(|| ApiError::not_found("ward"))?;
                caller.require_area(conn, ward.id)?;
                filter.wards = Some(areas::wards_within(conn, ward.id)?);
            } else if grant == Grant::OwnArea {
                let own = caller
                    .area_id()
                    .ok_or_else(|| ApiError::internal("an area-scoped caller without an area"))?;
                filter.wards = Some(areas::wards_within(conn, own)?);
            }
            if let Some(street) = street {
                let street =
                    streets::find(conn, street)?.ok_or_else(|| ApiError::not_found("street"))?;
                caller.require_area(conn, street.ward_id)?;
                filter.street_id = Some(street.id);
            }
            filter.volunteer_id = match grant {
                Grant::OwnRecords => {
                    if volunteer.is_some_and(|v| v != caller.id) {
                        return Err(ApiError::forbidden("a volunteer sees only its own visits"));
                    }
                    Some(caller.id)
                }
                _ => volunteer,
            };
            // page_size is 1–1000 (parse_page_size), so these conversions cannot fail.
            let page_len = usize::try_from(page_size).map_err(ApiError::internal)?;
            let mut rows = visit_list::page(conn, &filter, page_size + 1)?;
            let more = rows.len() > page_len;
            rows.truncate(page_len);
            let next_page_token = match (more, rows.last()) {
                (true, Some(last)) => {
                    // Stored visits decode with their ordering key (see `db::records`).
                    let us = last.visited_at_us.ok_or_else(|| {
                        ApiError::internal(format!("visit {}: no visited_at_us", last.id))
                    })?;
                    Some(encode_token(us, last.id))
                }
                _ => None,
            };
            Ok(VisitPage {
                items: visits_of(conn, &rows)?,
                next_page_token,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Every value ever pushed for a visit's fields, won or lost.
#[utoipa::path(get, path = "/api/v1/campaigns/{cid}/visits/{id}/history", tag = "visits",
    responses((status = 200, body = crate::model::Items<HistoryEntry>), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn history_of(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let grant = caller.permit(Endpoint::ReadVisits)?;
    let (campaign_text, id_text) = path.into_inner();
    let campaign_id = body::path_id(&campaign_text, "campaign")?;
    let id = body::path_id(&id_text, "visit")?;
    let items = state
        .db
        .read(move |conn| {
            let campaign = load_campaign(conn, campaign_id)?;
            let row = visible_visit(conn, &caller, grant, &campaign, id.into())?;
            let entries = history::of_record(conn, row.id)?;
            let items: Vec<HistoryEntry> = entries
                .into_iter()
                .map(|entry| {
                    // The entry holding the field's current value and HLC (both sides are in
                    // canonical form, so values compare as they are stored).
                    let won = row
                        .state
                        .get(entry.field)
                        .is_some_and(|s: &Stamped| s.hlc == entry.hlc && s.value == entry.value);
                    HistoryEntry {
                        field: entry.field.as_str().to_owned(),
                        value: entry.value,
                        hlc: entry.hlc.to_string(),
                        device_id: entry.device_id,
                        user_id: entry.user_id.uuid(),
                        received_at: rfc3339_ms(entry.received_at),
                        won,
                    }
                })
                .collect();
            Ok(items)
        })
        .await?;
    Ok(HttpResponse::Ok().json(crate::model::Items { items }))
}

/// Verify or reject a visit: an ordinary field change stamped with the server's HLC.
#[utoipa::path(post, path = "/api/v1/campaigns/{cid}/visits/{id}/review", tag = "visits",
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
    let grant = caller.permit(Endpoint::Review)?;
    let (campaign_text, id_text) = path.into_inner();
    let campaign_id = body::path_id(&campaign_text, "campaign")?;
    let id = body::path_id(&id_text, "visit")?;
    let caller2 = caller.clone();
    let (campaign, row) = state
        .db
        .read(move |conn| {
            let campaign = load_campaign(conn, campaign_id)?;
            let row = visible_visit(conn, &caller2, grant, &campaign, id.into())?;
            Ok((campaign, row))
        })
        .await?;
    let request: ReviewRequest = body::read_json(&req, payload).await?;
    if request.review == Review::Pending {
        return Err(ApiError::validation("review must be verified or rejected"));
    }
    let hlc = state.tick();
    let mut fields = std::collections::BTreeMap::new();
    fields.insert(
        FieldName::Review,
        Stamped::new(
            Value::String(request.review.as_str().to_owned()),
            hlc.clone(),
        ),
    );
    if let Some(note) = request.note {
        let note = note.map_or(Value::Null, Value::String);
        fields.insert(FieldName::ReviewNote, Stamped::new(note, hlc.clone()));
    }
    let change = Change::new(
        Kind::Visit,
        id,
        row.street_id.uuid(),
        row.household_id.map(RecordId::uuid),
        &fields,
    );
    let writer = Writer {
        user_id: caller.id,
        role: caller.role,
        area_id: caller.area_id(),
        device_id: SERVER_NODE.to_owned(),
    };
    let visit = state
        .db
        .write(move |conn| {
            let done = ingest(conn, Some(&campaign), &writer, &[change])?;
            if let Some(result) = done.results.first() {
                if result.status == PushStatus::Rejected {
                    return Err(ApiError::validation(
                        result.message.clone().unwrap_or_default(),
                    ));
                }
            }
            let row =
                records::find(conn, id.into())?.ok_or_else(|| ApiError::not_found("visit"))?;
            visits_of(conn, std::slice::from_ref(&row))?
                .into_iter()
                .next()
                .ok_or_else(|| ApiError::not_found("visit"))
        })
        .await?;
    state.witness(&hlc);
    Ok(HttpResponse::Ok().json(visit))
}
