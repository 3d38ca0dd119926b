//! Keeps ward counters equal to a recount: snapshots what each household involved in an
//! ingest contributes before it, again after, and writes only the differences.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use sync_protocol::{delta, household_coverage, CounterDelta, HouseholdCoverage, Kind, VisitFacts};

use super::ingest::WorkingSet;
use crate::db::counters::{self, WardCoverageRow};
use crate::db::{records, DbConn};
use crate::error::ApiResult;
use crate::model::stored_uuid;

/// What one household contributes, per campaign, at one moment.
#[derive(Debug, Clone, Default)]
struct Snapshot {
    ward_id: Option<String>,
    counted: bool,
    per_campaign: BTreeMap<String, HouseholdCoverage>,
}

/// For one (campaign, ward): the latest `visited_at` (µs, text) among households that
/// changed, and the largest old `visited_at` that went away (the ward's maximum may be gone).
type LastVisitChange = (Option<(i64, String)>, Option<i64>);

/// The households of an ingest and their contribution before it.
#[derive(Debug)]
pub struct CoverageKeeper {
    households: BTreeSet<String>,
    extra_campaign: Option<String>,
    before: HashMap<String, Snapshot>,
}

fn visits_by_household(
    working: &WorkingSet,
) -> HashMap<&str, Vec<(&String, &super::ingest::Working)>> {
    let mut by_household: HashMap<&str, Vec<_>> = HashMap::new();
    for (id, w) in working {
        if w.kind == Kind::Visit {
            if let Some(household) = w.household_id.as_deref() {
                by_household.entry(household).or_default().push((id, w));
            }
        }
    }
    by_household
}

fn snapshot(
    working: &WorkingSet,
    visits: &HashMap<&str, Vec<(&String, &super::ingest::Working)>>,
    household_id: &str,
    extra_campaign: Option<&str>,
) -> Snapshot {
    let household = working
        .get(household_id)
        .filter(|w| w.kind == Kind::Household);
    let gone = household.is_none_or(|h| h.state.deleted());
    let its_visits = visits
        .get(household_id)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut campaigns: BTreeSet<String> = its_visits
        .iter()
        .filter_map(|(_, v)| v.campaign_id.clone())
        .collect();
    campaigns.extend(extra_campaign.map(str::to_owned));
    let per_campaign = campaigns
        .into_iter()
        .map(|campaign| {
            let facts: Vec<VisitFacts> = its_visits
                .iter()
                .filter(|(_, v)| v.campaign_id.as_deref() == Some(campaign.as_str()))
                .filter_map(|(id, v)| VisitFacts::from_state(stored_uuid(id), &v.state))
                .collect();
            (campaign, household_coverage(gone, &facts))
        })
        .collect();
    Snapshot {
        ward_id: household
            .map(|h| h.ward_id.clone())
            .or_else(|| its_visits.first().map(|(_, v)| v.ward_id.clone())),
        counted: !gone,
        per_campaign,
    }
}

fn micros(last: &Option<(chrono::DateTime<chrono::FixedOffset>, String)>) -> Option<i64> {
    last.as_ref().map(|(at, _)| at.timestamp_micros())
}

impl CoverageKeeper {
    /// Snapshots the households before any change is merged.
    pub(crate) fn before(
        working: &WorkingSet,
        households: &BTreeSet<String>,
        campaign_id: Option<&str>,
    ) -> CoverageKeeper {
        let visits = visits_by_household(working);
        let before = households
            .iter()
            .map(|h| (h.clone(), snapshot(working, &visits, h, campaign_id)))
            .collect();
        CoverageKeeper {
            households: households.clone(),
            extra_campaign: campaign_id.map(str::to_owned),
            before,
        }
    }

    /// Writes the differences between the snapshots and the merged state, in a fixed key
    /// order so that concurrent ingests lock counter rows in the same order.
    pub(crate) fn apply(&self, conn: &mut DbConn, working: &WorkingSet) -> ApiResult<()> {
        let visits = visits_by_household(working);
        let mut totals: BTreeMap<String, i64> = BTreeMap::new();
        let mut sums: BTreeMap<(String, String), CounterDelta> = BTreeMap::new();
        // (campaign, ward) → (latest after-value among changed households, whether a
        // household that may have held the ward's maximum lost it)
        let mut lasts: BTreeMap<(String, String), LastVisitChange> = BTreeMap::new();
        for household in &self.households {
            let old = self.before.get(household).cloned().unwrap_or_default();
            let new = snapshot(working, &visits, household, self.extra_campaign.as_deref());
            let Some(ward) = new.ward_id.clone().or(old.ward_id.clone()) else {
                continue;
            };
            let total = i64::from(new.counted) - i64::from(old.counted);
            if total != 0 {
                *totals.entry(ward.clone()).or_default() += total;
            }
            let campaigns: BTreeSet<&String> = old
                .per_campaign
                .keys()
                .chain(new.per_campaign.keys())
                .collect();
            for campaign in campaigns {
                let empty = HouseholdCoverage::default();
                let before = old.per_campaign.get(campaign).unwrap_or(&empty);
                let after = new.per_campaign.get(campaign).unwrap_or(&empty);
                let mut change = delta(before, after);
                change.households_total = 0;
                let key = (campaign.clone(), ward.clone());
                if !change.is_zero() {
                    *sums.entry(key.clone()).or_default() += change;
                }
                if before.last_visit_at != after.last_visit_at {
                    let entry = lasts.entry(key).or_default();
                    if let Some((at, text)) = &after.last_visit_at {
                        let us = at.timestamp_micros();
                        if entry.0.as_ref().is_none_or(|(best, _)| us > *best) {
                            entry.0 = Some((us, text.clone()));
                        }
                    }
                    let (old_us, new_us) =
                        (micros(&before.last_visit_at), micros(&after.last_visit_at));
                    if old_us.is_some() && new_us < old_us {
                        entry.1 = entry.1.max(old_us);
                    }
                }
            }
        }
        for (ward, total) in &totals {
            counters::add_households(conn, ward, *total)?;
        }
        let keys: BTreeSet<&(String, String)> = sums.keys().chain(lasts.keys()).collect();
        for key in keys {
            let change = sums.get(key).copied().unwrap_or_default();
            counters::add_coverage(
                conn,
                &WardCoverageRow {
                    campaign_id: key.0.clone(),
                    ward_id: key.1.clone(),
                    households_attempted: change.households_attempted,
                    households_reached: change.households_reached,
                    smartphone_users: change.smartphone_users,
                    app_users: change.app_users,
                    last_visit_at: None,
                    last_visit_at_us: None,
                },
            )?;
            if let Some((candidate, lost_max)) = lasts.get(key) {
                let stored = counters::find_coverage(conn, &key.0, &key.1)?
                    .and_then(|row| row.last_visit_at_us);
                let lost = lost_max.is_some_and(|lost| stored.is_none_or(|s| lost >= s));
                if lost {
                    let recounted = records::latest_live_visit(conn, &key.0, &key.1)?;
                    counters::set_last_visit(conn, &key.0, &key.1, recounted)?;
                } else if let Some((us, text)) = candidate {
                    if stored.is_none_or(|s| *us > s) {
                        counters::set_last_visit(conn, &key.0, &key.1, Some((text.clone(), *us)))?;
                    }
                }
            }
        }
        Ok(())
    }
}
