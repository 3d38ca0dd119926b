//! `GET /campaigns/{cid}/visits`: the visit list with the API's filters and paging, and
//! `POST /campaigns/{cid}/visits/{id}/review` for ward leaders and admins.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::{html, Markup};
use sync_protocol::Review;

use super::form;
use super::i18n::{local_time, Lang};
use super::render::{page, redirect, respond, PageError};
use super::session::{CookieSecure, Viewer};
use crate::access::Endpoint;
use crate::db::campaigns::CampaignRow;
use crate::db::{areas, streets, users, DbConn};
use crate::error::{ApiError, ApiResult};
use crate::model::{CampaignId, RecordId, StreetId, UserId};
use crate::routes::visits::{parse_filters, parse_page_size, VisitQuery};
use crate::services::page_token::PageTokens;
use crate::services::visits::{self as service, ReviewInput, Visit, VisitList};
use crate::services::{campaigns, Scope};
use crate::state::AppState;

/// Visits per page unless `page_size` says otherwise: a phone screen's worth.
const PAGE_SIZE: i64 = 50;
/// The longest review note (contract section 6).
const MAX_NOTE: usize = 500;

/// What the visit list page shows.
struct VisitsView {
    campaign: CampaignRow,
    list: VisitList,
    /// The signed `page_token` of the next page, if any.
    next_token: Option<String>,
    streets: HashMap<StreetId, (String, String)>,
    volunteers: HashMap<UserId, String>,
    ward_name: Option<String>,
    /// A ward's streets and volunteers, to filter by (empty without a ward filter).
    ward_streets: Vec<(StreetId, String)>,
    ward_volunteers: Vec<(UserId, String)>,
}

fn load(
    conn: &mut DbConn,
    scope: &Scope,
    tokens: &PageTokens,
    campaign_id: CampaignId,
    query: &VisitQuery,
) -> ApiResult<VisitsView> {
    scope.permit(Endpoint::ReadVisits)?;
    let campaign = campaigns::load(conn, campaign_id)?;
    let filters = parse_filters(query)?;
    let page_size = match query.page_size.as_deref() {
        None | Some("") => PAGE_SIZE,
        size => parse_page_size(size)?,
    };
    let after = query
        .page_token
        .as_deref()
        .filter(|t| !t.is_empty())
        .map(|token| tokens.open_visits(campaign.id, token))
        .transpose()?;
    let list = service::visit_page(conn, scope, campaign.id, &filters, page_size, after)?;
    let next_token = list.next.map(|next| tokens.visits(campaign.id, next));
    let street_ids: Vec<StreetId> = list.items.iter().map(|v| v.street_id.into()).collect();
    let streets = streets::by_ids(conn, &street_ids)?
        .into_iter()
        .map(|s| (s.id, (s.code, s.name)))
        .collect();
    let mut volunteers = HashMap::new();
    for id in list.items.iter().filter_map(|v| v.volunteer_id) {
        let id = UserId::from(id);
        if let std::collections::hash_map::Entry::Vacant(slot) = volunteers.entry(id) {
            if let Some(user) = users::find(conn, id)? {
                slot.insert(user.display_name);
            }
        }
    }
    // The visit page has judged the ward against the scope already.
    let ward = match filters.ward {
        Some(ward) => areas::find(conn, ward)?,
        None => None,
    };
    let ward_name = ward.as_ref().map(|a| a.name.clone());
    let (mut ward_streets, mut ward_volunteers) = (Vec::new(), Vec::new());
    if let Some(ward) = ward.filter(|a| a.level == crate::model::Level::Ward) {
        ward_streets = streets::in_ward(conn, ward.id)?
            .into_iter()
            .map(|s| (s.id, s.name))
            .collect();
        ward_streets.sort_by(|a, b| a.1.cmp(&b.1));
        if scope.own_records().is_none() {
            ward_volunteers =
                users::list(conn, Some(sync_protocol::Role::Volunteer), Some(&[ward.id]))?
                    .into_iter()
                    .map(|u| (u.id, u.display_name))
                    .collect();
        }
    }
    Ok(VisitsView {
        campaign,
        list,
        next_token,
        streets,
        volunteers,
        ward_name,
        ward_streets,
        ward_volunteers,
    })
}

/// `GET /campaigns/{cid}/visits`.
pub async fn list(
    req: HttpRequest,
    viewer: Viewer,
    state: web::Data<AppState>,
    secure: web::Data<CookieSecure>,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let lang = viewer.lang;
    let campaign: CampaignId = form::path_id(lang, &path, "campaign")?;
    render_list(
        &viewer,
        &state,
        **secure,
        campaign,
        req.query_string(),
        None,
    )
    .await
}

