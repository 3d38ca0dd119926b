//! Creating many households that do not exist yet, in bulk: what an import needs.
//!
//! A new household with only its `house_number` is the simplest thing an ingest can write:
//! no record to merge with, no visit to count, no rule left to judge once the import has
//! checked the row. Going through [`super::ingest::ingest`] change by change made a
//! 350,000-row import hold the writer for minutes; here it is a few multi-row statements
//! per thousand rows, with the same rows, history and counters as an ingest would leave.

use std::collections::BTreeMap;

use sync_protocol::{FieldName, Hlc, Kind, RecordState, Stamped};

use super::derive::derive;
use crate::db::history::{self, NewChange, NewEntry};
use crate::db::records::{self, RecordRow};
use crate::db::{counters, streets, DbConn};
use crate::error::ApiResult;
use crate::model::{AreaId, RecordId, StreetId, UserId};
use crate::state::{now_ms_i64, SERVER_NODE};

/// One household to create.
#[derive(Debug, Clone)]
pub struct NewHousehold {
    /// Its deterministic id.
    pub id: RecordId,
    /// Its street.
    pub street_id: StreetId,
    /// The street's ward.
    pub ward_id: AreaId,
    /// The house number, already checked.
    pub house_number: String,
}

/// Takes the row locks of `streets` in one global order, as an ingest does, so that no push
/// can create one of these households between the caller's existence check and the insert.
pub fn lock_streets(conn: &mut DbConn, street_ids: &[StreetId]) -> ApiResult<()> {
    let mut sorted = street_ids.to_vec();
    sorted.sort();
    sorted.dedup();
    for street_id in sorted {
        streets::lock(conn, street_id)?;
    }
    Ok(())
}

/// Creates `households`, none of which may exist (the caller holds the locks of their
/// streets and has checked), stamped `hlc` by the server on behalf of `user_id`. Seqs are
/// handed out per street in the given order.
pub fn create(
    conn: &mut DbConn,
    user_id: UserId,
    households: &[NewHousehold],
    hlc: &Hlc,
) -> ApiResult<()> {
    let now_ms = now_ms_i64();
    let mut per_street: BTreeMap<StreetId, i64> = BTreeMap::new();
    let mut per_ward: BTreeMap<AreaId, i64> = BTreeMap::new();
    for household in households {
        *per_street.entry(household.street_id).or_default() += 1;
        *per_ward.entry(household.ward_id).or_default() += 1;
    }
    let mut next_seq = BTreeMap::new();
    for (street_id, count) in &per_street {
        next_seq.insert(
            *street_id,
            streets::allocate_seqs(conn, *street_id, *count, Some(hlc))?,
        );
    }
    // In slices, so that memory stays bounded by the slice, not by the import.
    for slice in households.chunks(5000) {
        let mut rows = Vec::with_capacity(slice.len());
        let mut entries = Vec::with_capacity(slice.len());
        for household in slice {
            let value = serde_json::Value::String(household.house_number.clone());
            let mut state = RecordState::new();
            state.fields.insert(
                FieldName::HouseNumber,
                Stamped::new(value.clone(), hlc.clone()),
            );
            let derived = derive(household.id, Kind::Household, &state)?;
            let seq = next_seq.entry(household.street_id).or_insert(1);
            rows.push(RecordRow {
                id: household.id,
                kind: Kind::Household,
                street_id: household.street_id,
                ward_id: household.ward_id,
                household_id: None,
                campaign_id: None,
                // An imported household belongs to no volunteer.
                volunteer_id: None,
                seq: *seq,
                state,
                deleted: derived.deleted,
                house_number: derived.house_number,
                outcome: derived.outcome,
                visited_at: derived.visited_at,
                visited_at_us: derived.visited_at_us,
                review: derived.review,
                first_device: None,
                conflict: false,
                updated_at: now_ms,
            });
            *seq += 1;
            entries.push(NewChange {
                record_id: household.id,
                entries: vec![NewEntry {
                    field: FieldName::HouseNumber,
                    value,
                    hlc: hlc.clone(),
                    lost: false,
                }],
                device_id: SERVER_NODE.to_owned(),
                user_id,
                received_at: now_ms,
            });
        }
        records::upsert_many(conn, &rows)?;
        history::append(conn, &entries)?;
    }
    for (ward_id, count) in per_ward {
        counters::add_households(conn, ward_id, count)?;
    }
    Ok(())
}
