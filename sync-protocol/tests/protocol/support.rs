//! Shared helpers: fixed ids, a permissive push context, and a tiny in-memory server.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};
use sync_protocol::{
    decode, merge, validate, Bucket, Change, Clock, ExistingRecord, Hlc, HouseholdFacts, Kind,
    PullRequest, PullResponse, PulledRecord, PushContext, PushRequest, PushResponse, PushResult,
    RecordState, Rejection, Role, StreetAccess,
};
use uuid::Uuid;

/// The street of the contract's examples.
pub const STREET: Uuid = uuid::uuid!("ca41459a-228f-4513-b479-e934348a81aa");
/// Another street.
pub const OTHER_STREET: Uuid = uuid::uuid!("5b0e7a55-40f4-4f0c-9a39-3c0a7c8f2b11");
/// The household "12/5A" on [`STREET`].
pub const HOUSE: Uuid = uuid::uuid!("cd204d15-0527-5827-9e6d-6bff87ec69dd");
/// A visit id.
pub const VISIT: Uuid = uuid::uuid!("01890a5d-ac96-774b-bcce-b302099a8057");
/// The volunteer of the examples.
pub const LAN: Uuid = uuid::uuid!("02844af9-f51b-4b5d-9eb8-ce1cdf6715d9");
/// Another volunteer.
pub const MINH: Uuid = uuid::uuid!("7d1f3c2e-9a4b-4c5d-8e6f-0a1b2c3d4e5f");
/// The campaign of the examples.
pub const CAMPAIGN: Uuid = uuid::uuid!("8f0e2a8c-1d3b-4c5e-9f7a-6b5c4d3e2f1a");
/// The server clock of the examples' push (2026-11-29).
pub const NOW_MS: u64 = 1_795_931_853_797;
/// The contract's allowed skew: 5 minutes.
pub const SKEW_MS: u64 = 300_000;

/// Parses an HLC text.
pub fn hlc(text: &str) -> Hlc {
    text.parse().expect("a valid HLC")
}

/// A wire change from JSON.
pub fn change(value: Value) -> Change {
    serde_json::from_value(value).expect("any object is a Change")
}

/// A visit creation on [`HOUSE`], [`STREET`], all fields stamped with `stamp`.
pub fn visit_creation(stamp: &str) -> Value {
    json!({
        "kind": "visit", "id": VISIT, "street_id": STREET, "household_id": HOUSE,
        "fields": {
            "outcome": {"value": "installed_now", "hlc": stamp},
            "visited_at": {"value": "2020-08-18T09:30:00+07:00", "hlc": stamp},
            "smartphone_users": {"value": 3, "hlc": stamp},
            "app_users": {"value": 2, "hlc": stamp}
        }
    })
}

/// A visit change on [`HOUSE`], [`STREET`] with the given fields.
pub fn visit_change(fields: Value) -> Value {
    json!({"kind": "visit", "id": VISIT, "street_id": STREET, "household_id": HOUSE, "fields": fields})
}

/// A push context where everything is allowed: an admin on a known street, no record yet,
/// the household known on [`STREET`].
pub fn permissive() -> PushContext<'static> {
    PushContext {
        now_ms: NOW_MS,
        max_skew_ms: SKEW_MS,
        visits_from_ms: None,
        pusher_id: LAN,
        role: Role::Admin,
        street: StreetAccess::Allowed,
        existing: None,
        household: Some(HouseholdFacts { street_id: STREET }),
    }
}

/// An existing visit by `volunteer` on [`HOUSE`], [`STREET`] with `state`.
pub fn existing_visit(volunteer: Uuid, state: &RecordState) -> ExistingRecord<'_> {
    ExistingRecord {
        kind: Kind::Visit,
        street_id: STREET,
        household_id: Some(HOUSE),
        volunteer_id: Some(volunteer),
        other_campaign: false,
        state,
    }
}

/// Decodes and validates a JSON change in `ctx`.
pub fn judge(value: Value, ctx: &PushContext) -> Result<sync_protocol::ValidChange, Rejection> {
    decode(&change(value)).and_then(|decoded| validate(decoded, ctx))
}

/// One record as the test server stores it.
#[derive(Debug, Clone)]
pub struct Stored {
    pub kind: Kind,
    pub street_id: Uuid,
    pub household_id: Option<Uuid>,
    pub campaign_id: Option<Uuid>,
    pub volunteer_id: Option<Uuid>,
    pub seq: i64,
    pub state: RecordState,
}

/// A tiny in-memory server built from this crate's `validate` and `merge`: every known
/// street open to every pusher, except the (user, street) pairs in `denied`.
#[derive(Debug, Clone)]
pub struct TestServer {
    pub now_ms: u64,
    pub streets: Vec<Uuid>,
    pub records: BTreeMap<Uuid, Stored>,
    pub clock: Clock,
    /// (user, street) pairs that get `not_assigned`.
    pub denied: BTreeSet<(Uuid, Uuid)>,
    /// The campaigns' first instant: an earlier `visited_at` is `validation`.
    pub visits_from_ms: Option<i64>,
    seq: i64,
}

impl TestServer {
    pub fn new(now_ms: u64, streets: &[Uuid]) -> TestServer {
        TestServer {
            now_ms,
            streets: streets.to_vec(),
            records: BTreeMap::new(),
            clock: Clock::new("server", SKEW_MS).unwrap(),
            denied: BTreeSet::new(),
            visits_from_ms: None,
            seq: 0,
        }
    }

    /// Takes one change of [`CAMPAIGN`] as `POST /sync/push` does.
    pub fn push(&mut self, pusher: Uuid, role: Role, change: &Change) -> PushResult {
        self.push_change(CAMPAIGN, pusher, role, change)
    }