/// The list page for `query`, with a message after a refused review.
async fn render_list(
    viewer: &Viewer,
    state: &AppState,
    secure: CookieSecure,
    campaign: CampaignId,
    query_text: &str,
    message: Option<String>,
) -> Result<HttpResponse, PageError> {
    let lang = viewer.lang;
    let scope = viewer
        .caller
        .scope()
        .map_err(|e| PageError::from_api(lang, e))?;
    let query = web::Query::<VisitQuery>::from_query(query_text)
        .map(web::Query::into_inner)
        .map_err(|_| PageError::from_api(lang, ApiError::validation("bad query")))?;
    let loaded = {
        let query = web::Query::<VisitQuery>::from_query(query_text)
            .map(web::Query::into_inner)
            .map_err(|_| PageError::from_api(lang, ApiError::validation("bad query")))?;
        let tokens = state.page_tokens.clone();
        state
            .db
            .read(move |conn| load(conn, &scope, &tokens, campaign, &query))
            .await
    };
    let title = lang.pick("Danh sách lượt đến", "Visits");
    let (status, body) = match loaded {
        Ok(view) => {
            let status = if message.is_some() {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                StatusCode::OK
            };
            (status, render(viewer, &view, &query, message.as_deref()))
        }
        // A filter with a wrong value: the page again, with what is wrong.
        Err(ApiError::Validation(detail)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            html! {
                p.error role="alert" { (lang.pick("Bộ lọc không hợp lệ: ", "Invalid filter: ")) (detail) }
                p { a href={ "/campaigns/" (campaign) "/visits" } { (lang.pick("Bỏ bộ lọc", "Clear the filters")) } }
            },
        ),
        Err(other) => return Err(PageError::from_api(lang, other)),
    };
    Ok(respond(
        status,
        page(viewer.frame(title), body),
        viewer.remember_lang,
        secure,
    ))
}

fn outcome_name(l: Lang, outcome: &str) -> &'static str {
    match outcome {
        "installed_now" => l.pick("Đã cài tại chỗ", "Installed now"),
        "already_installed" => l.pick("Đã cài từ trước", "Already installed"),
        "declined" => l.pick("Từ chối cài", "Declined"),
        "not_home" => l.pick("Không có nhà", "Not home"),
        "no_smartphone" => l.pick("Không có điện thoại thông minh", "No smartphone"),
        _ => "—",
    }
}

fn review_name(l: Lang, review: &str) -> &'static str {
    match review {
        "verified" => l.pick("Đã xác nhận", "Verified"),
        "rejected" => l.pick("Đã từ chối", "Rejected"),
        _ => l.pick("Chờ duyệt", "Pending"),
    }
}

const OUTCOMES: [&str; 5] = [
    "installed_now",
    "already_installed",
    "declined",
    "not_home",
    "no_smartphone",
];
const REVIEWS: [&str; 3] = ["pending", "verified", "rejected"];

/// This page's link with `page_token` set (or removed).
fn page_link(campaign: CampaignId, query: &VisitQuery, token: Option<&str>) -> String {
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    for (name, value) in [
        ("ward_id", &query.ward_id),
        ("street_id", &query.street_id),
        ("volunteer_id", &query.volunteer_id),
        ("outcome", &query.outcome),
        ("review", &query.review),
        ("page_size", &query.page_size),
        ("include_deleted", &query.include_deleted),
    ] {
        if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
            pairs.push((name, value));
        }
    }
    if let Some(token) = token {
        pairs.push(("page_token", token));
    }
    let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    if query.is_empty() {
        format!("/campaigns/{campaign}/visits")
    } else {
        format!("/campaigns/{campaign}/visits?{query}")
    }
}

fn count(value: Option<u32>) -> String {
    value.map_or_else(|| "—".to_owned(), |n| n.to_string())
}

