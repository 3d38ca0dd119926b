//! Finding the campaign a request names.

use crate::db::campaigns::{self, CampaignRow};
use crate::db::DbConn;
use crate::error::{ApiError, ApiResult};
use crate::model::CampaignId;

/// Loads a campaign, 404 when unknown. Campaigns are visible to every role (section 11).
pub fn load(conn: &mut DbConn, id: impl Into<CampaignId>) -> ApiResult<CampaignRow> {
    campaigns::find(conn, id.into())?.ok_or_else(|| ApiError::not_found("campaign"))
}
