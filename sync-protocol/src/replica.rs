//! An in-memory client replica: the reference behaviour for phone apps, and the actor of
//! convergence simulations.

use std::collections::BTreeMap;

use serde_json::Value;
use uuid::Uuid;

use crate::canonical::canonical_value;
use crate::change::{decode, Change};
use crate::clock::{Clock, ClockDrift};
use crate::field::{FieldName, Kind, Outcome};
use crate::hlc::{Hlc, HlcError};
use crate::household_id::household_id;
use crate::merge::{merge_field, FieldMerge};
use crate::state::{RecordState, Stamped};
use crate::wire::{PulledRecord, PushResult, PushStatus};

/// One record as a replica holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaRecord {
    /// Its kind.
    pub kind: Kind,
    /// Its street.
    pub street_id: Uuid,
    /// For a visit, its household.
    pub household_id: Option<Uuid>,
    /// For a visit, its creator as the server reported it (`None` until pulled).
    pub volunteer_id: Option<Uuid>,
    /// Its fields.
    pub state: RecordState,
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

/// A phone's local replica: its clock, its records, and the changes it has yet to push.
///
/// Edits apply locally at once and queue a wire [`Change`]; pushes are acknowledged with
/// the server's results; pulled records merge field by field.
///
/// ```
/// use sync_protocol::{Kind, NewVisit, Outcome, Replica};
///
/// let street = uuid::Uuid::from_u128(7);
/// let mut phone = Replica::new("phone-7", 300_000)?;
/// let house = phone.add_household(street, "12/5A", 1_000).ok_or("empty house number")?;
/// let visit = phone.record_visit(street, house, NewVisit {
///     outcome: Outcome::InstalledNow,
///     visited_at: "2020-08-18T09:30:00+07:00".to_owned(),
///     smartphone_users: Some(3),
///     app_users: Some(2),
/// }, 1_001);
/// assert_eq!(phone.outbox().len(), 2);
/// let record = phone.record(visit).ok_or("no visit")?;
/// assert_eq!((record.kind, record.state.app_users()), (Kind::Visit, 2));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Replica {
    clock: Clock,
    records: BTreeMap<Uuid, ReplicaRecord>,
    outbox: Vec<Change>,
}

impl Replica {
    /// An empty replica for `device_id` (its HLC node), refusing server HLCs more than
    /// `max_drift_ms` ahead of its wall clock.
    pub fn new(device_id: &str, max_drift_ms: u64) -> Result<Replica, HlcError> {
        Ok(Replica {
            clock: Clock::new(device_id, max_drift_ms)?,
            records: BTreeMap::new(),
            outbox: Vec::new(),
        })
    }

    /// The device id, which is also the node of its HLCs.
    pub fn device_id(&self) -> &str {
        self.clock.node()
    }

    /// Writes `fields` of a record, all stamped with one new HLC; applies them locally and
    /// queues the change in the outbox, which it also returns.
    ///
    /// Numbers are stored in canonical form. Values are not checked here: the server is the
    /// judge, and an empty `fields` makes a change it rejects.
    pub fn edit(
        &mut self,
        kind: Kind,
        id: Uuid,
        street_id: Uuid,
        household_id: Option<Uuid>,
        fields: Vec<(FieldName, Value)>,
        now_ms: u64,
    ) -> Change {
        let hlc = self.clock.tick(now_ms);
        self.write(kind, id, street_id, household_id, fields, hlc)
    }

    /// Adds (or re-adds) the household at `house_number` on `street_id` under its
    /// deterministic id, writing `house_number`. `None`, and nothing written, when the
    /// house number normalizes to nothing.
    pub fn add_household(
        &mut self,
        street_id: Uuid,
        house_number: &str,
        now_ms: u64,
    ) -> Option<Uuid> {
        let id = household_id(street_id, house_number)?;
        let fields = vec![(FieldName::HouseNumber, Value::from(house_number))];
        self.edit(Kind::Household, id, street_id, None, fields, now_ms);
        Some(id)
    }

    /// Records a new visit and returns its id: UUIDv5 with the household id as namespace
    /// and the text of the visit's HLC as name, unique because no two writes in the system
    /// share an HLC.
    pub fn record_visit(
        &mut self,
        street_id: Uuid,
        household_id: Uuid,
        visit: NewVisit,
        now_ms: u64,
    ) -> Uuid {
        let hlc = self.clock.tick(now_ms);
        let id = Uuid::new_v5(&household_id, hlc.to_string().as_bytes());
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
        self.write(Kind::Visit, id, street_id, Some(household_id), fields, hlc);
        id
    }