fn render(viewer: &Viewer, view: &VisitsView, query: &VisitQuery, message: Option<&str>) -> Markup {
    let l = viewer.lang;
    let cid = view.campaign.id;
    let tz = view.campaign.timezone;
    let may_review = viewer.caller.permit(Endpoint::Review).is_ok();
    let here = page_link(cid, query, query.page_token.as_deref());
    let selected = |value: &Option<String>, option: &str| value.as_deref() == Some(option);
    html! {
        nav.crumbs {
            a href="/campaigns" { (l.pick("Chiến dịch", "Campaigns")) }
            " › " a href={ "/campaigns/" (cid) } { (view.campaign.name) }
            @if let (Some(name), Some(ward)) = (&view.ward_name, &query.ward_id) {
                " › " a href={ "/campaigns/" (cid) "/areas/" (ward) } { (name) }
            }
        }
        @if let Some(message) = message {
            p.error role="alert" { (message) }
        }
        form.filters method="get" action={ "/campaigns/" (cid) "/visits" } {
            @for (name, value, shown) in [("ward_id", &query.ward_id, false),
                                   ("street_id", &query.street_id, !view.ward_streets.is_empty()),
                                   ("volunteer_id", &query.volunteer_id, !view.ward_volunteers.is_empty()),
                                   ("page_size", &query.page_size, false)] {
                @if let Some(value) = value.as_deref().filter(|v| !v.is_empty() && !shown) {
                    input type="hidden" name=(name) value=(value);
                }
            }
            @if !view.ward_streets.is_empty() {
                label {
                    (l.pick("Tuyến đường", "Street"))
                    select name="street_id" data-autosubmit {
                        option value="" { (l.pick("Tất cả", "All")) }
                        @for (id, name) in &view.ward_streets {
                            option value=(id) selected[query.street_id.as_deref() == Some(id.to_string().as_str())] { (name) }
                        }
                    }
                }
            }
            @if !view.ward_volunteers.is_empty() {
                label {
                    (l.pick("Tình nguyện viên", "Volunteer"))
                    select name="volunteer_id" data-autosubmit {
                        option value="" { (l.pick("Tất cả", "All")) }
                        @for (id, name) in &view.ward_volunteers {
                            option value=(id) selected[query.volunteer_id.as_deref() == Some(id.to_string().as_str())] { (name) }
                        }
                    }
                }
            }
            label {
                (l.pick("Kết quả", "Outcome"))
                select name="outcome" data-autosubmit {
                    option value="" { (l.pick("Tất cả", "All")) }
                    @for outcome in OUTCOMES {
                        option value=(outcome) selected[selected(&query.outcome, outcome)] { (outcome_name(l, outcome)) }
                    }
                }
            }
            label {
                (l.pick("Tình trạng duyệt", "Review"))
                select name="review" data-autosubmit {
                    option value="" { (l.pick("Tất cả", "All")) }
                    @for review in REVIEWS {
                        option value=(review) selected[selected(&query.review, review)] { (review_name(l, review)) }
                    }
                }
            }
            button.secondary type="submit" { (l.pick("Lọc", "Filter")) }
        }
        @if view.list.items.is_empty() {
            p.notice { (l.pick("Không có lượt đến nào khớp bộ lọc.", "No visit matches the filters.")) }
        } @else {
            div.table-wrap {
                table.visits {
                    thead { tr {
                        th { (l.pick("Thời gian", "When")) }
                        th { (l.pick("Địa chỉ", "Address")) }
                        th.hide-narrow { (l.pick("Tình nguyện viên", "Volunteer")) }
                        th { (l.pick("Kết quả", "Outcome")) }
                        th.num { abbr title=(l.pick("Người dùng điện thoại thông minh / Đã cài ứng dụng", "Smartphone users / App users")) { (l.pick("ĐTTM / Đã cài", "Phones / App")) } }
                        th { (l.pick("Duyệt", "Review")) }
                    } }
                    tbody {
                        @for visit in &view.list.items {
                            (row(l, view, visit, tz, may_review, &here, &viewer.csrf_token))
                        }
                    }
                }
            }
        }
        nav.pager {
            @if query.page_token.as_deref().is_some_and(|t| !t.is_empty()) {
                a href=(page_link(cid, query, None)) { "« " (l.pick("Trang đầu", "First page")) }
            }
            @if let Some(next) = &view.next_token {
                a rel="next" href=(page_link(cid, query, Some(next))) {
                    (l.pick("Trang sau", "Next page")) " »"
                }
            }
        }
    }
}

fn row(
    l: Lang,
    view: &VisitsView,
    visit: &Visit,
    tz: chrono_tz::Tz,
    may_review: bool,
    here: &str,
    csrf: &str,
) -> Markup {
    let street = view.streets.get(&StreetId::from(visit.street_id));
    let volunteer = visit
        .volunteer_id
        .and_then(|id| view.volunteers.get(&UserId::from(id)));
    let cid = view.campaign.id;
    html! {
        tr data-visit-id=(visit.id) {
            td { (visit.visited_at.as_deref().map_or_else(|| "—".to_owned(), |t| local_time(l, t, tz))) }
            td {
                (visit.house_number.as_deref().unwrap_or("—"))
                @if let Some((_, name)) = street { ", " (name) }
                @if visit.deleted { " " span.badge { (l.pick("đã xoá", "deleted")) } }
                @if visit.conflict { " " span.badge title=(l.pick("Hai máy đã sửa lượt đến này", "Two phones edited this visit")) { (l.pick("xung đột", "conflict")) } }
                @if let Some(note) = &visit.note { br; span.muted { (note) } }
            }
            td.hide-narrow { (volunteer.map_or("—", String::as_str)) }
            td { (outcome_name(l, visit.outcome.as_deref().unwrap_or(""))) }
            td.num data-label=(l.pick("ĐTTM / Đã cài: ", "Phones / App: ")) { (count(visit.smartphone_users)) " / " (count(visit.app_users)) }
            td {
                span class={ "badge " (visit.review) } data-review=(visit.review) { (review_name(l, &visit.review)) }
                @if let Some(note) = &visit.review_note { br; span.muted { (note) } }
                @if may_review {
                    form.review method="post" action={ "/campaigns/" (cid) "/visits/" (visit.id) "/review" } {
                        input type="hidden" name="csrf_token" value=(csrf);
                        input type="hidden" name="back" value=(here);
                        input type="text" name="note" maxlength="500"
                            placeholder=(l.pick("Ghi chú", "Note"))
                            aria-label=(l.pick("Ghi chú", "Note"));
                        button type="submit" name="review" value="verified" { (l.pick("Xác nhận", "Verify")) }
                        button.danger type="submit" name="review" value="rejected"
                            data-confirm=(l.pick("Từ chối lượt đến này?", "Reject this visit?")) { (l.pick("Từ chối", "Reject")) }
                    }
                }
            }
        }
    }
}

