//! Assignments and unassigned streets (contract section 5): thin handlers over
//! [`crate::services::assignments`].

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::access::Endpoint;
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::http::body;
use crate::model::{AreaId, Assignment, Items, Street, UserId};
use crate::services;
use crate::state::AppState;

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
#[into_params(parameter_in = Query)]
pub struct AssignmentFilter {
    /// Only this volunteer's.
    #[param(value_type = Option<Uuid>, format = Uuid)]
    pub volunteer_id: Option<String>,
    /// Only streets of this ward.
    #[param(value_type = Option<Uuid>, format = Uuid)]
    pub ward_id: Option<String>,
}

/// Filter of the unassigned-street list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WardFilter {
    /// Only streets of this ward.
    #[param(value_type = Option<Uuid>, format = Uuid)]
    pub ward_id: Option<String>,
}

/// Assign a volunteer to a street.
#[utoipa::path(post, path = "/api/v1/campaigns/{cid}/assignments", operation_id = "createAssignment",
    params(("cid" = Uuid, Path, description = "Campaign id")), tag = "assignments",
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
    let scope = caller.scope()?;
    let campaign_id = body::path_id(&path, "campaign")?;
    let campaign = state
        .db
        .read(move |conn| services::campaigns::load(conn, campaign_id))
        .await?;
    let new: NewAssignment = body::read_json(&req, payload).await?;
    let assignment = state
        .db
        .write(move |conn| {
            services::assignments::assign(
                conn,
                &scope,
                &campaign,
                new.street_id.into(),
                new.volunteer_id.into(),
            )
        })
        .await?;
    Ok(HttpResponse::Created().json(assignment))
}

/// List a campaign's assignments in the caller's scope.
#[utoipa::path(get, path = "/api/v1/campaigns/{cid}/assignments", operation_id = "listAssignments", tag = "assignments",
    params(("cid" = Uuid, Path, description = "Campaign id"), AssignmentFilter),
    responses((status = 200, body = Items<Assignment>)), security(("bearer" = [])))]
pub async fn list(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    filter: web::Query<AssignmentFilter>,
) -> ApiResult<HttpResponse> {
    caller.permit(Endpoint::ListAssignments)?;
    let scope = caller.scope()?;
    let campaign_id = body::path_id(&path, "campaign")?;
    let volunteer: Option<UserId> =
        body::query_id(filter.volunteer_id.as_deref(), "volunteer_id")?.map(UserId::from);
    let ward: Option<AreaId> =
        body::query_id(filter.ward_id.as_deref(), "ward_id")?.map(AreaId::from);
    let items = state
        .db
        .read(move |conn| {
            services::assignments::list(conn, &scope, campaign_id.into(), volunteer, ward)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Items { items }))
}

/// End an assignment (its volunteer may still push for 7 days).
#[utoipa::path(delete, path = "/api/v1/campaigns/{cid}/assignments/{id}", operation_id = "deleteAssignment",
    params(("cid" = Uuid, Path, description = "Campaign id"), ("id" = Uuid, Path, description = "Assignment id")), tag = "assignments",
    responses((status = 204), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn delete(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    caller.permit(Endpoint::ManageAssignments)?;
    let scope = caller.scope()?;
    let (campaign_text, id_text) = path.into_inner();
    let campaign_id = body::path_id(&campaign_text, "campaign")?;
    let id = body::path_id(&id_text, "assignment")?;
    state
        .db
        .write(move |conn| {
            services::assignments::unassign(conn, &scope, campaign_id.into(), id.into())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Streets of the campaign with no volunteer assigned.
#[utoipa::path(get, path = "/api/v1/campaigns/{cid}/streets/unassigned", operation_id = "listUnassignedStreets", tag = "assignments",
    params(("cid" = Uuid, Path, description = "Campaign id"), WardFilter),
    responses((status = 200, body = Items<Street>)), security(("bearer" = [])))]
pub async fn unassigned(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    filter: web::Query<WardFilter>,
) -> ApiResult<HttpResponse> {
    caller.permit(Endpoint::ManageAssignments)?;
    let scope = caller.scope()?;
    let campaign_id = body::path_id(&path, "campaign")?;
    let ward: Option<AreaId> =
        body::query_id(filter.ward_id.as_deref(), "ward_id")?.map(AreaId::from);
    let items = state
        .db
        .read(move |conn| services::assignments::unassigned(conn, &scope, campaign_id.into(), ward))
        .await?;
    Ok(HttpResponse::Ok().json(Items { items }))
}
