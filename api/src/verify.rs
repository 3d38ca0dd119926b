//! `canvass verify`: checks that every stored row decodes and that every record's street,
//! ward and campaign exist, then recounts every campaign's counters from the records and
//! reports each ward whose stored counters differ.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use sync_protocol::{household_coverage, Counters, HouseholdCoverage, Kind, VisitFacts};

use crate::db::counters::WardCounts;
use crate::db::{
    areas, assignments, campaigns, counters, history, records, streets, tokens, users, CorruptRow,
    DbConn,
};
use crate::model::{AreaId, CampaignId, RecordId, StreetId};

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
fn describe(counts: &WardCounts) -> String {
    format!(
        "attempted={} reached={} smartphone_users={} app_users={} last_visit_at_us={:?}",
        counts.households_attempted,
        counts.households_reached,
        counts.smartphone_users,
        counts.app_users,
        counts.last_visit_at_us
    )
}

/// What the records say, gathered in one pass over them.
#[derive(Debug, Default)]
struct Recount {
    /// Household → (ward, deleted).
    households: HashMap<RecordId, (AreaId, bool)>,
    /// (campaign, household) → the facts of its visits.
    visits: BTreeMap<(CampaignId, RecordId), Vec<VisitFacts>>,
    /// Every (street, ward) the records name, with one record that names it.
    streets: BTreeMap<(StreetId, AreaId), RecordId>,
    /// Every campaign the records name, with one record that names it.
    campaigns: BTreeMap<CampaignId, RecordId>,
}

fn dangling(record: RecordId, column: &'static str, problem: &str) -> CorruptRow {
    CorruptRow {
        table: "records",
        row: record.to_string(),
        column,
        problem: problem.to_owned(),
    }
}

/// The records whose street, ward or campaign is not stored: the schema leaves these
/// checks to the writer (they cost PostgreSQL a trigger query each per stored row), so
/// this is where a row written behind the server's back shows.
fn dangling_references(conn: &mut DbConn, recount: &Recount) -> Result<Vec<CorruptRow>, String> {
    let ids: Vec<StreetId> = recount
        .streets
        .keys()
        .map(|(street, _)| *street)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let wards: HashMap<StreetId, AreaId> = streets::by_ids(conn, &ids)
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|street| (street.id, street.ward_id))
        .collect();
    let mut bad = Vec::new();
    for ((street, ward), record) in &recount.streets {
        match wards.get(street) {
            None => bad.push(dangling(*record, "street_id", "names no stored street")),
            Some(its_ward) if its_ward != ward => {
                bad.push(dangling(*record, "ward_id", "is not its street's ward"));
            }
            Some(_) => {}
        }
    }
    let stored: BTreeSet<CampaignId> = campaigns::all(conn)
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|c| c.id)
        .collect();
    for (campaign, record) in &recount.campaigns {
        if !stored.contains(campaign) {
            bad.push(dangling(*record, "campaign_id", "names no stored campaign"));
        }
    }
    Ok(bad)
}

/// A table's check that every row decodes.
type TableScan = fn(&mut DbConn) -> diesel::QueryResult<Vec<CorruptRow>>;

/// Every stored row of the tables other than `records` that does not decode.
fn undecodable_outside_records(conn: &mut DbConn) -> Result<Vec<CorruptRow>, String> {
    let scans: [TableScan; 8] = [
        areas::undecodable,
        users::undecodable,
        tokens::undecodable,
        streets::undecodable,
        campaigns::undecodable,
        assignments::undecodable,
        counters::undecodable,
        history::undecodable,
    ];
    let mut bad = Vec::new();
    for scan in scans {
        bad.extend(scan(conn).map_err(|e| e.to_string())?);
    }
    Ok(bad)
}

