//! `GET /campaigns/{cid}` and `GET /campaigns/{cid}/areas/{area_id}`: an area's coverage
//! with its children and a chart of daily progress, from the API's read services.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::NaiveDate;
use maud::{html, Markup};

use super::form;
use super::i18n::{local_time, Lang};
use super::render::{page, respond, PageError};
use super::session::{CookieSecure, Viewer};
use crate::access::Endpoint;
use crate::db::areas::{self, AreaRow};
use crate::db::campaigns::CampaignRow;
use crate::db::DbConn;
use crate::error::{ApiError, ApiResult};
use crate::model::{AreaId, CampaignId, Level};
use crate::services::progress::{DateRange, Progress, MAX_PROGRESS_DAYS};
use crate::services::{campaigns, coverage, progress, Scope};
use crate::state::AppState;
use crate::sync::figures::Coverage;

/// Everything the coverage page shows.
struct CoverageView {
    campaign: CampaignRow,
    /// From the campaign's area down to this one; `true` where the viewer may open it.
    crumbs: Vec<(AreaRow, bool)>,
    coverage: Coverage,
    progress: Progress,
}

/// The area `/campaigns/{cid}` opens on: the campaign's own, or below it the viewer's.
fn default_area(conn: &mut DbConn, scope: &Scope, campaign: &CampaignRow) -> ApiResult<AreaId> {
    if scope.covers(conn, campaign.area_id)? {
        return Ok(campaign.area_id);
    }
    match scope.area() {
        Some(own) if areas::is_within(conn, own, campaign.area_id)? => Ok(own),
        _ => Err(ApiError::forbidden("the campaign lies outside your area")),
    }
}

/// The dates the chart shows: from the start to today, or to the deadline or the last
/// visit once the campaign is over, at most the span the progress service allows.
fn chart_range(campaign: &CampaignRow, last_visit: Option<NaiveDate>) -> DateRange {
    let today = chrono::Utc::now()
        .with_timezone(&campaign.timezone)
        .date_naive();
    let end = campaign
        .deadline
        .max(last_visit.unwrap_or(campaign.deadline));
    let to = today.min(end).max(campaign.starts_on);
    let earliest = to
        .checked_sub_days(chrono::Days::new(MAX_PROGRESS_DAYS - 1))
        .unwrap_or(to);
    DateRange {
        from: Some(campaign.starts_on.max(earliest)),
        to: Some(to),
    }
}

fn load_view(
    conn: &mut DbConn,
    scope: &Scope,
    campaign_id: CampaignId,
    area: Option<AreaId>,
) -> ApiResult<CoverageView> {
    scope.permit(Endpoint::ReadCoverage)?;
    let campaign = campaigns::load(conn, campaign_id)?;
    let area = match area {
        Some(area) => area,
        None => default_area(conn, scope, &campaign)?,
    };
    let coverage = coverage::coverage(conn, scope, campaign.id, Some(area))?;
    let last_visit = coverage
        .last_visit_at
        .as_deref()
        .and_then(|text| chrono::DateTime::parse_from_rfc3339(text).ok())
        .map(|at| at.with_timezone(&campaign.timezone).date_naive());
    let range = chart_range(&campaign, last_visit);
    let progress = progress::progress(conn, scope, campaign.id, Some(area), range)?;
    let mut crumbs = Vec::new();
    for row in areas::lineage(conn, area)?.into_iter().rev() {
        if areas::is_within(conn, row.id, campaign.area_id)? {
            let open = scope.covers(conn, row.id)?;
            crumbs.push((row, open));
        }
    }
    Ok(CoverageView {
        campaign,
        crumbs,
        coverage,
        progress,
    })
}

/// `GET /campaigns/{cid}`.
pub async fn campaign_home(
    viewer: Viewer,
    state: web::Data<AppState>,
    secure: web::Data<CookieSecure>,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let campaign: CampaignId = form::path_id(viewer.lang, &path, "campaign")?;
    show(viewer, &state, **secure, campaign, None).await
}

