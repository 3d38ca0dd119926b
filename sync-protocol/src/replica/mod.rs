//! A phone's replica: the reference client of the protocol, meant to be the core of a phone
//! app, and the actor of convergence simulations.
//!
//! It holds the records the phone knows, the outbox of changes not yet acknowledged, the
//! HLC clock, and one cursor map per campaign. The whole of it is saved and restored with
//! serde ([`Replica::save`], [`Replica::restore`]), so nothing is lost across an app
//! restart. It does no I/O: the app sends the bodies it builds and hands back the answers.
//!
//! - [`push`]: [`Replica::prepare_push`] and [`Replica::acknowledge`], the safe push cycle.
//! - [`pull`]: [`Replica::pull_request`] and [`Replica::apply_pull`], per campaign.
//! - [`recovery`]: stamping again what a clock that ran ahead stamped.
//! - [`saved`]: the versioned saved form.

pub mod pull;
pub mod push;
pub mod recovery;
pub mod saved;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::canonical::canonical_value;
use crate::change::Change;
use crate::clock::Clock;
use crate::field::{FieldName, Kind, Outcome};
use crate::hlc::{Hlc, HlcError};
use crate::household_id::household_id;
use crate::merge::{merge_field, FieldMerge};
use crate::state::{RecordState, Stamped};
use crate::wire::{Bucket, MAX_PUSH_BYTES};

pub use pull::PullReport;
pub use push::{AckError, FinalRejection, PushBatch, PushReport};

/// The device id the server stamps its own writes with; no phone may use it.
pub const SERVER_DEVICE_ID: &str = "server";

/// The largest change an edit may make, in bytes of JSON: whatever it is, one change must
/// fit in a push body with its envelope.
pub const MAX_CHANGE_BYTES: usize = MAX_PUSH_BYTES - 256;

/// One record as a replica holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplicaRecord {
    /// Its kind.
    pub kind: Kind,
    /// Its street.
    pub street_id: Uuid,
    /// For a visit, its household.
    #[serde(default)]
    pub household_id: Option<Uuid>,
    /// For a visit, its campaign.
    #[serde(default)]
    pub campaign_id: Option<Uuid>,
    /// For a visit, the user who created it, as the server reported it (`None` until
    /// pulled; always `None` for a household).
    #[serde(default)]
    pub volunteer_id: Option<Uuid>,
    /// Whether the server is known to hold it: it was pulled, or one of its changes was
    /// accepted.
    #[serde(default)]
    pub on_server: bool,
    /// Its fields.
    #[serde(rename = "fields")]
    pub state: RecordState,
}

/// A change waiting in the outbox until the server's result for it comes back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    /// Its number: unique in this replica, increasing along the outbox.
    pub entry: u64,
    /// A visit's campaign; `None` for a household, which goes with a push of any campaign
    /// whose buckets hold its street.
    pub campaign_id: Option<Uuid>,
    /// The record's kind.
    pub kind: Kind,
    /// The record's id.
    pub id: Uuid,
    /// The record's street.
    pub street_id: Uuid,
    /// For a visit, its household.
    pub household_id: Option<Uuid>,
    /// The fields written, all with the one HLC of the edit.
    pub fields: BTreeMap<FieldName, Stamped>,
}

impl Pending {
    /// The wire change to push.
    pub fn change(&self) -> Change {
        Change::new(
            self.kind,
            self.id,
            self.street_id,
            self.household_id,
            &self.fields,
        )
    }

    /// The largest HLC of its fields.
    pub fn hlc(&self) -> Option<&Hlc> {
        self.fields.values().map(|stamped| &stamped.hlc).max()
    }
}

/// What a replica keeps per campaign.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignSync {
    /// The last seq pulled per street (the pull cursors of this campaign).
    pub cursors: BTreeMap<Uuid, i64>,
    /// The streets the last pull named as the caller's; `None` before the first pull.
    #[serde(default)]
    pub buckets: Option<Vec<Bucket>>,
}

/// A new visit for [`Replica::record_visit`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVisit {
    /// What happened at the door.
    pub outcome: Outcome,
    /// When, RFC 3339 with an offset.
    pub visited_at: String,
    /// People with a smartphone; required for `installed_now`, `already_installed` and
    /// `declined`.
    pub smartphone_users: Option<u32>,
    /// People with the app; required with `smartphone_users`.
    pub app_users: Option<u32>,
}

