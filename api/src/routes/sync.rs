//! `POST /sync/push` and `POST /sync/pull` (contract section 6).

use std::collections::{BTreeMap, HashSet};

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sync_protocol::{Change, Hlc, PulledRecord, PushResult};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::access::{Endpoint, Grant};
use crate::auth::Caller;
use crate::db::campaigns::CampaignRow;
use crate::db::records::RecordRow;
use crate::db::streets::StreetRow;
use crate::db::{areas, assignments, records, streets, DbConn};
use crate::error::{ApiError, ApiResult};
use crate::http::body;
use crate::model::{RecordId, StreetId, UserId};
use crate::routes::campaigns::load as load_campaign;
use crate::state::AppState;
use crate::sync::ingest::{ingest, Decoded, Writer};

/// Most changes one push may carry.
pub const MAX_CHANGES: usize = sync_protocol::MAX_PUSH_CHANGES;
/// Default and largest page of a pull.
pub const DEFAULT_PULL_LIMIT: i64 = 500;
/// See [`DEFAULT_PULL_LIMIT`].
pub const MAX_PULL_LIMIT: i64 = 5000;

/// Body of a push.
#[derive(Debug, ToSchema)]
pub struct PushRequest {
    /// Campaign.
    pub campaign_id: Uuid,
    /// The pushing device: 1–64 printable ASCII characters, no spaces.
    pub device_id: String,
    /// At most 1000 changes, taken in order.
    #[schema(value_type = Vec<Object>)]
    pub changes: Vec<Change>,
}

/// Answer of a push.
#[derive(Debug, Serialize, ToSchema)]
pub struct PushResponse {
    /// One result per change, in order.
    #[schema(value_type = Vec<Object>)]
    pub results: Vec<PushResult>,
    /// The server's clock after the push.
    #[schema(value_type = String)]
    pub server_hlc: Hlc,
}

/// Body of a pull.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PullRequest {
    /// Campaign.
    pub campaign_id: Value,
    /// The pulling device.
    pub device_id: Value,
    /// Last seq seen per street; a street missing starts at 0.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub cursors: Option<serde_json::Map<String, Value>>,
    /// Page size: default 500, clamped to 5000.
    #[serde(default)]
    #[schema(value_type = Option<i64>)]
    pub limit: Option<Value>,
}

/// A bucket a caller may sync.
#[derive(Debug, Serialize, ToSchema)]
pub struct Bucket {
    /// Street.
    pub street_id: Uuid,
    /// Its ward.
    pub ward_id: Uuid,
    /// Street code.
    pub code: String,
    /// Street name.
    pub name: String,
}

/// Answer of a pull.
#[derive(Debug, Serialize, ToSchema)]
pub struct PullResponse {
    /// Streets the caller may sync now.
    pub buckets: Vec<Bucket>,
    /// Streets in the request's cursors that are no longer the caller's.
    pub dropped: Vec<String>,
    /// Full current state of each record changed after the cursors.
    #[schema(value_type = Vec<Object>)]
    pub changes: Vec<PulledRecord>,
    /// Cursors to pull with next.
    pub cursors: BTreeMap<String, i64>,
    /// More changes are waiting.
    pub has_more: bool,
    /// Record versions still to come after this page.
    pub remaining: i64,
    /// The server's clock.
    #[schema(value_type = String)]
    pub server_hlc: Hlc,
}

fn check_device_id(value: &Value) -> ApiResult<String> {
    let text = value
        .as_str()
        .ok_or_else(|| ApiError::validation("device_id must be a string"))?;
    let fine = !text.is_empty() && text.len() <= 64 && text.chars().all(|c| c.is_ascii_graphic());
    if !fine {
        return Err(ApiError::validation(
            "device_id must be 1 to 64 printable ASCII characters without spaces",
        ));
    }
    if text == sync_protocol::SERVER_DEVICE_ID {
        return Err(ApiError::validation(
            "the device_id server is reserved for the server's own stamps",
        ));
    }
    Ok(text.to_owned())
}

fn campaign_id(value: Option<&Value>) -> ApiResult<Uuid> {
    let text = value
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::validation("campaign_id must be a string"))?;
    body::path_id(text, "campaign")
}