/// A `back` path of this campaign's visit list; anything else goes to the list itself.
fn back_query(campaign: CampaignId, back: Option<&str>) -> String {
    let list = format!("/campaigns/{campaign}/visits");
    match back {
        Some(back) if back == list => String::new(),
        Some(back) => back
            .strip_prefix(&format!("{list}?"))
            .filter(|q| !q.chars().any(char::is_control))
            .unwrap_or_default()
            .to_owned(),
        None => String::new(),
    }
}

/// `POST /campaigns/{cid}/visits/{id}/review`: what the API's review does, then 303 back to
/// the list; 422 with the list and a message for a wrong value.
pub async fn review(
    req: HttpRequest,
    viewer: Viewer,
    state: web::Data<AppState>,
    secure: web::Data<CookieSecure>,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let lang = viewer.lang;
    let form = form::read_posted(&req, payload, &viewer).await?;
    let (campaign_text, id_text) = path.into_inner();
    let campaign: CampaignId = form::path_id(lang, &campaign_text, "campaign")?;
    let id: RecordId = form::path_id(lang, &id_text, "visit")?;
    let query = back_query(campaign, form.get("back"));
    let back = if query.is_empty() {
        format!("/campaigns/{campaign}/visits")
    } else {
        format!("/campaigns/{campaign}/visits?{query}")
    };
    viewer
        .caller
        .permit(Endpoint::Review)
        .map_err(|e| PageError::from_api(lang, e))?;
    let scope = viewer
        .caller
        .scope()
        .map_err(|e| PageError::from_api(lang, e))?;
    // Ids and scope are judged before the values, as in the API.
    state
        .db
        .read(move |conn| service::visit(conn, &scope, campaign, id).map(|_| ()))
        .await
        .map_err(|e| PageError::from_api(lang, e))?;
    let note = form.get("note").map(str::trim).filter(|n| !n.is_empty());
    let decision = match form.get("review") {
        Some("verified") => Ok(Review::Verified),
        Some("rejected") => Ok(Review::Rejected),
        _ => Err(lang.pick(
            "Hãy chọn Xác nhận hoặc Từ chối.",
            "Choose Verify or Reject.",
        )),
    }
    .and_then(|decision| {
        if note.is_some_and(|n| n.chars().count() > MAX_NOTE) {
            Err(lang.pick(
                "Ghi chú dài quá 500 ký tự.",
                "The note is longer than 500 characters.",
            ))
        } else {
            Ok(decision)
        }
    });
    let decision = match decision {
        Ok(decision) => decision,
        Err(message) => {
            let message = Some(message.to_owned());
            return render_list(&viewer, &state, **secure, campaign, &query, message).await;
        }
    };
    let input = ReviewInput {
        review: decision,
        // An empty note leaves the visit's note as it is.
        note: note.map(|n| Some(n.to_owned())),
    };
    let clock = state.clone();
    let scope = viewer
        .caller
        .scope()
        .map_err(|e| PageError::from_api(lang, e))?;
    let done = state
        .db
        .write(move |conn| {
            service::review(conn, &scope, campaign, id, input, |stored| {
                clock.tick_above(stored)
            })
        })
        .await;
    match done {
        Ok(_) => Ok(redirect(StatusCode::SEE_OTHER, &back)),
        Err(ApiError::Validation(_)) => {
            render_list(
                &viewer,
                &state,
                **secure,
                campaign,
                &query,
                Some(
                    lang.pick("Giá trị không hợp lệ.", "A value is not valid.")
                        .to_owned(),
                ),
            )
            .await
        }
        Err(other) => Err(PageError::from_api(lang, other)),
    }
}