/// Why a local write was refused; nothing was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    /// [`Replica::edit`] of a record this replica does not hold.
    #[error("this replica holds no record {0}")]
    UnknownRecord(Uuid),
    /// A house number that holds no letter or digit once normalized.
    #[error("the house number holds no letter or digit")]
    NoLetterOrDigit,
    /// A change too large to fit in any push body.
    #[error("the change is {0} bytes, more than a push may carry")]
    TooLarge(usize),
    /// [`Replica::record_visit_with_id`] with an id the replica already holds.
    #[error("this replica already holds a record {0}")]
    IdTaken(Uuid),
}

/// A phone's local replica: its clock, its records, the changes it has yet to push, and
/// its pull cursors per campaign.
///
/// Edits apply locally at once and queue a change in the outbox. A push is prepared from
/// the outbox without taking anything out of it; a change leaves the outbox only when the
/// server's result for it comes back. Pulled records merge field by field.
///
/// ```
/// use sync_protocol::{Kind, NewVisit, Outcome, Replica};
///
/// let (campaign, street) = (uuid::Uuid::from_u128(1), uuid::Uuid::from_u128(7));
/// let mut phone = Replica::new("phone-7", 300_000)?;
/// let house = phone.add_household(street, "12/5A", 1_000)?;
/// let visit = phone.record_visit(campaign, street, house, NewVisit {
///     outcome: Outcome::InstalledNow,
///     visited_at: "2020-08-18T09:30:00+07:00".to_owned(),
///     smartphone_users: Some(3),
///     app_users: Some(2),
/// }, 1_001)?;
/// assert_eq!(phone.outbox().len(), 2);
/// let record = phone.record(visit).ok_or("no visit")?;
/// assert_eq!((record.kind, record.state.app_users()), (Kind::Visit, 2));
///
/// // Saved and restored whole, e.g. across an app restart.
/// let saved = phone.save()?;
/// assert_eq!(Replica::restore(&saved)?, phone);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Replica {
    clock: Clock,
    records: BTreeMap<Uuid, ReplicaRecord>,
    outbox: Vec<Pending>,
    next_entry: u64,
    campaigns: BTreeMap<Uuid, CampaignSync>,
    /// The largest HLC known to be stored on the server or received from it: a clock that
    /// is set back after running ahead never goes below it.
    settled: Option<Hlc>,
}

impl Replica {
    /// An empty replica for `device_id` (its HLC node), refusing server HLCs more than
    /// `max_drift_ms` ahead of its wall clock in [`Replica::observe`]. `max_drift_ms` is
    /// also taken for the server's allowed skew (the contract's 5 minutes: 300 000).
    ///
    /// Fails when `device_id` is not a valid HLC node, or is `server`.
    pub fn new(device_id: &str, max_drift_ms: u64) -> Result<Replica, HlcError> {
        if device_id == SERVER_DEVICE_ID {
            return Err(HlcError::ReservedNode);
        }
        Ok(Replica {
            clock: Clock::new(device_id, max_drift_ms)?,
            records: BTreeMap::new(),
            outbox: Vec::new(),
            next_entry: 0,
            campaigns: BTreeMap::new(),
            settled: None,
        })
    }

    /// The device id, which is also the node of its HLCs.
    pub fn device_id(&self) -> &str {
        self.clock.node()
    }

    /// The replica's clock (read only: it ticks on every edit).
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Writes `fields` of a record this replica holds, all stamped with one new HLC;
    /// applies them locally and queues the change in the outbox, which it also returns.
    ///
    /// Numbers are stored in canonical form. Values are not checked here: the server is the
    /// judge, and a change it refuses for good is rolled back (see [`Replica::acknowledge`]).
    pub fn edit(
        &mut self,
        id: Uuid,
        fields: Vec<(FieldName, Value)>,
        now_ms: u64,
    ) -> Result<Change, EditError> {
        let record = self.records.get(&id).ok_or(EditError::UnknownRecord(id))?;
        let target = Target {
            kind: record.kind,
            id,
            street_id: record.street_id,
            household_id: record.household_id,
            campaign_id: record.campaign_id,
        };
        let fields = canonical(fields);
        check_size(&fields)?;
        let hlc = self.clock.tick(now_ms);
        Ok(self.write(target, fields, hlc))
    }

