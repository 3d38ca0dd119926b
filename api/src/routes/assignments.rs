//! Assignments and unassigned streets (contract section 5).

use std::collections::HashSet;

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use sync_protocol::Role;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::access::{Endpoint, Grant};
use crate::auth::Caller;
use crate::db::assignments::{self, AssignmentRow};
use crate::db::{areas, streets, users, DbConn};
use crate::error::{ApiError, ApiResult};
use crate::http::body;
use crate::model::{AreaId, Assignment, AssignmentId, Items, Street, StreetId, UserId};
use crate::routes::campaigns::load as load_campaign;
use crate::state::{now_ms_i64, AppState};

/// Body of `POST /campaigns/{cid}/assignments`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewAssignment {
    /// The street.
    pub street_id: Uuid,
    /// The volunteer (of the street's ward).
    pub volunteer_id: Uuid,
}

/// Filters of the assignment list.
#[derive(Debug, Deserialize, IntoParams)]
pub struct AssignmentFilter {
    /// Only this volunteer's.
    pub volunteer_id: Option<String>,
    /// Only streets of this ward.
    pub ward_id: Option<String>,
}

/// Filter of the unassigned-street list.
#[derive(Debug, Deserialize, IntoParams)]
pub struct WardFilter {
    /// Only streets of this ward.
    pub ward_id: Option<String>,
}

/// Streets of the campaign's area, or of one ward of it, in the caller's scope.
fn campaign_streets(
    conn: &mut DbConn,
    caller: &Caller,
    campaign_area: AreaId,
    ward: Option<AreaId>,
) -> ApiResult<Vec<streets::StreetRow>> {
    let root = match ward {
        Some(ward) => {
            let ward = areas::find(conn, ward)?.ok_or_else(|| ApiError::not_found("ward"))?;
            caller.require_area(conn, ward.id)?;
            ward.id
        }
        None => match (caller.role, caller.area_id()) {
            (Role::Admin, _) | (_, None) => campaign_area,
            (_, Some(own)) => own,
        },
    };
    let in_campaign: HashSet<AreaId> = areas::wards_within(conn, campaign_area)?
        .into_iter()
        .collect();
    let wards: Vec<AreaId> = areas::wards_within(conn, root)?
        .into_iter()
        .filter(|w| in_campaign.contains(w))
        .collect();
    Ok(streets::in_wards(conn, &wards)?)
}

/// Assign a volunteer to a street.
#[utoipa::path(post, path = "/api/v1/campaigns/{cid}/assignments", tag = "assignments",
    request_body = NewAssignment,
    responses((status = 201, body = Assignment), (status = 409, body = crate::error::Problem),
              (status = 422, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn create(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    caller.permit(Endpoint::ManageAssignments)?;
    let campaign_id = body::path_id(&path, "campaign")?;
    let campaign = state
        .db
        .read(move |conn| load_campaign(conn, campaign_id))
        .await?;
    let new: NewAssignment = body::read_json(&req, payload).await?;
    let assignment = state
        .db
        .write(move |conn| {
            let street = streets::find(conn, new.street_id.into())?
                .ok_or_else(|| ApiError::validation("street_id names no known street"))?;
            if !caller.covers_area(conn, street.ward_id)? {
                return Err(ApiError::forbidden("the street is outside your ward"));
            }
            let volunteer = users::find(conn, new.volunteer_id.into())?
                .ok_or_else(|| ApiError::validation("volunteer_id names no known user"))?;
            if volunteer.role != Role::Volunteer {
                return Err(ApiError::validation(
                    "only volunteers can be assigned to streets",
                ));
            }
            if volunteer.area_id != Some(street.ward_id) {
                return Err(ApiError::validation(
                    "the volunteer belongs to another ward",
                ));
            }
            if !areas::is_within(conn, street.ward_id, campaign.area_id)? {
                return Err(ApiError::validation(
                    "the street is outside the campaign's area",
                ));
            }
            if assignments::live_exists(conn, campaign.id, street.id, volunteer.id)? {
                return Err(ApiError::Conflict(
                    "this volunteer is already assigned here".into(),
                ));
            }
            let row = AssignmentRow {
                id: AssignmentId::new_v4(),
                campaign_id: campaign.id,
                street_id: street.id,
                volunteer_id: volunteer.id,
                created_at: chrono::Utc::now(),
                deleted_at: None,
            };
            assignments::insert(conn, &row)?;
            Ok(row.to_api())
        })
        .await?;
    Ok(HttpResponse::Created().json(assignment))
}

/// List a campaign's assignments in the caller's scope.
#[utoipa::path(get, path = "/api/v1/campaigns/{cid}/assignments", tag = "assignments",
    params(AssignmentFilter),
    responses((status = 200, body = Items<Assignment>)), security(("bearer" = [])))]
