//! Coverage of an area and its children (contract section 9), from the ward counters.

use std::collections::HashMap;

use crate::access::Endpoint;
use crate::db::areas::{self, AreaRow};
use crate::db::campaigns::CampaignRow;
use crate::db::{counters, DbConn};
use crate::error::{ApiError, ApiResult};
use crate::model::{AreaId, CampaignId, Level};
use crate::services::{campaigns, Scope};
use crate::sync::figures::{roll_up, Coverage, Figures};

/// The area a coverage or progress query is about (default: the campaign's own), judged
/// 404 unknown → 403 outside the scope → 422 outside the campaign.
pub fn target_area(
    conn: &mut DbConn,
    scope: &Scope,
    campaign: &CampaignRow,
    area: Option<AreaId>,
) -> ApiResult<AreaRow> {
    let id = area.unwrap_or(campaign.area_id);
    let area = areas::find(conn, id)?.ok_or_else(|| ApiError::not_found("area"))?;
    scope.require(conn, area.id)?;
    if !areas::is_within(conn, area.id, campaign.area_id)? {
        return Err(ApiError::validation(
            "the area is outside the campaign's area",
        ));
    }
    Ok(area)
}

/// The coverage of `area` (default: the campaign's own area) with its children, sorted by
/// code. A ward's `children` is empty.
pub fn coverage(
    conn: &mut DbConn,
    scope: &Scope,
    campaign_id: CampaignId,
    area: Option<AreaId>,
) -> ApiResult<Coverage> {
    scope.permit(Endpoint::ReadCoverage)?;
    let campaign = campaigns::load(conn, campaign_id)?;
    let area = target_area(conn, scope, &campaign, area)?;
    coverage_tree(conn, &campaign, &area)
}

fn coverage_tree(conn: &mut DbConn, campaign: &CampaignRow, area: &AreaRow) -> ApiResult<Coverage> {
    let subtree = areas::subtree(conn, area.id)?;
    let wards: Vec<AreaId> = subtree
        .iter()
        .filter(|a| a.level == Level::Ward)
        .map(|a| a.id)
        .collect();
    let households: HashMap<AreaId, i64> =
        counters::households_of(conn, &wards)?.into_iter().collect();
    let ward_counters: HashMap<AreaId, counters::WardCounts> =
        counters::coverage_of(conn, campaign.id, &wards)?
            .into_iter()
            .map(|row| (row.ward_id, row.counts))
            .collect();
    let figures = roll_up(&subtree, &households, &ward_counters);
    let empty = Figures::default();
    let mut top = Coverage::of(
        area,
        figures.get(&area.id).unwrap_or(&empty),
        campaign.target_ratio,
    );
    let mut children: Vec<&AreaRow> = subtree
        .iter()
        .filter(|a| a.parent_id == Some(area.id))
        .collect();
    children.sort_by(|a, b| a.code.cmp(&b.code));
    top.children = Some(
        children
            .into_iter()
            .map(|child| {
                Coverage::of(
                    child,
                    figures.get(&child.id).unwrap_or(&empty),
                    campaign.target_ratio,
                )
            })
            .collect(),
    );
    Ok(top)
}