    /// Takes a whole push body and answers it.
    pub fn push_request(
        &mut self,
        pusher: Uuid,
        role: Role,
        request: &PushRequest,
    ) -> PushResponse {
        let results = request
            .changes
            .iter()
            .map(|change| self.push_change(request.campaign_id, pusher, role, change))
            .collect();
        PushResponse {
            results,
            server_hlc: self.clock.tick(self.now_ms),
        }
    }

    fn push_change(
        &mut self,
        campaign: Uuid,
        pusher: Uuid,
        role: Role,
        change: &Change,
    ) -> PushResult {
        let judged = decode(change).and_then(|decoded| {
            let ctx = self.context(&decoded, campaign, pusher, role);
            validate(decoded, &ctx)
        });
        let valid = match judged {
            Ok(valid) => valid,
            Err(rejection) => return PushResult::rejected(change.id.clone(), &rejection),
        };
        if let Some(max) = valid.max_hlc() {
            self.clock.witness(max);
        }
        let next_seq = self.seq + 1;
        let stored = self.records.entry(valid.id()).or_insert_with(|| Stored {
            kind: valid.kind(),
            street_id: valid.street_id(),
            household_id: valid.household_id(),
            campaign_id: (valid.kind() == Kind::Visit).then_some(campaign),
            volunteer_id: Some(pusher),
            seq: next_seq,
            state: RecordState::new(),
        });
        if merge(&mut stored.state, &valid).applied() {
            stored.seq = next_seq;
            self.seq = next_seq;
            PushResult::applied(change.id.clone())
        } else {
            PushResult::unchanged(change.id.clone())
        }
    }

    fn context(
        &self,
        decoded: &sync_protocol::DecodedChange,
        campaign: Uuid,
        pusher: Uuid,
        role: Role,
    ) -> PushContext<'_> {
        let street = if !self.streets.contains(&decoded.street_id) {
            StreetAccess::Unknown
        } else if self.denied.contains(&(pusher, decoded.street_id)) {
            StreetAccess::NotAllowed
        } else {
            StreetAccess::Allowed
        };
        let existing = self.records.get(&decoded.id).map(|stored| ExistingRecord {
            kind: stored.kind,
            street_id: stored.street_id,
            household_id: stored.household_id,
            volunteer_id: stored.volunteer_id,
            other_campaign: stored.kind == Kind::Visit && stored.campaign_id != Some(campaign),
            state: &stored.state,
        });
        let household = decoded
            .household_id
            .and_then(|id| self.records.get(&id))
            .filter(|stored| stored.kind == Kind::Household)
            .map(|stored| HouseholdFacts {
                street_id: stored.street_id,
            });
        PushContext {
            now_ms: self.now_ms,
            max_skew_ms: SKEW_MS,
            visits_from_ms: self.visits_from_ms,
            pusher_id: pusher,
            role,
            street,
            existing,
            household,
        }
    }

    /// Answers a pull body as `POST /sync/pull` does: the buckets are the known streets
    /// not denied to `user`.
    pub fn pull_request(&mut self, user: Uuid, request: &PullRequest) -> PullResponse {
        let buckets: Vec<Uuid> = self
            .streets
            .iter()
            .copied()
            .filter(|street| !self.denied.contains(&(user, *street)))
            .collect();
        let dropped = request
            .cursors
            .keys()
            .copied()
            .filter(|street| !buckets.contains(street))
            .collect();
        let mut budget = request.limit.map_or(500, |limit| limit.min(5000)) as usize;
        let mut changes = Vec::new();
        let mut cursors = BTreeMap::new();
        let mut remaining = 0;
        for &street in &buckets {
            let from = request.cursors.get(&street).copied().unwrap_or(0);
            let mut due: Vec<(&Uuid, &Stored)> = self
                .records
                .iter()
                .filter(|(_, s)| s.street_id == street && s.seq > from)
                .filter(|(_, s)| s.campaign_id.is_none_or(|c| c == request.campaign_id))
                .collect();
            due.sort_by_key(|(_, s)| s.seq);
            let last_seq = self
                .records
                .values()
                .filter(|s| s.street_id == street)
                .map(|s| s.seq)
                .max()
                .unwrap_or(0);
            let taken = due.len().min(budget);
            budget -= taken;
            let mut cursor = from;
            for (id, stored) in &due[..taken] {
                cursor = stored.seq;
                changes.push(pulled_record(**id, stored));
            }
            if taken == due.len() {
                cursor = cursor.max(last_seq);
            } else {
                remaining += (due.len() - taken) as i64;
            }
            cursors.insert(street, cursor);
        }
        PullResponse {
            buckets: buckets
                .iter()
                .map(|&street_id| Bucket {
                    street_id,
                    ward_id: Uuid::nil(),
                    code: street_id.to_string(),
                    name: "street".to_owned(),
                })
                .collect(),
            dropped,
            changes,
            cursors,
            has_more: remaining > 0,
            remaining,
            server_hlc: self.clock.tick(self.now_ms),
        }
    }

    /// Every record's state, by id.
    pub fn states(&self) -> BTreeMap<Uuid, RecordState> {
        self.records
            .iter()
            .map(|(&id, stored)| (id, stored.state.clone()))
            .collect()
    }
}

fn pulled_record(id: Uuid, stored: &Stored) -> PulledRecord {
    PulledRecord {
        kind: stored.kind,
        id,
        street_id: stored.street_id,
        household_id: stored.household_id,
        volunteer_id: stored.volunteer_id.filter(|_| stored.kind == Kind::Visit),
        seq: stored.seq,
        fields: stored.state.clone(),
    }
}