    /// Adds (or re-adds) the household at `house_number` on `street_id` under its
    /// deterministic id ([`household_id()`]), writing `house_number`, and returns the id.
    pub fn add_household(
        &mut self,
        street_id: Uuid,
        house_number: &str,
        now_ms: u64,
    ) -> Result<Uuid, EditError> {
        let id = household_id(street_id, house_number).ok_or(EditError::NoLetterOrDigit)?;
        let target = Target {
            kind: Kind::Household,
            id,
            street_id,
            household_id: None,
            campaign_id: None,
        };
        let fields = vec![(FieldName::HouseNumber, Value::from(house_number))];
        let fields = canonical(fields);
        check_size(&fields)?;
        let hlc = self.clock.tick(now_ms);
        self.write(target, fields, hlc);
        Ok(id)
    }

    /// Records a new visit of `campaign_id` and returns its id, a UUIDv7 made from the
    /// visit's HLC (see [`visit_id`]).
    pub fn record_visit(
        &mut self,
        campaign_id: Uuid,
        street_id: Uuid,
        household_id: Uuid,
        visit: NewVisit,
        now_ms: u64,
    ) -> Result<Uuid, EditError> {
        self.record_new_visit(None, campaign_id, street_id, household_id, visit, now_ms)
    }

    /// Records a new visit under an id the app chose (visits carried over from an earlier
    /// app, say), which should be a UUIDv7; an id the replica already holds is refused with
    /// [`EditError::IdTaken`].
    pub fn record_visit_with_id(
        &mut self,
        id: Uuid,
        campaign_id: Uuid,
        street_id: Uuid,
        household_id: Uuid,
        visit: NewVisit,
        now_ms: u64,
    ) -> Result<Uuid, EditError> {
        if self.records.contains_key(&id) {
            return Err(EditError::IdTaken(id));
        }
        self.record_new_visit(
            Some(id),
            campaign_id,
            street_id,
            household_id,
            visit,
            now_ms,
        )
    }

    fn record_new_visit(
        &mut self,
        chosen_id: Option<Uuid>,
        campaign_id: Uuid,
        street_id: Uuid,
        household_id: Uuid,
        visit: NewVisit,
        now_ms: u64,
    ) -> Result<Uuid, EditError> {
        let mut fields = vec![
            (FieldName::Outcome, Value::from(visit.outcome.as_str())),
            (FieldName::VisitedAt, Value::from(visit.visited_at)),
        ];
        let counts = [
            (FieldName::SmartphoneUsers, visit.smartphone_users),
            (FieldName::AppUsers, visit.app_users),
        ];
        fields.extend(
            counts
                .into_iter()
                .filter_map(|(field, n)| Some((field, Value::from(n?)))),
        );
        let fields = canonical(fields);
        check_size(&fields)?;
        let hlc = self.clock.tick(now_ms);
        let id = chosen_id.unwrap_or_else(|| loop {
            let id = visit_id(&household_id, &hlc, self.next_entry);
            // Only a replica restored from an older save could meet its own id again.
            if !self.records.contains_key(&id) {
                break id;
            }
            self.next_entry += 1;
        });
        let target = Target {
            kind: Kind::Visit,
            id,
            street_id,
            household_id: Some(household_id),
            campaign_id: Some(campaign_id),
        };
        self.write(target, fields, hlc);
        Ok(id)
    }

    fn write(&mut self, target: Target, fields: Vec<(FieldName, Value)>, hlc: Hlc) -> Change {
        let stamped: BTreeMap<FieldName, Stamped> = fields
            .into_iter()
            .map(|(field, value)| (field, Stamped::new(value, hlc.clone())))
            .collect();
        let record = self
            .records
            .entry(target.id)
            .or_insert_with(|| ReplicaRecord {
                kind: target.kind,
                street_id: target.street_id,
                household_id: target.household_id,
                campaign_id: target.campaign_id,
                volunteer_id: None,
                on_server: false,
                state: RecordState::new(),
            });
        merge_into(&mut record.state, stamped.iter());
        let pending = Pending {
            entry: self.next_entry,
            campaign_id: target.campaign_id,
            kind: target.kind,
            id: target.id,
            street_id: target.street_id,
            household_id: target.household_id,
            fields: stamped,
        };
        self.next_entry += 1;
        let change = pending.change();
        self.outbox.push(pending);
        change
    }