/// `GET /campaigns/{cid}/areas/{area_id}`.
pub async fn area_page(
    viewer: Viewer,
    state: web::Data<AppState>,
    secure: web::Data<CookieSecure>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let (campaign_text, area_text) = path.into_inner();
    let lang = viewer.lang;
    let campaign: CampaignId = form::path_id(lang, &campaign_text, "campaign")?;
    let area: AreaId = form::path_id(lang, &area_text, "area")?;
    show(viewer, &state, **secure, campaign, Some(area)).await
}

async fn show(
    viewer: Viewer,
    state: &AppState,
    secure: CookieSecure,
    campaign: CampaignId,
    area: Option<AreaId>,
) -> Result<HttpResponse, PageError> {
    let lang = viewer.lang;
    let scope = viewer
        .caller
        .scope()
        .map_err(|e| PageError::from_api(lang, e))?;
    let view = state
        .db
        .read(move |conn| load_view(conn, &scope, campaign, area))
        .await
        .map_err(|err| match err {
            // An area outside the campaign is no page of it.
            ApiError::Validation(_) => PageError::not_found(lang),
            other => PageError::from_api(lang, other),
        })?;
    let title = format!("{} · {}", view.coverage.name, view.campaign.name);
    let body = render(&viewer, &view);
    Ok(respond(
        StatusCode::OK,
        page(viewer.frame(&title), body),
        viewer.remember_lang,
        secure,
    ))
}

fn level_name(lang: Lang, level: Level) -> &'static str {
    match level {
        Level::Province => lang.pick("Tỉnh/Thành phố", "Province"),
        Level::District => lang.pick("Quận/Huyện", "District"),
        Level::Ward => lang.pick("Phường/Xã", "Ward"),
    }
}

/// Coverage as a bar, with the target as a vertical line across it.
pub fn bar(coverage: Option<f64>, target: f64, met: bool, wide: bool) -> Markup {
    let width = coverage.unwrap_or(0.0).clamp(0.0, 1.0) * 100.0;
    let target_x = target.clamp(0.0, 1.0) * 100.0;
    let fill = if met { "#1e7d32" } else { "#d9822b" };
    html! {
        svg class=(if wide { "bar wide" } else { "bar" }) viewBox="0 0 100 10"
            preserveAspectRatio="none" aria-hidden="true" {
            rect x="0" y="0" width="100" height="10" fill="#e4e8ee" {}
            rect x="0" y="0" width=(format!("{width:.2}")) height="10" fill=(fill) {}
            line x1=(format!("{target_x:.2}")) x2=(format!("{target_x:.2}")) y1="0" y2="10"
                stroke="#1d2430" stroke-width="1.5" vector-effect="non-scaling-stroke" {}
        }
    }
}

fn met_text(lang: Lang, met: bool) -> Markup {
    html! {
        @if met {
            span.good { "✔ " (lang.pick("Đạt", "Met")) }
        } @else {
            span.bad { (lang.pick("Chưa đạt", "Not yet")) }
        }
    }
}

