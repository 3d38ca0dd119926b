//! The visits behind a progress timeline: a campaign's visits in some wards whose household
//! is not deleted.

use std::collections::HashSet;

use diesel::prelude::*;
use sync_protocol::RecordState;

use super::schema::records;
use super::DbConn;

/// `(visit id, household id, state)` of a campaign's visits in `wards` on households that
/// are not deleted.
pub fn live(
    conn: &mut DbConn,
    campaign_id: &str,
    wards: &[String],
) -> QueryResult<Vec<(String, String, RecordState)>> {
    let mut out = Vec::new();
    for chunk in wards.chunks(500) {
        let deleted: HashSet<String> = records::table
            .filter(records::kind.eq("household"))
            .filter(records::ward_id.eq_any(chunk))
            .filter(records::deleted.eq(true))
            .select(records::id)
            .load::<String>(conn)?
            .into_iter()
            .collect();
        let rows: Vec<(String, Option<String>, String)> = records::table
            .filter(records::kind.eq("visit"))
            .filter(records::campaign_id.eq(campaign_id))
            .filter(records::ward_id.eq_any(chunk))
            .select((records::id, records::household_id, records::state))
            .load(conn)?;
        for (id, household, state) in rows {
            let Some(household) = household else { continue };
            if deleted.contains(&household) {
                continue;
            }
            let Ok(state) = serde_json::from_str::<RecordState>(&state) else {
                continue;
            };
            out.push((id, household, state));
        }
    }
    Ok(out)
}
