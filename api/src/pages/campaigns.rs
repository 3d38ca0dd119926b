//! `GET /` and `GET /campaigns`: the campaigns that reach the signed-in user's area.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use maud::html;
use sync_protocol::Role;

use super::render::{respond, PageError};
use super::session::{CookieSecure, Viewer};
use crate::access::Endpoint;
use crate::db::areas;
use crate::db::campaigns::{self, CampaignRow};
use crate::state::AppState;

/// The campaigns whose area overlaps the viewer's: those above it and those inside it.
fn visible_campaigns(
    conn: &mut crate::db::DbConn,
    viewer_role: Role,
    viewer_area: Option<crate::model::AreaId>,
) -> crate::error::ApiResult<Vec<(CampaignRow, String)>> {
    let mut shown = Vec::new();
    for campaign in campaigns::all(conn)? {
        let overlaps = match (viewer_role, viewer_area) {
            (Role::Admin, _) => true,
            (_, Some(own)) => {
                areas::is_within(conn, own, campaign.area_id)?
                    || areas::is_within(conn, campaign.area_id, own)?
            }
            (_, None) => false,
        };
        if overlaps {
            let area_name = areas::find(conn, campaign.area_id)?
                .map(|area| area.name)
                .unwrap_or_default();
            shown.push((campaign, area_name));
        }
    }
    shown.sort_by(|a, b| {
        b.0.starts_on
            .cmp(&a.0.starts_on)
            .then(a.0.name.cmp(&b.0.name))
    });
    Ok(shown)
}

/// `GET /campaigns` (and the home page `/`).
pub async fn list(
    viewer: Viewer,
    state: web::Data<AppState>,
    secure: web::Data<CookieSecure>,
) -> Result<HttpResponse, PageError> {
    let l = viewer.lang;
    viewer
        .caller
        .permit(Endpoint::ReadCatalogue)
        .map_err(|err| PageError::from_api(l, err))?;
    let (role, area) = (viewer.caller.role, viewer.caller.area_id());
    let shown = state
        .db
        .read(move |conn| visible_campaigns(conn, role, area))
        .await
        .map_err(|err| PageError::from_api(l, err))?;
    let body = html! {
        @if shown.is_empty() {
            p.notice { (l.pick("Chưa có chiến dịch nào trên địa bàn của bạn.",
                "There is no campaign in your area yet.")) }
        } @else {
            div.table-wrap {
                table {
                    thead { tr {
                        th { (l.pick("Chiến dịch", "Campaign")) }
                        th { (l.pick("Địa bàn", "Area")) }
                        th.num { (l.pick("Chỉ tiêu", "Target")) }
                        th.num { (l.pick("Bắt đầu", "Starts")) }
                        th.num { (l.pick("Hạn chót", "Deadline")) }
                    } }
                    tbody {
                        @for (campaign, area_name) in &shown {
                            tr {
                                td { a href={ "/campaigns/" (campaign.id) } { (campaign.name) } }
                                td { (area_name) }
                                td.num { (l.percent(Some(campaign.target_ratio))) }
                                td.num { (l.date(campaign.starts_on)) }
                                td.num { (l.date(campaign.deadline)) }
                            }
                        }
                    }
                }
            }
        }
    };
    let title = l.pick("Chiến dịch", "Campaigns");
    Ok(respond(
        StatusCode::OK,
        super::render::page(viewer.frame(title), body),
        viewer.remember_lang,
        **secure,
    ))
}