pub async fn list(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    filter: web::Query<AssignmentFilter>,
) -> ApiResult<HttpResponse> {
    let grant = caller.permit(Endpoint::ListAssignments)?;
    let campaign_id = body::path_id(&path, "campaign")?;
    let volunteer: Option<UserId> =
        body::query_id(filter.volunteer_id.as_deref(), "volunteer_id")?.map(UserId::from);
    let ward: Option<AreaId> =
        body::query_id(filter.ward_id.as_deref(), "ward_id")?.map(AreaId::from);
    let items = state
        .db
        .read(move |conn| {
            let campaign = load_campaign(conn, campaign_id)?;
            let volunteer = match grant {
                Grant::OwnRecords => {
                    if volunteer.is_some_and(|v| v != caller.id) {
                        return Err(ApiError::forbidden(
                            "a volunteer sees only its own assignments",
                        ));
                    }
                    Some(caller.id)
                }
                _ => volunteer,
            };
            // An admin sees everything and a volunteer only its own rows, so neither needs
            // the street filter unless it asked for one ward.
            let unfiltered = matches!(grant, Grant::Everywhere | Grant::OwnRecords);
            let rows = if unfiltered && ward.is_none() {
                assignments::list_live(conn, campaign.id, volunteer, None)?
            } else {
                let street_ids: Vec<StreetId> =
                    campaign_streets(conn, &caller, campaign.area_id, ward)?
                        .into_iter()
                        .map(|s| s.id)
                        .collect();
                assignments::list_live(conn, campaign.id, volunteer, Some(&street_ids))?
            };
            Ok(rows.iter().map(AssignmentRow::to_api).collect::<Vec<_>>())
        })
        .await?;
    Ok(HttpResponse::Ok().json(Items { items }))
}

/// End an assignment (its volunteer may still push for 7 days).
#[utoipa::path(delete, path = "/api/v1/campaigns/{cid}/assignments/{id}", tag = "assignments",
    responses((status = 204), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn delete(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    caller.permit(Endpoint::ManageAssignments)?;
    let (campaign_text, id_text) = path.into_inner();
    let campaign_id = body::path_id(&campaign_text, "campaign")?;
    let id = body::path_id(&id_text, "assignment")?;
    state
        .db
        .write(move |conn| {
            let campaign = load_campaign(conn, campaign_id)?;
            let row = assignments::find_live(conn, campaign.id, id.into())?
                .ok_or_else(|| ApiError::not_found("assignment"))?;
            let street =
                streets::find(conn, row.street_id)?.ok_or_else(|| ApiError::not_found("street"))?;
            caller.require_area(conn, street.ward_id)?;
            assignments::end(conn, row.id, now_ms_i64())?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Streets of the campaign with no volunteer assigned.
#[utoipa::path(get, path = "/api/v1/campaigns/{cid}/streets/unassigned", tag = "assignments",
    params(WardFilter),
    responses((status = 200, body = Items<Street>)), security(("bearer" = [])))]
pub async fn unassigned(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    filter: web::Query<WardFilter>,
) -> ApiResult<HttpResponse> {
    caller.permit(Endpoint::ManageAssignments)?;
    let campaign_id = body::path_id(&path, "campaign")?;
    let ward: Option<AreaId> =
        body::query_id(filter.ward_id.as_deref(), "ward_id")?.map(AreaId::from);
    let items = state
        .db
        .read(move |conn| {
            let campaign = load_campaign(conn, campaign_id)?;
            let all = campaign_streets(conn, &caller, campaign.area_id, ward)?;
            let ids: Vec<StreetId> = all.iter().map(|s| s.id).collect();
            let assigned: HashSet<StreetId> = assignments::assigned_among(conn, campaign.id, &ids)?
                .into_iter()
                .collect();
            Ok(all
                .iter()
                .filter(|s| !assigned.contains(&s.id))
                .map(streets::StreetRow::to_api)
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(HttpResponse::Ok().json(Items { items }))
}