/// Decodes a push body, refusing the whole body for what no single change can be blamed on.
fn push_request(req: &HttpRequest, bytes: &[u8]) -> ApiResult<PushRequest> {
    let mut object = body::json_object(req, bytes)?;
    let changes = match object.remove("changes") {
        Some(Value::Array(changes)) => changes,
        _ => return Err(ApiError::validation("changes must be an array")),
    };
    if changes.len() > MAX_CHANGES {
        return Err(ApiError::PayloadTooLarge(format!(
            "{} changes; at most {MAX_CHANGES} per push",
            changes.len()
        )));
    }
    let device_id = check_device_id(object.get("device_id").unwrap_or(&Value::Null))?;
    let campaign_id = campaign_id(object.get("campaign_id"))?;
    // Each change is taken apart as parsed, not copied: a `Change` is its object's keys.
    let changes = changes
        .into_iter()
        .enumerate()
        .map(|(index, change)| match change {
            Value::Object(object) => Ok(Change::from(object)),
            _ => Err(ApiError::validation(format!(
                "change {index} is not an object"
            ))),
        })
        .collect::<ApiResult<Vec<Change>>>()?;
    Ok(PushRequest {
        campaign_id,
        device_id,
        changes,
    })
}

/// Push changes logged offline.
#[utoipa::path(post, path = "/api/v1/sync/push", operation_id = "pushChanges", tag = "sync", request_body = PushRequest,
    responses((status = 200, body = PushResponse), (status = 413, body = crate::error::Problem),
              (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn push(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    caller.permit(Endpoint::Push)?;
    let bytes = body::read_limited(&req, payload, body::JSON_LIMIT).await?;
    let request = push_request(&req, &bytes)?;
    let writer = Writer {
        user_id: caller.id,
        role: caller.role,
        area_id: caller.area_id(),
        device_id: request.device_id,
    };
    let campaign_id = request.campaign_id;
    // Decoded here, off the writer, which takes one push at a time.
    let changes = Decoded::new(request.changes);
    let clock = state.clone();
    let done = state
        .db
        .write(move |conn| {
            let campaign = load_campaign(conn, campaign_id)?;
            let done = ingest(conn, Some(&campaign), &writer, changes)?;
            // Before the commit makes them visible: no server HLC is ever below them.
            if let Some(max) = &done.max_hlc {
                clock.witness(max);
            }
            Ok(done)
        })
        .await?;
    Ok(HttpResponse::Ok().json(PushResponse {
        results: done.results,
        server_hlc: state.tick(),
    }))
}

/// The streets a caller may pull now, by code.
fn buckets_of(
    conn: &mut DbConn,
    caller: &Caller,
    campaign: &CampaignRow,
    grant: Grant,
) -> ApiResult<Vec<StreetRow>> {
    match grant {
        Grant::OwnRecords => {
            let live = assignments::list_live(conn, campaign.id, Some(caller.id), None)?;
            let ids: Vec<StreetId> = live
                .into_iter()
                .map(|a| a.street_id)
                .collect::<HashSet<_>>()
                .into_iter()
                .collect();
            let mut rows = streets::by_ids(conn, &ids)?;
            rows.sort_by(|a, b| a.code.cmp(&b.code));
            Ok(rows)
        }
        _ => match caller.area_id() {
            Some(ward) if areas::is_within(conn, ward, campaign.area_id)? => {
                Ok(streets::in_ward(conn, ward)?)
            }
            _ => Ok(Vec::new()),
        },
    }
}

fn non_negative(value: &Value, what: &str) -> ApiResult<i64> {
    value
        .as_i64()
        .filter(|n| *n >= 0)
        .or_else(|| value.as_u64().map(|n| i64::try_from(n).unwrap_or(i64::MAX)))
        .ok_or_else(|| ApiError::validation(format!("{what} must be a non-negative integer")))
}

fn pulled(row: RecordRow) -> PulledRecord {
    PulledRecord {
        kind: row.kind,
        id: row.id.uuid(),
        street_id: row.street_id.uuid(),
        household_id: row.household_id.map(RecordId::uuid),
        // A household's creator is kept for the deletion rule, not shown: the pull's shape
        // stays as the contract shows it.
        volunteer_id: row
            .volunteer_id
            .filter(|_| row.kind == sync_protocol::Kind::Visit)
            .map(UserId::uuid),
        seq: row.seq,
        fields: row.state,
    }
}

struct PullPlan {
    campaign_id: Uuid,
    cursors: BTreeMap<String, i64>,
    limit: i64,
}

fn pull_plan(req: &HttpRequest, bytes: &[u8]) -> ApiResult<PullPlan> {
    let request: PullRequest = body::json(req, bytes)?;
    check_device_id(&request.device_id)?;
    let campaign_id = campaign_id(Some(&request.campaign_id))?;
    let limit = match &request.limit {
        None | Some(Value::Null) => DEFAULT_PULL_LIMIT,
        Some(value) => non_negative(value, "limit")?.min(MAX_PULL_LIMIT),
    };
    let mut cursors = BTreeMap::new();
    for (street, seq) in request.cursors.unwrap_or_default() {
        let id = Uuid::parse_str(&street).map_err(|_| {
            ApiError::validation(format!("cursor key {street:?} is not a street id"))
        })?;
        cursors.insert(id.to_string(), non_negative(&seq, "a cursor")?);
    }
    Ok(PullPlan {
        campaign_id,
        cursors,
        limit,
    })
}

/// Pull what changed on the caller's streets since its cursors.
#[utoipa::path(post, path = "/api/v1/sync/pull", operation_id = "pullChanges", tag = "sync", request_body = PullRequest,
    responses((status = 200, body = PullResponse), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn pull(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let grant = caller.permit(Endpoint::Pull)?;
    let bytes = body::read_limited(&req, payload, body::JSON_LIMIT).await?;
    let plan = pull_plan(&req, &bytes)?;
    let clock = state.clone();
    let response = state
        .db
        .read(move |conn| {
            let campaign = load_campaign(conn, plan.campaign_id)?;
            // Streets (and so each bucket's last seq) are read before the records: every
            // seq up to that value is committed, so a drained bucket may jump its cursor there.
            let buckets = buckets_of(conn, &caller, &campaign, grant)?;
            let mine: HashSet<String> = buckets.iter().map(|s| s.id.to_string()).collect();
            let dropped: Vec<String> = plan
                .cursors
                .keys()
                .filter(|k| !mine.contains(k.as_str()))
                .cloned()
                .collect();
            let ids: Vec<StreetId> = buckets.iter().map(|s| s.id).collect();
            let gaps = streets::restore_gaps(conn, &ids)?;
            let mut cursors = BTreeMap::new();
            let mut changes = Vec::new();
            let mut remaining = 0i64;
            let mut budget = plan.limit;
            for street in &buckets {
                let mut cursor = plan
                    .cursors
                    .get(&street.id.to_string())
                    .copied()
                    .unwrap_or(0);
                // A cursor the restored database never handed out comes from before a
                // restore from a backup: start the bucket over (contract §12).
                let in_gap = gaps
                    .get(&street.id)
                    .is_some_and(|(restored, floor)| cursor > *restored && cursor < *floor);
                if cursor > street.last_seq || in_gap {
                    cursor = 0;
                }
                if budget > 0 {
                    let rows =
                        records::changed_since(conn, street.id, campaign.id, cursor, budget + 1)?;
                    let drained = i64::try_from(rows.len()).unwrap_or(i64::MAX) <= budget;
                    for row in rows.into_iter().take(usize::try_from(budget).unwrap_or(0)) {
                        cursor = row.seq;
                        budget -= 1;
                        changes.push(pulled(row));
                    }
                    if drained {
                        cursor = cursor.max(street.last_seq);
                    } else {
                        remaining += records::count_since(conn, street.id, campaign.id, cursor)?;
                    }
                } else {
                    remaining += records::count_since(conn, street.id, campaign.id, cursor)?;
                }
                cursors.insert(street.id.to_string(), cursor);
            }
            let buckets = buckets
                .iter()
                .map(|s| Bucket {
                    street_id: s.id.uuid(),
                    ward_id: s.ward_id.uuid(),
                    code: s.code.clone(),
                    name: s.name.clone(),
                })
                .collect();
            Ok(PullResponse {
                buckets,
                dropped,
                changes,
                cursors,
                has_more: remaining > 0,
                remaining,
                server_hlc: clock.tick(),
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(response))
}