/// Checks every stored row and recounts everything. An empty answer means every row
/// decodes and the counters are exact; rows that do not decode are an error naming each
/// of them (the recount would be meaningless without them).
pub fn verify(conn: &mut DbConn) -> Result<Vec<Mismatch>, String> {
    let mut bad = undecodable_outside_records(conn)?;
    let mut recount = Recount::default();
    records::scan(conn, |row| match row {
        Err(corrupt) => bad.push(corrupt),
        Ok(row) => {
            recount
                .streets
                .entry((row.street_id, row.ward_id))
                .or_insert(row.id);
            if let Some(campaign) = row.campaign_id {
                recount.campaigns.entry(campaign).or_insert(row.id);
            }
            match (row.kind, row.household_id, row.campaign_id) {
                (Kind::Household, _, _) => {
                    recount
                        .households
                        .insert(row.id, (row.ward_id, row.state.deleted()));
                }
                (Kind::Visit, Some(household), Some(campaign)) => {
                    // A stored visit decodes only with its facts and both ids.
                    if let Some(facts) = row.visit_facts() {
                        recount
                            .visits
                            .entry((campaign, household))
                            .or_default()
                            .push(facts);
                    }
                }
                (Kind::Visit, _, _) => {}
            }
        }
    })
    .map_err(|e| e.to_string())?;
    if bad.is_empty() {
        // Read only once the streets and campaigns themselves decode.
        bad.extend(dangling_references(conn, &recount)?);
    }
    if !bad.is_empty() {
        let mut report = format!(
            "{} stored row(s) do not decode; repair them, then verify again (the recount was skipped):",
            bad.len()
        );
        for row in &bad {
            report.push_str(&format!(
                "\n  BAD ROW table={} row={} column={}: {}",
                row.table, row.row, row.column, row.problem
            ));
        }
        return Err(report);
    }
    compare(conn, &recount)
}

/// Compares the stored counters with the recount.
fn compare(conn: &mut DbConn, recount: &Recount) -> Result<Vec<Mismatch>, String> {
    let mut mismatches = Vec::new();
    let mut totals: BTreeMap<AreaId, i64> = BTreeMap::new();
    for (ward, deleted) in recount.households.values() {
        *totals.entry(*ward).or_default() += i64::from(!deleted);
    }
    let stored_totals: BTreeMap<AreaId, i64> = counters::all_households(conn)
        .map_err(|e| e.to_string())?
        .into_iter()
        .collect();
    for ward in totals
        .keys()
        .chain(stored_totals.keys())
        .collect::<BTreeSet<_>>()
    {
        // A ward with no household has no `ward_totals` row: its total is 0.
        let (want, have) = (
            totals.get(ward).copied().unwrap_or(0),
            stored_totals.get(ward).copied().unwrap_or(0),
        );
        if want != have {
            mismatches.push(Mismatch {
                campaign_id: None,
                ward_id: ward.to_string(),
                stored: format!("households_total={have}"),
                recounted: format!("households_total={want}"),
            });
        }
    }
    let all_campaigns = campaigns::all(conn).map_err(|e| e.to_string())?;
    for campaign in all_campaigns.iter().map(|c| c.id) {
        let mut per_ward: BTreeMap<AreaId, Vec<HouseholdCoverage>> = BTreeMap::new();
        for ((c, household), facts) in &recount.visits {
            if *c != campaign {
                continue;
            }
            // A visit whose household record is missing counts nowhere, as in the counters.
            let Some((ward, deleted)) = recount.households.get(household) else {
                continue;
            };
            per_ward
                .entry(*ward)
                .or_default()
                .push(household_coverage(*deleted, facts));
        }
        let stored: BTreeMap<AreaId, WardCounts> = counters::all_coverage(conn, campaign)
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|row| (row.ward_id, row.counts))
            .collect();
        let wards: BTreeSet<&AreaId> = per_ward.keys().chain(stored.keys()).collect();
        for ward in wards {
            let recounted = per_ward.get(ward).map(Vec::as_slice).unwrap_or_default();
            let figures = Counters::recount(recounted);
            let last = recounted
                .iter()
                .filter_map(|h| {
                    h.last_visit_at
                        .as_ref()
                        .map(|(at, _)| at.timestamp_micros())
                })
                .max();
            let want = describe(&WardCounts {
                households_attempted: figures.households_attempted,
                households_reached: figures.households_reached,
                smartphone_users: figures.smartphone_users,
                app_users: figures.app_users,
                last_visit_at_us: last,
                last_visit_at: None,
            });
            // A ward never counted in this campaign has no row: all its figures are 0.
            let have = describe(&stored.get(ward).cloned().unwrap_or_default());
            if want != have {
                mismatches.push(Mismatch {
                    campaign_id: Some(campaign.to_string()),
                    ward_id: ward.to_string(),
                    stored: have,
                    recounted: want,
                });
            }
        }
    }
    Ok(mismatches)
}