fn render(viewer: &Viewer, view: &CoverageView) -> Markup {
    let l = viewer.lang;
    let c = &view.coverage;
    let campaign = &view.campaign;
    let tz = campaign.timezone;
    let cid = campaign.id;
    let last_visit = c
        .last_visit_at
        .as_deref()
        .map_or_else(|| "—".to_owned(), |text| local_time(l, text, tz));
    let projected = view
        .progress
        .projected_date
        .map_or_else(|| "—".to_owned(), |date| l.date(date));
    let is_ward = c.level == Level::Ward;
    let may_assign = viewer.caller.permit(Endpoint::ListAssignments).is_ok()
        && viewer.caller.role != sync_protocol::Role::Volunteer;
    html! {
        nav.crumbs aria-label=(l.pick("Vị trí", "Location")) {
            a href="/campaigns" { (l.pick("Chiến dịch", "Campaigns")) }
            @for (area, open) in &view.crumbs {
                " › "
                @if *open && area.id.uuid() != c.area_id {
                    a href={ "/campaigns/" (cid) "/areas/" (area.id) } { (area.name) }
                } @else {
                    span { (area.name) }
                }
            }
        }
        p.muted {
            (level_name(l, c.level)) " · " (l.pick("Chỉ tiêu", "Target")) " "
            (l.percent(Some(campaign.target_ratio))) " · "
            (l.date(campaign.starts_on)) " – " (l.date(campaign.deadline))
        }
        div.cards {
            div.card data-figure="coverage" {
                span.figure-label { (l.pick("Tỷ lệ bao phủ", "Coverage")) }
                span.figure-value { (l.percent(c.coverage)) }
                (bar(c.coverage, c.target_ratio, c.target_met, true))
            }
            div.card data-figure="target_met" {
                span.figure-label { (l.pick("Đạt chỉ tiêu", "Target met")) }
                span.figure-value { (met_text(l, c.target_met)) }
            }
            div.card data-figure="households_reached" {
                span.figure-label { (l.pick("Hộ đã đến", "Households reached")) }
                span.figure-value { (l.count(c.households_reached)) }
                span.legend { (l.pick("trên ", "of ")) (l.count(c.households_total)) (l.pick(" hộ", " households")) }
            }
            div.card data-figure="smartphone_users" {
                span.figure-label { (l.pick("Người dùng điện thoại thông minh", "Smartphone users")) }
                span.figure-value { (l.count(c.smartphone_users)) }
            }
            div.card data-figure="app_users" {
                span.figure-label { (l.pick("Đã cài ứng dụng", "App users")) }
                span.figure-value { (l.count(c.app_users)) }
            }
            div.card data-figure="last_visit_at" {
                span.figure-label { (l.pick("Lần đến gần nhất", "Last visit")) }
                span.figure-value { (last_visit) }
            }
            div.card data-figure="deadline" {
                span.figure-label { (l.pick("Hạn chót", "Deadline")) }
                span.figure-value { (l.date(view.progress.deadline)) }
            }
            div.card data-figure="projected_date" {
                span.figure-label { (l.pick("Dự kiến đạt", "Projected date")) }
                span.figure-value { (projected) }
            }
        }
        @if is_ward {
            p {
                a href={ "/campaigns/" (cid) "/visits?ward_id=" (c.area_id) } {
                    (l.pick("Xem danh sách lượt đến", "See the visit list"))
                }
                @if may_assign {
                    " · "
                    a href={ "/campaigns/" (cid) "/assignments?ward_id=" (c.area_id) } {
                        (l.pick("Phân công tuyến đường", "Street assignments"))
                    }
                }
            }
        }
        h2 { (l.pick("Tiến độ theo ngày", "Daily progress")) }
        (chart(l, &view.progress))
        @if let Some(children) = c.children.as_ref().filter(|children| !children.is_empty()) {
            h2 { (l.pick("Theo địa bàn trực thuộc", "By area")) }
            div.table-wrap {
                table.coverage {
                    thead { tr {
                        th { (l.pick("Địa bàn", "Area")) }
                        th.num { (l.pick("Hộ đã đến", "Households reached")) }
                        th.num.hide-narrow { (l.pick("Người dùng ĐTTM", "Smartphone users")) }
                        th.num.hide-narrow { (l.pick("Đã cài ứng dụng", "App users")) }
                        th { (l.pick("Tỷ lệ bao phủ", "Coverage")) }
                        th { (l.pick("Đạt chỉ tiêu", "Target met")) }
                        th.hide-narrow { (l.pick("Lần đến gần nhất", "Last visit")) }
                    } }
                    tbody {
                        @for child in children {
                            tr data-area-code=(child.code) {
                                td { a href={ "/campaigns/" (cid) "/areas/" (child.area_id) } { (child.name) } }
                                td.num { (l.count(child.households_reached)) " / " (l.count(child.households_total)) }
                                td.num.hide-narrow { (l.count(child.smartphone_users)) }
                                td.num.hide-narrow { (l.count(child.app_users)) }
                                td.num {
                                    (l.percent(child.coverage)) " "
                                    (bar(child.coverage, child.target_ratio, child.target_met, false))
                                }
                                td { (met_text(l, child.target_met)) }
                                td.hide-narrow {
                                    (child.last_visit_at.as_deref().map_or_else(|| "—".to_owned(), |t| local_time(l, t, tz)))
                                }
                            }
                        }
                    }
                }
            }
            p.legend { (l.pick("Vạch đen trên thanh là chỉ tiêu.", "The black line across each bar is the target.")) }
        }
    }
}

