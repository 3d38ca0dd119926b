//! The history of a visit's fields (contract section 8).

use serde::Serialize;
use serde_json::Value;
use sync_protocol::Stamped;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::access::Endpoint;
use crate::db::history::{self, Position};
use crate::db::DbConn;
use crate::error::{ApiError, ApiResult};
use crate::model::{rfc3339_ms, CampaignId, RecordId};
use crate::services::visits::{visible_visit, MAX_PAGE_SIZE};
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

/// A page of a visit's history.
#[derive(Debug, Clone)]
pub struct HistoryPage {
    /// Oldest `received_at` first.
    pub items: Vec<HistoryEntry>,
    /// The last entry's position, where the next page starts; None on the last page.
    pub next: Option<Position>,
}

/// A page of every value ever pushed for a visit's fields, won or lost, oldest first: at
/// most `page_size` (1–1000) entries after the entry `after`. It reads one page of the log
/// and the visit's current state, never the whole log.
pub fn history_page(
    conn: &mut DbConn,
    scope: &Scope,
    campaign_id: CampaignId,
    id: RecordId,
    page_size: i64,
    after: Option<Position>,
) -> ApiResult<HistoryPage> {
    scope.permit(Endpoint::ReadVisits)?;
    if !(1..=MAX_PAGE_SIZE).contains(&page_size) {
        return Err(ApiError::validation(
            "page_size must be an integer from 1 to 1000",
        ));
    }
    let campaign = campaigns::load(conn, campaign_id)?;
    let row = visible_visit(conn, scope, &campaign, id)?;
    let page_len = usize::try_from(page_size).map_err(ApiError::internal)?;
    let mut entries = history::page_of_record(conn, row.id, after, page_size + 1)?;
    let more = entries.len() > page_len;
    entries.truncate(page_len);
    let next = entries.last().filter(|_| more).map(|e| e.position);
    let items = entries
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
        .collect();
    Ok(HistoryPage { items, next })
}
