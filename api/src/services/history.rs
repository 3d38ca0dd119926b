//! The history of a visit's fields (contract section 8).

use serde::Serialize;
use serde_json::Value;
use sync_protocol::Stamped;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::access::Endpoint;
use crate::db::{history, DbConn};
use crate::error::ApiResult;
use crate::model::{rfc3339_ms, CampaignId, RecordId};
use crate::services::visits::visible_visit;
use crate::services::{campaigns, Scope};

/// One history entry.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HistoryEntry {
    /// Field name.
    pub field: String,
    /// The pushed value: a string, number, boolean or null, as pushed.
    pub value: Value,
    /// Its HLC.
    pub hlc: String,
    /// Pushing device (`server` for reviews).
    pub device_id: String,
    /// Pushing user.
    pub user_id: Uuid,
    /// When the server received it.
    pub received_at: String,
    /// Whether it is the field's current value.
    pub won: bool,
}

/// Every value ever pushed for a visit's fields, won or lost, oldest first.
pub fn history_of(
    conn: &mut DbConn,
    scope: &Scope,
    campaign_id: CampaignId,
    id: RecordId,
) -> ApiResult<Vec<HistoryEntry>> {
    scope.permit(Endpoint::ReadVisits)?;
    let campaign = campaigns::load(conn, campaign_id)?;
    let row = visible_visit(conn, scope, &campaign, id)?;
    let entries = history::of_record(conn, row.id)?;
    Ok(entries
        .into_iter()
        .map(|entry| {
            // The entry holding the field's current value and HLC (both sides are in
            // canonical form, so values compare as they are stored).
            let won = row
                .state
                .get(entry.field)
                .is_some_and(|s: &Stamped| s.hlc == entry.hlc && s.value == entry.value);
            HistoryEntry {
                field: entry.field.as_str().to_owned(),
                value: entry.value,
                hlc: entry.hlc.to_string(),
                device_id: entry.device_id,
                user_id: entry.user_id.uuid(),
                received_at: rfc3339_ms(entry.received_at),
                won,
            }
        })
        .collect())
}
