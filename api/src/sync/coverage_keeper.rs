//! Keeps ward counters equal to a recount: snapshots what each household involved in an
//! ingest contributes before it, again after, and writes only the differences.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use sync_protocol::{delta, household_coverage, CounterDelta, HouseholdCoverage, Kind, VisitFacts};

use super::ingest::{Working, WorkingSet};
use crate::db::counters::{self, WardCounts};
use crate::db::{records, DbConn};
use crate::error::{ApiError, ApiResult};
use crate::model::{AreaId, CampaignId, RecordId};

/// What one household contributes, per campaign, at one moment.
#[derive(Debug, Clone, Default)]
struct Snapshot {
    ward_id: Option<AreaId>,
    counted: bool,
    per_campaign: BTreeMap<CampaignId, HouseholdCoverage>,
}

/// For one (campaign, ward): the latest `visited_at` (µs, text) among households that
/// changed, and the largest old `visited_at` that went away (the ward's maximum may be gone).
type LastVisitChange = (Option<(i64, String)>, Option<i64>);

/// The households of an ingest and their contribution before it.
#[derive(Debug)]
pub struct CoverageKeeper {
    extra_campaign: Option<CampaignId>,
    before: BTreeMap<RecordId, Snapshot>,
}

type VisitsByHousehold<'a> = HashMap<RecordId, Vec<(RecordId, &'a Working)>>;

fn visits_by_household(working: &WorkingSet) -> VisitsByHousehold<'_> {
    let mut by_household: VisitsByHousehold<'_> = HashMap::new();
    for (id, w) in working {
        if w.kind == Kind::Visit {
            if let Some(household) = w.household_id {
                by_household.entry(household).or_default().push((*id, w));
            }
        }
    }
    by_household
}

/// The facts of a stored or merged visit. Every stored visit decodes with its outcome and
/// `visited_at`, and a merge never removes them, so a visit without them is a bug that
/// would make the counters drift: an error, never a visit left out.
fn facts_of(id: RecordId, visit: &Working) -> ApiResult<VisitFacts> {
    VisitFacts::from_state(id.uuid(), &visit.state)
        .ok_or_else(|| ApiError::internal(format!("visit {id} has no valid outcome or visited_at")))
}

fn snapshot(
    working: &WorkingSet,
    visits: &VisitsByHousehold<'_>,
    household_id: RecordId,
    extra_campaign: Option<CampaignId>,
) -> ApiResult<Snapshot> {
    let household = working
        .get(&household_id)
        .filter(|w| w.kind == Kind::Household);
    let gone = household.is_none_or(Working::deleted);
    let its_visits = visits
        .get(&household_id)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut campaigns: BTreeSet<CampaignId> = its_visits
        .iter()
        .filter_map(|(_, v)| v.campaign_id)
        .collect();
    campaigns.extend(extra_campaign);
    let mut per_campaign = BTreeMap::new();
    for campaign in campaigns {
        let facts: Vec<VisitFacts> = its_visits
            .iter()
            .filter(|(_, v)| v.campaign_id == Some(campaign))
            .map(|(id, v)| facts_of(*id, v))
            .collect::<ApiResult<_>>()?;
        per_campaign.insert(campaign, household_coverage(gone, &facts));
    }
    Ok(Snapshot {
        ward_id: household
            .map(|h| h.ward_id)
            .or_else(|| its_visits.first().map(|(_, v)| v.ward_id)),
        counted: !gone,
        per_campaign,
    })
}

fn micros(last: &Option<(chrono::DateTime<chrono::FixedOffset>, String)>) -> Option<i64> {
    last.as_ref().map(|(at, _)| at.timestamp_micros())
}

impl CoverageKeeper {
    /// Snapshots the households before any change is merged.
    pub(crate) fn before(
        working: &WorkingSet,
        households: &BTreeSet<RecordId>,
        campaign_id: Option<CampaignId>,
    ) -> ApiResult<CoverageKeeper> {
        let visits = visits_by_household(working);
        let before = households
            .iter()
            .map(|h| Ok((*h, snapshot(working, &visits, *h, campaign_id)?)))
            .collect::<ApiResult<_>>()?;
        Ok(CoverageKeeper {
            extra_campaign: campaign_id,
            before,
        })
    }

    /// Writes the differences between the snapshots and the merged state, in a fixed key
    /// order so that concurrent ingests lock counter rows in the same order.
    pub(crate) fn apply(&self, conn: &mut DbConn, working: &WorkingSet) -> ApiResult<()> {
        let visits = visits_by_household(working);
        let mut totals: BTreeMap<AreaId, i64> = BTreeMap::new();
        let mut sums: BTreeMap<(CampaignId, AreaId), CounterDelta> = BTreeMap::new();
        // (campaign, ward) → (latest after-value among changed households, whether a
        // household that may have held the ward's maximum lost it)
        let mut lasts: BTreeMap<(CampaignId, AreaId), LastVisitChange> = BTreeMap::new();
        for (household, old) in &self.before {
            let new = snapshot(working, &visits, *household, self.extra_campaign)?;
            // A household in no record and with no visit (its change was rejected) counts
            // nowhere, before or after.
            let Some(ward) = new.ward_id.or(old.ward_id) else {
                continue;
            };
            let total = i64::from(new.counted) - i64::from(old.counted);
            if total != 0 {
                *totals.entry(ward).or_default() += total;
            }
            let campaigns: BTreeSet<&CampaignId> = old
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
                let key = (*campaign, ward);
                if !change.is_zero() {
                    *sums.entry(key).or_default() += change;
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
            counters::add_households(conn, *ward, *total)?;
        }
        let keys: BTreeSet<&(CampaignId, AreaId)> = sums.keys().chain(lasts.keys()).collect();
        for &(campaign, ward) in keys {
            let change = sums.get(&(campaign, ward)).copied().unwrap_or_default();
            counters::add_coverage(
                conn,
                campaign,
                ward,
                &WardCounts {
                    households_attempted: change.households_attempted,
                    households_reached: change.households_reached,
                    smartphone_users: change.smartphone_users,
                    app_users: change.app_users,
                    last_visit_at: None,
                    last_visit_at_us: None,
                },
            )?;
            if let Some((candidate, lost_max)) = lasts.get(&(campaign, ward)) {
                let stored = counters::find_coverage(conn, campaign, ward)?
                    .and_then(|row| row.counts.last_visit_at_us);
                let lost = lost_max.is_some_and(|lost| stored.is_none_or(|s| lost >= s));
                if lost {
                    let recounted = records::latest_live_visit(conn, campaign, ward)?;
                    counters::set_last_visit(conn, campaign, ward, recounted)?;
                } else if let Some((us, text)) = candidate {
                    if stored.is_none_or(|s| *us > s) {
                        counters::set_last_visit(conn, campaign, ward, Some((text.clone(), *us)))?;
                    }
                }
            }
        }
        Ok(())
    }
}
