//! `GET /campaigns/{cid}/assignments?ward_id=`: a ward's streets, who holds each, the
//! unassigned ones; ward leaders and admins assign and unassign from it.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::{html, Markup};

use super::form;
use super::render::{page, redirect, respond, PageError};
use super::session::{CookieSecure, Viewer};
use crate::access::Endpoint;
use crate::db::campaigns::CampaignRow;
use crate::db::{areas, DbConn};
use crate::error::{ApiError, ApiResult};
use crate::http::body;
use crate::model::{AreaId, CampaignId, Level};
use crate::services::assignments::{self as service, WardAssignments};
use crate::services::{campaigns, Scope};
use crate::state::AppState;

/// The page's data: one ward's assignments, or the wards to choose from.
enum AssignmentsView {
    Ward(CampaignRow, WardAssignments),
    ChooseWard(CampaignRow, Vec<(AreaId, String)>),
}

fn load(
    conn: &mut DbConn,
    scope: &Scope,
    campaign_id: CampaignId,
    ward: Option<AreaId>,
) -> ApiResult<AssignmentsView> {
    let campaign = campaigns::load(conn, campaign_id)?;
    let ward = ward.or_else(|| scope.area()).filter(|_| true);
    if let Some(ward) = ward {
        let level = areas::find(conn, ward)?.map(|a| a.level);
        if level == Some(Level::Ward) || level.is_none() {
            let ward = service::ward_assignments(conn, scope, campaign.id, ward)?;
            return Ok(AssignmentsView::Ward(campaign, ward));
        }
    }
    // No ward chosen (an admin or a supervisor): the campaign's wards in the scope.
    scope.permit(Endpoint::ListAssignments)?;
    let root = match scope.area() {
        Some(own) if areas::is_within(conn, own, campaign.area_id)? => own,
        Some(own) if areas::is_within(conn, campaign.area_id, own)? => campaign.area_id,
        Some(_) => return Err(ApiError::forbidden("the campaign lies outside your area")),
        None => campaign.area_id,
    };
    let mut wards = Vec::new();
    for row in areas::subtree(conn, root)? {
        if row.level == Level::Ward {
            wards.push((row.id, row.name));
        }
    }
    wards.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(AssignmentsView::ChooseWard(campaign, wards))
}

fn ward_query(req: &HttpRequest) -> Result<Option<AreaId>, ApiError> {
    let pairs = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map_err(|_| ApiError::validation("bad query"))?;
    let text = pairs
        .iter()
        .find(|(key, _)| key == "ward_id")
        .map(|(_, value)| value.as_str());
    Ok(body::query_id(text, "ward_id")?.map(AreaId::from))
}

/// `GET /campaigns/{cid}/assignments`.
pub async fn show(
    req: HttpRequest,
    viewer: Viewer,
    state: web::Data<AppState>,
    secure: web::Data<CookieSecure>,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let lang = viewer.lang;
    let campaign: CampaignId = form::path_id(lang, &path, "campaign")?;
    let ward = ward_query(&req).map_err(|e| PageError::from_api(lang, e))?;
    render_page(&viewer, &state, **secure, campaign, ward, None).await
}

async fn render_page(
    viewer: &Viewer,
    state: &AppState,
    secure: CookieSecure,
    campaign: CampaignId,
    ward: Option<AreaId>,
    message: Option<(StatusCode, String)>,
) -> Result<HttpResponse, PageError> {
    let lang = viewer.lang;
    let scope = viewer
        .caller
        .scope()
        .map_err(|e| PageError::from_api(lang, e))?;
    let view = state
        .db
        .read(move |conn| load(conn, &scope, campaign, ward))
        .await
        .map_err(|err| match err {
            ApiError::Validation(_) => PageError::not_found(lang),
            other => PageError::from_api(lang, other),
        })?;
    let title = lang.pick("Phân công tuyến đường", "Street assignments");
    let status = message
        .as_ref()
        .map_or(StatusCode::OK, |(status, _)| *status);
    let body = render(
        viewer,
        &view,
        message.as_ref().map(|(_, text)| text.as_str()),
    );
    Ok(respond(
        status,
        page(viewer.frame(title), body),
        viewer.remember_lang,
        secure,
    ))
}