    fn write(
        &mut self,
        kind: Kind,
        id: Uuid,
        street_id: Uuid,
        household_id: Option<Uuid>,
        fields: Vec<(FieldName, Value)>,
        hlc: Hlc,
    ) -> Change {
        let stamped: BTreeMap<FieldName, Stamped> = fields
            .into_iter()
            .map(|(field, value)| (field, Stamped::new(canonical_value(&value), hlc.clone())))
            .collect();
        let record = self.records.entry(id).or_insert_with(|| ReplicaRecord {
            kind,
            street_id,
            household_id,
            volunteer_id: None,
            state: RecordState::new(),
        });
        merge_into(&mut record.state, stamped.iter());
        let change = Change::new(kind, id, street_id, household_id, &stamped);
        self.outbox.push(change.clone());
        change
    }

    /// The changes not yet acknowledged, oldest first: the next push's `changes`.
    pub fn outbox(&self) -> &[Change] {
        &self.outbox
    }

    /// Empties the outbox and returns its changes; pass them back to
    /// [`Replica::acknowledge`] with the results so retryable ones return to the outbox.
    pub fn take_outbox(&mut self) -> Vec<Change> {
        std::mem::take(&mut self.outbox)
    }

    /// Takes a push's results (one per pushed change, in order).
    ///
    /// Applied and unchanged changes leave the outbox. Retryable rejections
    /// (`unknown_household`, `unknown_record`, `clock_skew`) stay, or come back to its front
    /// in their order. A final rejection leaves the outbox and is rolled back locally: every
    /// field still holding the value and HLC it wrote is forgotten, so that pulling the
    /// street again from cursor 0 brings back the server's value. Returns the ids of the
    /// records rolled back.
    pub fn acknowledge(&mut self, pushed: &[Change], results: &[PushResult]) -> Vec<Uuid> {
        let mut retry = Vec::new();
        let mut rolled_back = Vec::new();
        for (change, result) in pushed.iter().zip(results) {
            let queued = self.outbox.iter().position(|queued| queued == change);
            if result.is_retryable() {
                if queued.is_none() {
                    retry.push(change.clone());
                }
                continue;
            }
            if let Some(index) = queued {
                self.outbox.remove(index);
            }
            if result.status == PushStatus::Rejected {
                rolled_back.extend(self.roll_back(change));
            }
        }
        retry.append(&mut self.outbox);
        self.outbox = retry;
        rolled_back
    }

    /// Forgets the local fields that still hold what `change` wrote; the record too when
    /// nothing is left of it.
    fn roll_back(&mut self, change: &Change) -> Option<Uuid> {
        let decoded = decode(change).ok()?;
        let record = self.records.get_mut(&decoded.id)?;
        for (field, stamped) in &decoded.fields {
            if record.state.get(*field) == Some(stamped) {
                record.state.fields.remove(field);
            }
        }
        if record.state.is_empty() {
            self.records.remove(&decoded.id);
        }
        Some(decoded.id)
    }

    /// Observes the server's HLC (a push or pull response's `server_hlc`).
    pub fn observe(&mut self, server_hlc: &Hlc, now_ms: u64) -> Result<(), ClockDrift> {
        self.clock.observe(server_hlc, now_ms)
    }

    /// Merges a pulled record field by field, taking the server's word for its kind,
    /// street, household and volunteer, and raises the clock above each of its HLCs (even
    /// one beyond the drift limit: the server has stored it, so it must be honoured).
    pub fn apply_pulled(&mut self, pulled: &PulledRecord, now_ms: u64) {
        for stamped in pulled.fields.fields.values() {
            if self.clock.observe(&stamped.hlc, now_ms).is_err() {
                self.clock.witness(&stamped.hlc);
            }
        }
        let record = self
            .records
            .entry(pulled.id)
            .or_insert_with(|| ReplicaRecord {
                kind: pulled.kind,
                street_id: pulled.street_id,
                household_id: pulled.household_id,
                volunteer_id: pulled.volunteer_id,
                state: RecordState::new(),
            });
        record.kind = pulled.kind;
        record.street_id = pulled.street_id;
        record.household_id = pulled.household_id;
        record.volunteer_id = pulled.volunteer_id.or(record.volunteer_id);
        merge_into(&mut record.state, pulled.fields.fields.iter());
    }

    /// The record with `id`, if this replica has it.
    pub fn record(&self, id: Uuid) -> Option<&ReplicaRecord> {
        self.records.get(&id)
    }

    /// Every record, by id.
    pub fn records(&self) -> impl Iterator<Item = (&Uuid, &ReplicaRecord)> {
        self.records.iter()
    }
}

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
