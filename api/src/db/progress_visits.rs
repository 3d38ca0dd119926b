//! The visits behind a progress timeline: a campaign's visits in some wards whose household
//! is not deleted.

use std::collections::HashSet;

use diesel::prelude::*;
use sync_protocol::{Kind, RecordState, VisitFacts};

use super::decode::Cells;
use super::error::DbResult;
use super::schema::records;
use super::DbConn;
use crate::model::{AreaId, CampaignId, RecordId};

/// `(household id, visit facts)` of a campaign's visits in `wards` on households that are
/// not deleted.
pub fn live(
    conn: &mut DbConn,
    campaign_id: CampaignId,
    wards: &[AreaId],
) -> DbResult<Vec<(RecordId, VisitFacts)>> {
    let wards: Vec<String> = wards.iter().map(ToString::to_string).collect();
    let mut out = Vec::new();
    for chunk in wards.chunks(500) {
        let deleted: HashSet<String> = records::table
            .filter(records::kind.eq(Kind::Household.as_str()))
            .filter(records::ward_id.eq_any(chunk))
            .filter(records::deleted.eq(true))
            .select(records::id)
            .load::<String>(conn)?
            .into_iter()
            .collect();
        let rows: Vec<(String, Option<String>, String)> = records::table
            .filter(records::kind.eq(Kind::Visit.as_str()))
            .filter(records::campaign_id.eq(campaign_id.to_string()))
            .filter(records::ward_id.eq_any(chunk))
            .select((records::id, records::household_id, records::state))
            .load(conn)?;
        for (id, household, state) in rows {
            let cells = Cells::new("records", &id);
            let household = cells.required("household_id", household)?;
            if deleted.contains(&household) {
                continue;
            }
            let visit: RecordId = cells.exact("id", &id, "UUID")?;
            let household: RecordId = cells.exact("household_id", &household, "UUID")?;
            let state: RecordState = cells.json("state", &state)?;
            let facts = VisitFacts::from_state(visit.uuid(), &state).ok_or_else(|| {
                cells.corrupt("state", "a visit without a valid outcome or visited_at")
            })?;
            out.push((household, facts));
        }
    }
    Ok(out)
}
