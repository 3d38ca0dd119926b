//! `canvass verify`: recounts every campaign's counters from the records and reports each
//! ward whose stored counters differ.

use std::collections::{BTreeMap, HashMap};

use diesel::prelude::*;
use sync_protocol::{household_coverage, Counters, HouseholdCoverage, RecordState, VisitFacts};

use crate::db::schema::{campaigns, records};
use crate::db::{counters, DbConn};
use crate::model::stored_uuid;

/// A ward whose stored counters differ from the recount.
#[derive(Debug, Clone, PartialEq)]
pub struct Mismatch {
    /// Campaign id (`None` for the campaign-independent household totals).
    pub campaign_id: Option<String>,
    /// Ward id.
    pub ward_id: String,
    /// What is stored.
    pub stored: String,
    /// What a recount gives.
    pub recounted: String,
}

/// The figures `verify` compares, as it reports them.
fn describe(row: &counters::WardCoverageRow) -> String {
    format!(
        "attempted={} reached={} smartphone_users={} app_users={} last_visit_at_us={:?}",
        row.households_attempted,
        row.households_reached,
        row.smartphone_users,
        row.app_users,
        row.last_visit_at_us
    )
}

type Row = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
);

/// Recounts everything; an empty answer means the counters are exact.
pub fn verify(conn: &mut DbConn) -> Result<Vec<Mismatch>, String> {
    let rows: Vec<Row> = records::table
        .select((
            records::id,
            records::kind,
            records::ward_id,
            records::household_id,
            records::campaign_id,
            records::state,
        ))
        .load(conn)
        .map_err(|e| e.to_string())?;
    let mut households: HashMap<String, (String, bool)> = HashMap::new();
    let mut visits: BTreeMap<(String, String), Vec<VisitFacts>> = BTreeMap::new();
    for (id, kind, ward, household, campaign, state) in rows {
        let state: RecordState =
            serde_json::from_str(&state).map_err(|e| format!("record {id}: {e}"))?;
        if kind == "household" {
            households.insert(id, (ward, state.deleted()));
        } else if let (Some(household), Some(campaign)) = (household, campaign) {
            if let Some(facts) = VisitFacts::from_state(stored_uuid(&id), &state) {
                visits.entry((campaign, household)).or_default().push(facts);
            }
        }
    }
    let mut mismatches = Vec::new();
    let mut totals: BTreeMap<String, i64> = BTreeMap::new();
    for (ward, deleted) in households.values() {
        *totals.entry(ward.clone()).or_default() += i64::from(!deleted);
    }
    let stored_totals: BTreeMap<String, i64> = counters::all_households(conn)
        .map_err(|e| e.to_string())?
        .into_iter()
        .collect();
    for ward in totals
        .keys()
        .chain(stored_totals.keys())
        .collect::<std::collections::BTreeSet<_>>()
    {
        let (want, have) = (
            totals.get(ward).copied().unwrap_or(0),
            stored_totals.get(ward).copied().unwrap_or(0),
        );
        if want != have {
            mismatches.push(Mismatch {
                campaign_id: None,
                ward_id: ward.clone(),
                stored: format!("households_total={have}"),
                recounted: format!("households_total={want}"),
            });
        }
    }
    let campaign_ids: Vec<String> = campaigns::table
        .select(campaigns::id)
        .load(conn)
        .map_err(|e| e.to_string())?;
    for campaign in campaign_ids {
        let mut per_ward: BTreeMap<String, Vec<HouseholdCoverage>> = BTreeMap::new();
        for ((c, household), facts) in &visits {
            if *c != campaign {
                continue;
            }
            let Some((ward, deleted)) = households.get(household) else {
                continue;
            };
            per_ward
                .entry(ward.clone())
                .or_default()
                .push(household_coverage(*deleted, facts));
        }
        let stored: BTreeMap<String, counters::WardCoverageRow> =
            counters::all_coverage(conn, &campaign)
                .map_err(|e| e.to_string())?
                .into_iter()
                .map(|row| (row.ward_id.clone(), row))
                .collect();
        let wards: std::collections::BTreeSet<&String> =
            per_ward.keys().chain(stored.keys()).collect();
        for ward in wards {
            let recount =
                Counters::recount(per_ward.get(ward).map(Vec::as_slice).unwrap_or_default());
            let last = per_ward.get(ward).and_then(|hs| {
                hs.iter()
                    .filter_map(|h| {
                        h.last_visit_at
                            .as_ref()
                            .map(|(at, _)| at.timestamp_micros())
                    })
                    .max()
            });
            let recounted = counters::WardCoverageRow {
                households_attempted: recount.households_attempted,
                households_reached: recount.households_reached,
                smartphone_users: recount.smartphone_users,
                app_users: recount.app_users,
                last_visit_at_us: last,
                ..Default::default()
            };
            let want = describe(&recounted);
            let have = describe(&stored.get(ward).cloned().unwrap_or_default());
            if want != have {
                mismatches.push(Mismatch {
                    campaign_id: Some(campaign.clone()),
                    ward_id: ward.clone(),
                    stored: have,
                    recounted: want,
                });
            }
        }
    }
    Ok(mismatches)
}
