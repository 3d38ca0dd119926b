//! Coverage per local date and the projected date (contract sections 9 and 12).

use chrono::NaiveDate;
use serde::Serialize;
use sync_protocol::VisitFacts;
use utoipa::ToSchema;

use crate::access::Endpoint;
use crate::db::{areas, progress_visits, DbConn};
use crate::error::{ApiError, ApiResult};
use crate::model::{AreaId, CampaignId, RecordId};
use crate::services::coverage::target_area;
use crate::services::{campaigns, Scope};
use crate::sync::progress::{ratio, Timeline};

/// Most dates one progress answer holds.
pub const MAX_PROGRESS_DAYS: u64 = 366;

/// One date of progress.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProgressItem {
    /// Local date.
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    /// Reached households at the end of it.
    pub households_reached: i64,
    /// Smartphone users.
    pub smartphone_users: i64,
    /// App users.
    pub app_users: i64,
    /// Their ratio, null when 0.
    pub coverage: Option<f64>,
}

/// Answer of the progress query.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Progress {
    /// One item per date.
    pub items: Vec<ProgressItem>,
    /// The campaign's target.
    pub target_ratio: f64,
    /// The campaign's deadline.
    #[schema(value_type = String, format = Date)]
    pub deadline: NaiveDate,
    /// When the target is (or was) reached at the recent daily gain.
    #[schema(value_type = Option<String>, format = Date)]
    pub projected_date: Option<NaiveDate>,
}

/// The dates asked for; both within the years 1–9999 (the caller checks, see
/// [`crate::model::date_in_range`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct DateRange {
    /// First date (default: `starts_on`, or a year before `to` for an old campaign).
    pub from: Option<NaiveDate>,
    /// Last date (default: today in the campaign's time zone).
    pub to: Option<NaiveDate>,
}

/// Progress of `area` (default: the campaign's own area) over `range`.
pub fn progress(
    conn: &mut DbConn,
    scope: &Scope,
    campaign_id: CampaignId,
    area: Option<AreaId>,
    range: DateRange,
) -> ApiResult<Progress> {
    scope.permit(Endpoint::ReadCoverage)?;
    let campaign = campaigns::load(conn, campaign_id)?;
    let area = target_area(conn, scope, &campaign, area)?;
    let tz = campaign.timezone;
    let today = chrono::Utc::now().with_timezone(&tz).date_naive();
    let explicit = range.from.is_some() || range.to.is_some();
    let to = range.to.unwrap_or(today);
    // A default `from` never makes the span too long: an old campaign's progress without
    // parameters is its last 366 days. `to` is within the years 1–9999, so going back a
    // year cannot leave the calendar.
    let from = match range.from {
        Some(from) => from,
        None => to
            .checked_sub_days(chrono::Days::new(MAX_PROGRESS_DAYS - 1))
            .ok_or_else(|| ApiError::internal(format!("{to} minus a year")))?
            .max(campaign.starts_on),
    };
    if from > to && explicit {
        return Err(ApiError::validation("from is after to"));
    }
    if (to - from).num_days() >= MAX_PROGRESS_DAYS as i64 {
        return Err(ApiError::validation("progress spans at most 366 days"));
    }
    let wards = areas::wards_within(conn, area.id)?;
    let visits: Vec<(RecordId, VisitFacts)> = progress_visits::live(conn, campaign.id, &wards)?;
    let timeline = Timeline::build(visits, tz);
    let items = from
        .iter_days()
        .take_while(|d| *d <= to)
        .map(|date| {
            let c = timeline.at(date);
            ProgressItem {
                date,
                households_reached: c.households_reached,
                smartphone_users: c.smartphone_users,
                app_users: c.app_users,
                coverage: ratio(&c),
            }
        })
        .collect();
    Ok(Progress {
        items,
        target_ratio: campaign.target_ratio,
        deadline: campaign.deadline,
        projected_date: timeline.projected_date(today, campaign.target_ratio),
    })
}