    /// The changes not yet acknowledged, oldest first.
    pub fn outbox(&self) -> &[Pending] {
        &self.outbox
    }

    /// Observes an HLC from the server (e.g. from an answer other than push or pull),
    /// refusing one more than the drift limit ahead of the wall clock.
    pub fn observe(&mut self, server_hlc: &Hlc, now_ms: u64) -> Result<(), crate::ClockDrift> {
        self.clock.observe(server_hlc, now_ms)?;
        self.settle(server_hlc);
        Ok(())
    }

    /// The record with `id`, if this replica has it.
    pub fn record(&self, id: Uuid) -> Option<&ReplicaRecord> {
        self.records.get(&id)
    }

    /// Every record, by id.
    pub fn records(&self) -> impl Iterator<Item = (&Uuid, &ReplicaRecord)> {
        self.records.iter()
    }

    /// What this replica keeps for `campaign_id` (cursors and buckets), once it has pulled
    /// or reset it.
    pub fn campaign(&self, campaign_id: Uuid) -> Option<&CampaignSync> {
        self.campaigns.get(&campaign_id)
    }

    /// Raises the settled floor to `hlc`.
    fn settle(&mut self, hlc: &Hlc) {
        if self.settled.as_ref().is_none_or(|settled| hlc > settled) {
            self.settled = Some(hlc.clone());
        }
    }
}

/// Where an edit goes.
struct Target {
    kind: Kind,
    id: Uuid,
    street_id: Uuid,
    household_id: Option<Uuid>,
    campaign_id: Option<Uuid>,
}

/// Puts values in canonical form.
fn canonical(fields: Vec<(FieldName, Value)>) -> Vec<(FieldName, Value)> {
    fields
        .into_iter()
        .map(|(field, value)| (field, canonical_value(&value)))
        .collect()
}

/// Refuses a change that could never be pushed: larger than [`MAX_CHANGE_BYTES`] as
/// JSON, counted generously (every id present, the longest HLC).
fn check_size(fields: &[(FieldName, Value)]) -> Result<(), EditError> {
    const HLC_BYTES: usize = 13 + 1 + 4 + 1 + 64;
    const FIELD_FRAME: usize = r#""":{"value":,"hlc":""},"#.len();
    const ENVELOPE: usize =
        r#"{"kind":"household","id":"","street_id":"","household_id":"","fields":{}}"#.len()
            + 3 * 36;
    let values: usize = fields
        .iter()
        .map(|(field, value)| {
            field.as_str().len() + value.to_string().len() + HLC_BYTES + FIELD_FRAME
        })
        .sum();
    let bytes = values + ENVELOPE;
    if bytes > MAX_CHANGE_BYTES {
        Err(EditError::TooLarge(bytes))
    } else {
        Ok(())
    }
}

/// Merges stamped fields into a state, each only where it wins.
fn merge_into<'a>(
    state: &mut RecordState,
    incoming: impl Iterator<Item = (&'a FieldName, &'a Stamped)>,
) {
    for (&field, stamped) in incoming {
        if merge_field(state.get(field), stamped) == FieldMerge::Won {
            state.fields.insert(field, stamped.clone());
        }
    }
}

/// A visit's id: a UUIDv7 (RFC 9562) whose time is the milliseconds of the visit's HLC and
/// whose other 74 bits come from the UUIDv5 of the household id and `"{hlc}/{entry}"` (the
/// HLC's text and the outbox entry number).
///
/// Time-ordered, because the server keeps records in B-trees keyed by id: a new visit then
/// lands at the right edge of the primary key and of the indexes that end in the id, instead
/// of on a different page each time (see docs/benchmarks.md). Unique: no two writes in the
/// system share an HLC, and a clock set back after running ahead (which may give an HLC
/// again) never gives an entry number again.
pub(crate) fn visit_id(household_id: &Uuid, hlc: &Hlc, entry: u64) -> Uuid {
    let name = format!("{hlc}/{entry}");
    let hashed = Uuid::new_v5(household_id, name.as_bytes());
    let mut rest = [0u8; 10];
    rest.copy_from_slice(&hashed.as_bytes()[6..]);
    uuid::Builder::from_unix_timestamp_millis(hlc.ms(), &rest).into_uuid()
}