fn render(viewer: &Viewer, view: &AssignmentsView, message: Option<&str>) -> Markup {
    let l = viewer.lang;
    let may_manage = viewer.caller.permit(Endpoint::ManageAssignments).is_ok();
    let csrf = &viewer.csrf_token;
    match view {
        AssignmentsView::ChooseWard(campaign, wards) => html! {
            nav.crumbs {
                a href="/campaigns" { (l.pick("Chiến dịch", "Campaigns")) }
                " › " a href={ "/campaigns/" (campaign.id) } { (campaign.name) }
            }
            p.notice { (l.pick("Chọn phường/xã để xem phân công:", "Choose a ward to see its assignments:")) }
            ul {
                @for (id, name) in wards {
                    li { a href={ "/campaigns/" (campaign.id) "/assignments?ward_id=" (id) } { (name) } }
                }
            }
        },
        AssignmentsView::Ward(campaign, ward) => {
            let cid = campaign.id;
            html! {
                nav.crumbs {
                    a href="/campaigns" { (l.pick("Chiến dịch", "Campaigns")) }
                    " › " a href={ "/campaigns/" (cid) } { (campaign.name) }
                    " › " a href={ "/campaigns/" (cid) "/areas/" (ward.ward.id) } { (ward.ward.name) }
                }
                @if let Some(message) = message {
                    p.error role="alert" { (message) }
                }
                p.muted {
                    (l.count(i64::try_from(ward.streets.len()).unwrap_or(0))) " "
                    (l.pick("tuyến đường", "streets")) " · "
                    (l.count(i64::try_from(ward.unassigned.len()).unwrap_or(0))) " "
                    (l.pick("chưa có người phụ trách", "unassigned")) " · "
                    (l.count(i64::try_from(ward.volunteers.len()).unwrap_or(0))) " "
                    (l.pick("tình nguyện viên", "volunteers"))
                }
                @if !ward.unassigned.is_empty() {
                    h2 { (l.pick("Chưa có người phụ trách", "Unassigned streets")) }
                    ul.unassigned {
                        @for street in &ward.unassigned {
                            li data-street-code=(street.code) { (street.name) " " span.muted { "(" (street.code) ")" } }
                        }
                    }
                }
                h2 { (l.pick("Tuyến đường và người phụ trách", "Streets and who holds them")) }
                div.table-wrap {
                    table.assignments {
                        thead { tr {
                            th { (l.pick("Tuyến đường", "Street")) }
                            th { (l.pick("Tình nguyện viên phụ trách", "Assigned volunteers")) }
                            @if may_manage { th { (l.pick("Phân công thêm", "Assign")) } }
                        } }
                        tbody {
                            @for entry in &ward.streets {
                                tr data-street-code=(entry.street.code) {
                                    td { (entry.street.name) br; span.muted { (entry.street.code) } }
                                    td {
                                        @if entry.holders.is_empty() {
                                            span.bad { (l.pick("Chưa có ai", "Nobody yet")) }
                                        }
                                        @for holder in &entry.holders {
                                            div.holder data-username=(holder.volunteer.username) {
                                                (holder.volunteer.display_name) " "
                                                @if may_manage {
                                                    form.inline method="post"
                                                        action={ "/campaigns/" (cid) "/assignments/" (holder.assignment.id) "/delete" } {
                                                        input type="hidden" name="csrf_token" value=(csrf);
                                                        input type="hidden" name="ward_id" value=(ward.ward.id);
                                                        button.link type="submit"
                                                            data-confirm=(l.pick("Bỏ phân công người này?", "Unassign this volunteer?")) {
                                                            (l.pick("Bỏ phân công", "Unassign"))
                                                        }
                                                    }
                                                }
                                            }
                                        }
                                    }
                                    @if may_manage {
                                        @let candidates: Vec<_> = ward.volunteers.iter()
                                            .filter(|v| !entry.holders.iter().any(|h| h.volunteer.id == v.id))
                                            .collect();
                                        td {
                                            @if candidates.is_empty() {
                                                span.muted { (l.pick("Mọi tình nguyện viên của phường đã được phân công ở đây", "Every volunteer of the ward holds it")) }
                                            } @else {
                                                form.inline method="post" action={ "/campaigns/" (cid) "/assignments" } {
                                                    input type="hidden" name="csrf_token" value=(csrf);
                                                    input type="hidden" name="street_id" value=(entry.street.id);
                                                    select name="volunteer_id" aria-label=(l.pick("Tình nguyện viên", "Volunteer")) {
                                                        @for volunteer in &candidates {
                                                            option value=(volunteer.id) { (volunteer.display_name) }
                                                        }
                                                    }
                                                    " "
                                                    button type="submit" { (l.pick("Phân công", "Assign")) }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The ward a form came from, to go back to.
fn form_ward(form: &form::Form) -> Option<AreaId> {
    form.get("ward_id")
        .and_then(|text| uuid::Uuid::parse_str(text).ok())
        .map(AreaId::from)
}

/// `POST /campaigns/{cid}/assignments` (`street_id`, `volunteer_id`).
pub async fn assign(
    req: HttpRequest,
    viewer: Viewer,
    state: web::Data<AppState>,
    secure: web::Data<CookieSecure>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let lang = viewer.lang;
    let form = form::read_posted(&req, payload, &viewer).await?;
    let campaign: CampaignId = form::path_id(lang, &path, "campaign")?;
    viewer
        .caller
        .permit(Endpoint::ManageAssignments)
        .map_err(|e| PageError::from_api(lang, e))?;
    let scope = viewer
        .caller
        .scope()
        .map_err(|e| PageError::from_api(lang, e))?;
    let street = form
        .get("street_id")
        .and_then(|t| uuid::Uuid::parse_str(t).ok());
    let volunteer = form
        .get("volunteer_id")
        .and_then(|t| uuid::Uuid::parse_str(t).ok());
    let (Some(street), Some(volunteer)) = (street, volunteer) else {
        let message = lang.pick(
            "Hãy chọn một tuyến đường và một tình nguyện viên.",
            "Choose a street and a volunteer.",
        );
        return render_page(
            &viewer,
            &state,
            **secure,
            campaign,
            form_ward(&form),
            Some((StatusCode::UNPROCESSABLE_ENTITY, message.to_owned())),
        )
        .await;
    };
    let done = state
        .db
        .write(move |conn| {
            let campaign = campaigns::load(conn, campaign)?;
            let ward = crate::db::streets::find(conn, street.into())?.map(|s| s.ward_id);
            service::assign(conn, &scope, &campaign, street.into(), volunteer.into())?;
            Ok(ward)
        })
        .await;
    match done {
        Ok(ward) => Ok(back(campaign, ward)),
        Err(err @ (ApiError::Validation(_) | ApiError::Conflict(_))) => {
            let status = if matches!(err, ApiError::Conflict(_)) {
                StatusCode::CONFLICT
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let message = match err {
                ApiError::Conflict(_) => lang.pick(
                    "Tình nguyện viên này đã được phân công tuyến đường này.",
                    "This volunteer already holds this street.",
                ),
                _ => lang.pick(
                    "Không thể phân công: tình nguyện viên phải thuộc phường/xã của tuyến đường.",
                    "Cannot assign: the volunteer must belong to the street's ward.",
                ),
            };
            let ward = form_ward(&form).or(viewer.caller.area_id());
            render_page(
                &viewer,
                &state,
                **secure,
                campaign,
                ward,
                Some((status, message.to_owned())),
            )
            .await
        }
        Err(other) => Err(PageError::from_api(lang, other)),
    }
}

fn back(campaign: CampaignId, ward: Option<AreaId>) -> HttpResponse {
    let location = match ward {
        Some(ward) => format!("/campaigns/{campaign}/assignments?ward_id={ward}"),
        None => format!("/campaigns/{campaign}/assignments"),
    };
    redirect(StatusCode::SEE_OTHER, &location)
}

/// `POST /campaigns/{cid}/assignments/{id}/delete`.
pub async fn unassign(
    req: HttpRequest,
    viewer: Viewer,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let lang = viewer.lang;
    let form = form::read_posted(&req, payload, &viewer).await?;
    let (campaign_text, id_text) = path.into_inner();
    let campaign: CampaignId = form::path_id(lang, &campaign_text, "campaign")?;
    let id: uuid::Uuid = form::path_id(lang, &id_text, "assignment")?;
    viewer
        .caller
        .permit(Endpoint::ManageAssignments)
        .map_err(|e| PageError::from_api(lang, e))?;
    let scope = viewer
        .caller
        .scope()
        .map_err(|e| PageError::from_api(lang, e))?;
    state
        .db
        .write(move |conn| service::unassign(conn, &scope, campaign, id.into()))
        .await
        .map_err(|e| PageError::from_api(lang, e))?;
    Ok(back(campaign, form_ward(&form)))
}
