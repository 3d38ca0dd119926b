//! Campaigns (contract section 5).

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::access::Endpoint;
use crate::auth::Caller;
use crate::db::areas;
use crate::db::campaigns::{self, CampaignRow};
use crate::error::{ApiError, ApiResult};
use crate::http::body;
use crate::model::{date_in_range, AreaId, Campaign, CampaignId, Items};
use crate::state::{now_ms_i64, AppState};

/// Body of `POST /campaigns`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewCampaign {
    /// Name, 1–200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// The area covered.
    pub area_id: Uuid,
    /// In (0, 1].
    #[schema(exclusive_minimum = 0.0, maximum = 1.0)]
    pub target_ratio: f64,
    /// First day.
    #[schema(value_type = String, format = Date)]
    pub starts_on: NaiveDate,
    /// Last day, not before `starts_on`.
    #[schema(value_type = String, format = Date)]
    pub deadline: NaiveDate,
    /// IANA time zone, default `Asia/Ho_Chi_Minh`.
    #[serde(default)]
    #[schema(example = "Asia/Ho_Chi_Minh")]
    pub timezone: Option<String>,
}

pub use crate::services::campaigns::load;

/// Create a campaign.
#[utoipa::path(post, path = "/api/v1/campaigns", operation_id = "createCampaign", tag = "campaigns", request_body = NewCampaign,
    responses((status = 201, body = Campaign), (status = 422, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn create(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    caller.permit(Endpoint::CreateCampaign)?;
    let new: NewCampaign = body::read_json(&req, payload).await?;
    let name = new.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 200 || body::has_control(&name) {
        return Err(ApiError::validation(
            "name must have 1 to 200 characters and no control character",
        ));
    }
    if !(new.target_ratio > 0.0 && new.target_ratio <= 1.0) {
        return Err(ApiError::validation("target_ratio must be in (0, 1]"));
    }
    if !date_in_range(new.starts_on) || !date_in_range(new.deadline) {
        return Err(ApiError::validation(
            "starts_on and deadline must be dates in the years 1 to 9999",
        ));
    }
    if new.deadline < new.starts_on {
        return Err(ApiError::validation("deadline is before starts_on"));
    }
    let timezone = match new.timezone.as_deref() {
        None => chrono_tz::Asia::Ho_Chi_Minh,
        Some(name) => name
            .parse::<chrono_tz::Tz>()
            .map_err(|_| ApiError::validation(format!("{name:?} is not an IANA time zone")))?,
    };
    let row = CampaignRow {
        id: CampaignId::new_v4(),
        name,
        area_id: AreaId::from(new.area_id),
        target_ratio: new.target_ratio,
        starts_on: new.starts_on,
        deadline: new.deadline,
        timezone,
        created_at: now_ms_i64(),
    };
    let campaign = state
        .db
        .write(move |conn| {
            if areas::find(conn, row.area_id)?.is_none() {
                return Err(ApiError::validation("area_id names no known area"));
            }
            campaigns::insert(conn, &row)?;
            Ok(row.to_api())
        })
        .await?;
    Ok(HttpResponse::Created().json(campaign))
}

/// List campaigns.
#[utoipa::path(get, path = "/api/v1/campaigns", operation_id = "listCampaigns", tag = "campaigns",
    responses((status = 200, body = Items<Campaign>)), security(("bearer" = [])))]
pub async fn list(caller: Caller, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    caller.permit(Endpoint::ReadCatalogue)?;
    let items = state
        .db
        .read(|conn| {
            Ok(campaigns::all(conn)?
                .iter()
                .map(CampaignRow::to_api)
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(HttpResponse::Ok().json(Items { items }))
}

/// Read one campaign.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}", operation_id = "getCampaign",
    params(("id" = Uuid, Path, description = "Campaign id")), tag = "campaigns",
    responses((status = 200, body = Campaign), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn get(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    caller.permit(Endpoint::ReadCatalogue)?;
    let id = body::path_id(&path, "campaign")?;
    let campaign = state
        .db
        .read(move |conn| Ok(load(conn, id)?.to_api()))
        .await?;
    Ok(HttpResponse::Ok().json(campaign))
}