/// The daily coverage as a line against the target, an inline SVG (no script, no outside file).
fn chart(l: Lang, progress: &Progress) -> Markup {
    const W: f64 = 560.0;
    const H: f64 = 250.0;
    const LEFT: f64 = 50.0;
    const RIGHT: f64 = 16.0;
    const TOP: f64 = 16.0;
    const BOTTOM: f64 = 34.0;
    let items = &progress.items;
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let n = items.len();
    #[allow(clippy::cast_precision_loss)]
    let x_of = |i: usize| {
        if n <= 1 {
            LEFT + plot_w / 2.0
        } else {
            LEFT + plot_w * i as f64 / (n - 1) as f64
        }
    };
    let y_of = |ratio: f64| TOP + plot_h * (1.0 - ratio.clamp(0.0, 1.0));
    let points: Vec<String> = items
        .iter()
        .enumerate()
        .map(|(i, item)| format!("{:.1},{:.1}", x_of(i), y_of(item.coverage.unwrap_or(0.0))))
        .collect();
    let step = n.div_ceil(7).max(1);
    let target_y = y_of(progress.target_ratio);
    let deadline_x = items
        .iter()
        .position(|item| item.date == progress.deadline)
        .map(x_of);
    let short_date = |date: NaiveDate| match l {
        Lang::Vi => date.format("%d/%m").to_string(),
        Lang::En => date.format("%-d %b").to_string(),
    };
    let label = l.pick(
        "Biểu đồ tỷ lệ bao phủ theo ngày, so với chỉ tiêu",
        "Chart of coverage per day against the target",
    );
    html! {
        svg.chart viewBox=(format!("0 0 {W} {H}")) role="img" aria-label=(label) {
            title { (label) }
            @for tick in [0.0_f64, 0.25, 0.5, 0.75, 1.0] {
                line x1=(LEFT) x2=(W - RIGHT) y1=(format!("{:.1}", y_of(tick))) y2=(format!("{:.1}", y_of(tick)))
                    stroke="#e4e8ee" stroke-width="1" {}
                text x=(LEFT - 6.0) y=(format!("{:.1}", y_of(tick) + 4.0)) text-anchor="end"
                    font-size="13" fill="#5b6575" { (l.percent(Some(tick)).replace(",0 %", " %").replace(".0 %", " %")) }
            }
            @if let Some(x) = deadline_x {
                line x1=(format!("{x:.1}")) x2=(format!("{x:.1}")) y1=(TOP) y2=(H - BOTTOM)
                    stroke="#b3261e" stroke-width="1" stroke-dasharray="2 3" {}
                text x=(format!("{:.1}", x - 4.0)) y=(TOP + 10.0) text-anchor="end" font-size="13" fill="#b3261e" {
                    (l.pick("Hạn chót", "Deadline"))
                }
            }
            line.target x1=(LEFT) x2=(W - RIGHT) y1=(format!("{target_y:.1}")) y2=(format!("{target_y:.1}"))
                stroke="#1d2430" stroke-width="1.5" stroke-dasharray="6 4" {}
            text x=(W - RIGHT - 4.0) y=(format!("{:.1}", target_y + 16.0)) text-anchor="end"
                font-size="13" fill="#1d2430" {
                (l.pick("Chỉ tiêu ", "Target ")) (l.percent(Some(progress.target_ratio)))
            }
            @if n > 0 {
                polyline points=(points.join(" ")) fill="none" stroke="#0b5cad" stroke-width="2.5"
                    stroke-linejoin="round" {}
                @for (i, item) in items.iter().enumerate() {
                    circle cx=(format!("{:.1}", x_of(i))) cy=(format!("{:.1}", y_of(item.coverage.unwrap_or(0.0))))
                        r="3" fill="#0b5cad" {
                        title { (l.date(item.date)) ": " (l.percent(item.coverage)) }
                    }
                    @if i.is_multiple_of(step) || i + 1 == n {
                        text x=(format!("{:.1}", x_of(i))) y=(H - BOTTOM + 20.0)
                            text-anchor=(if n == 1 { "middle" } else if i == 0 { "start" } else if i + 1 == n { "end" } else { "middle" })
                            font-size="13" fill="#5b6575" { (short_date(item.date)) }
                    }
                }
            }
        }
    }
}
