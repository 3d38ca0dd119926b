//! The whole system as a property: phones (`Replica`) of volunteers and a ward leader, with
//! wrong clocks, edit offline in two campaigns and sync with a model server built from this
//! crate's `validate` and `merge`, while apps restart (save and restore), answers are lost
//! (the request applied), pushes are duplicated and reordered, and some changes are refused
//! for good. In the end every replica holds exactly what the server holds on its streets,
//! and every change a phone made that the server may accept is there: for each field of a
//! visit, the value of its creator's last write that the rules allow.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{json, Value};
use sync_protocol::{
    FieldName, Kind, NewVisit, Outcome, PushRequest, Replica, Role, RESTAMP_MARGIN_MS,
};
use uuid::Uuid;

use crate::support::{TestServer, OTHER_STREET, SKEW_MS, STREET};

/// 2020-08-18 09:20:00 +07:00.
const START_MS: u64 = 1_597_717_200_000;
/// The campaigns start on 2020-08-18, local midnight in Vietnam.
const CAMPAIGN_STARTS_MS: i64 = 1_597_683_600_000;
const ON_TIME: &str = "2020-08-18T09:00:00+07:00";
const TOO_EARLY: &str = "2020-08-17T23:59:00+07:00";
const CAMPAIGNS: [Uuid; 2] = [Uuid::from_u128(0xc1), Uuid::from_u128(0xc2)];
const STREETS: [Uuid; 2] = [STREET, OTHER_STREET];
/// The last one is 41 characters: the server refuses it for good.
const HOUSE_NUMBERS: [&str; 4] = [
    "12/5A",
    " số 12/5a",
    "7",
    "99999999999999999999999999999999999999999",
];
/// Wall clocks: right, a little ahead, just past the skew, behind, hours ahead.
const OFFSETS: [i64; 6] = [0, 20_000, 330_000, -3_600_000, 7_200_000, 18_000_000];

#[derive(Debug, Clone, Copy)]
enum Fate {
    /// The answer comes back.
    Answered,
    /// The server applies the request; the answer is lost.
    AnswerLost,
    /// The request arrives twice; the second answer comes back.
    Duplicated,
    /// The request waits in the network (answer lost); it arrives later, in any order
    /// among the others waiting, and before time moves on (the server's body timeout).
    Delayed,
}

#[derive(Debug, Clone)]
enum Op {
    AddHouse {
        phone: usize,
        street: usize,
        house: usize,
    },
    Visit {
        phone: usize,
        campaign: usize,
        pick: usize,
        outcome: Outcome,
        users: u32,
        early: bool,
    },
    EditVisit {
        phone: usize,
        pick: usize,
        field: FieldName,
        value: Value,
    },
    EditHouse {
        phone: usize,
        pick: usize,
        field: FieldName,
        value: Value,
    },
    Push {
        phone: usize,
        campaign: usize,
        fate: Fate,
    },
    Deliver {
        pick: usize,
    },
    Pull {
        phone: usize,
        campaign: usize,
        limit: u32,
    },
    Restart {
        phone: usize,
    },
    FixClock {
        phone: usize,
    },
    Wait {
        ms: u64,
    },
}

fn fate() -> impl Strategy<Value = Fate> {
    select(vec![
        Fate::Answered,
        Fate::AnswerLost,
        Fate::Duplicated,
        Fate::Delayed,
    ])
}

fn note() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => "[ađ]{0,2}".prop_map(Value::from),
        1 => Just(Value::Null),
        1 => Just(json!("x".repeat(501))),
    ]
}

fn visit_edit() -> impl Strategy<Value = (FieldName, Value)> {
    prop_oneof![
        note().prop_map(|v| (FieldName::Note, v)),
        any::<bool>().prop_map(|b| (FieldName::Deleted, json!(b))),
        (0u32..4).prop_map(|n| (FieldName::SmartphoneUsers, json!(n + 2))),
        select(Outcome::ALL.to_vec()).prop_map(|o| (FieldName::Outcome, json!(o.as_str()))),
    ]
}

fn house_edit() -> impl Strategy<Value = (FieldName, Value)> {
    prop_oneof![
        note().prop_map(|v| (FieldName::Note, v)),
        any::<bool>().prop_map(|b| (FieldName::Deleted, json!(b))),
        (-2i32..2).prop_map(|x| (FieldName::Lat, json!(f64::from(x) * 0.25))),
    ]
}

fn op(phones: usize) -> impl Strategy<Value = Op> {
    let phone = 0..phones;
    prop_oneof![
        2 => (phone.clone(), 0..2usize, 0..HOUSE_NUMBERS.len())
            .prop_map(|(phone, street, house)| Op::AddHouse { phone, street, house }),
        3 => (phone.clone(), 0..2usize, 0..8usize, select(Outcome::ALL.to_vec()), 0u32..4, prop::bool::weighted(0.1))
            .prop_map(|(phone, campaign, pick, outcome, users, early)| Op::Visit { phone, campaign, pick, outcome, users, early }),
        2 => (phone.clone(), 0..8usize, visit_edit())
            .prop_map(|(phone, pick, (field, value))| Op::EditVisit { phone, pick, field, value }),
        2 => (phone.clone(), 0..8usize, house_edit())
            .prop_map(|(phone, pick, (field, value))| Op::EditHouse { phone, pick, field, value }),
        4 => (phone.clone(), 0..2usize, fate())
            .prop_map(|(phone, campaign, fate)| Op::Push { phone, campaign, fate }),
        1 => (0..4usize).prop_map(|pick| Op::Deliver { pick }),
        3 => (phone.clone(), 0..2usize, 0u32..4)
            .prop_map(|(phone, campaign, limit)| Op::Pull { phone, campaign, limit }),
        1 => phone.clone().prop_map(|phone| Op::Restart { phone }),
        1 => phone.clone().prop_map(|phone| Op::FixClock { phone }),
        1 => (0u64..120_000).prop_map(|ms| Op::Wait { ms }),
    ]
}

struct Phone {
    replica: Replica,
    user: Uuid,
    role: Role,
    /// How far the phone's wall clock is off, in ms.
    offset: i64,
    /// Every visit field this phone wrote: (visit, field) → the last value the rules allow
    /// (`None`: every write so far is one the server refuses).
    allowed: BTreeMap<(Uuid, FieldName), Option<Value>>,
    /// Visits whose creation the server refuses.
    doomed: BTreeSet<Uuid>,
}

/// A request on its way: who sent it, as whom.
struct InFlight {
    user: Uuid,
    role: Role,
    request: PushRequest,
}

struct World {
    server: TestServer,
    phones: Vec<Phone>,
    network: Vec<InFlight>,
    true_ms: u64,
}

impl World {
    fn now(&self, phone: usize) -> u64 {
        self.true_ms
            .saturating_add_signed(self.phones[phone].offset)
    }

    fn denied(&self, phone: usize, street: Uuid) -> bool {
        self.server
            .denied
            .contains(&(self.phones[phone].user, street))
    }

    fn pick(&self, phone: usize, kind: Kind, pick: usize, own: bool) -> Option<(Uuid, Uuid)> {
        let known: Vec<(Uuid, Uuid)> = self.phones[phone]
            .replica
            .records()
            .filter(|(id, r)| {
                r.kind == kind && (!own || self.phones[phone].allowed.keys().any(|(v, _)| v == *id))
            })
            .map(|(&id, r)| (id, r.street_id))
            .collect();
        (!known.is_empty()).then(|| known[pick % known.len()])
    }

    fn push(&mut self, phone: usize, campaign: Uuid, fate: Fate) -> Result<(), TestCaseError> {
        let batch = self.phones[phone].replica.prepare_push(campaign);
        if batch.is_empty() {
            return Ok(());
        }
        let (user, role) = (self.phones[phone].user, self.phones[phone].role);
        let answer = match fate {
            Fate::Answered => Some(self.server.push_request(user, role, batch.request())),
            Fate::AnswerLost => {
                self.server.push_request(user, role, batch.request());
                None
            }
            Fate::Duplicated => {
                self.server.push_request(user, role, batch.request());
                Some(self.server.push_request(user, role, batch.request()))
            }
            Fate::Delayed => {
                let request = batch.request().clone();
                self.network.push(InFlight {
                    user,
                    role,
                    request,
                });
                None
            }
        };
        if let Some(answer) = answer {
            let report = self.phones[phone]
                .replica
                .acknowledge(&batch, &answer)
                .unwrap();
            for refused in &report.refused {
                prop_assert!(!refused.code.is_retryable(), "{:?}", refused);
            }
        }
        Ok(())
    }

    fn deliver(&mut self, pick: usize) {
        if !self.network.is_empty() {
            let waiting = self.network.remove(pick % self.network.len());
            self.server
                .push_request(waiting.user, waiting.role, &waiting.request);
        }
    }

    fn pull(&mut self, phone: usize, campaign: Uuid, limit: u32) -> bool {
        let request = self.phones[phone]
            .replica
            .pull_request(campaign, Some(limit));
        let response = self.server.pull_request(self.phones[phone].user, &request);
        self.phones[phone]
            .replica
            .apply_pull(&request, &response)
            .has_more
    }

    fn pass_time(&mut self, ms: u64) {
        while !self.network.is_empty() {
            self.deliver(0);
        }
        self.true_ms += ms;
        self.server.now_ms = self.true_ms;
    }
}

fn run(
    offsets: Vec<usize>,
    leader: bool,
    denied: Vec<bool>,
    ops: Vec<Op>,
) -> Result<(), TestCaseError> {
    let true_ms = START_MS + 3_600_000;
    let mut server = TestServer::new(true_ms, &STREETS);
    server.visits_from_ms = Some(CAMPAIGN_STARTS_MS);
    let phones: Vec<Phone> = offsets
        .iter()
        .enumerate()
        .map(|(i, &offset)| Phone {
            replica: Replica::new(&format!("phone-{i}"), SKEW_MS).unwrap(),
            user: Uuid::from_u128(100 + i as u128),
            role: if leader && i == 0 {
                Role::WardLeader
            } else {
                Role::Volunteer
            },
            offset: OFFSETS[offset],
            allowed: BTreeMap::new(),
            doomed: BTreeSet::new(),
        })
        .collect();
    for (phone, &no) in phones.iter().zip(&denied) {
        if no {
            server.denied.insert((phone.user, OTHER_STREET));
        }
    }
    let mut world = World {
        server,
        phones,
        network: Vec::new(),
        true_ms,
    };

    for op in ops {
        match op {
            Op::AddHouse {
                phone,
                street,
                house,
            } => {
                let now = world.now(phone);
                let _ = world.phones[phone].replica.add_household(
                    STREETS[street],
                    HOUSE_NUMBERS[house],
                    now,
                );
            }
            Op::Visit {
                phone,
                campaign,
                pick,
                outcome,
                users,
                early,
            } => {
                let now = world.now(phone);
                let Some((house, street)) = world.pick(phone, Kind::Household, pick, false) else {
                    continue;
                };
                let number = world.phones[phone]
                    .replica
                    .record(house)
                    .and_then(|r| r.state.house_number().map(str::to_owned));
                let visit = NewVisit {
                    outcome,
                    visited_at: (if early { TOO_EARLY } else { ON_TIME }).to_owned(),
                    smartphone_users: Some(users),
                    app_users: Some(users / 2),
                };
                let denied = world.denied(phone, street);
                let fields = [
                    (FieldName::Outcome, json!(visit.outcome.as_str())),
                    (FieldName::VisitedAt, json!(visit.visited_at)),
                    (FieldName::SmartphoneUsers, json!(users)),
                    (FieldName::AppUsers, json!(users / 2)),
                ];
                let id = world.phones[phone]
                    .replica
                    .record_visit(CAMPAIGNS[campaign], street, house, visit, now)
                    .unwrap();
                // Refused for good: before the campaign, on a street not the pusher's, or
                // on a household whose number the server refuses (only this phone has it).
                let bad_house = number.is_some_and(|n| n == HOUSE_NUMBERS[3]);
                let p = &mut world.phones[phone];
                if early || denied || bad_house {
                    p.doomed.insert(id);
                }
                for (field, value) in fields {
                    let allowed = (!p.doomed.contains(&id)).then_some(value);
                    p.allowed.insert((id, field), allowed);
                }
            }
            Op::EditVisit {
                phone,
                pick,
                field,
                value,
            } => {
                let now = world.now(phone);
                let Some((id, _)) = world.pick(phone, Kind::Visit, pick, true) else {
                    continue;
                };
                world.phones[phone]
                    .replica
                    .edit(id, vec![(field, value.clone())], now)
                    .unwrap();
                let p = &mut world.phones[phone];
                let refused =
                    p.doomed.contains(&id) || value.as_str().is_some_and(|t| t.len() > 500);
                if !refused {
                    p.allowed.insert((id, field), Some(value));
                } else {
                    p.allowed.entry((id, field)).or_insert(None);
                }
            }
            Op::EditHouse {
                phone,
                pick,
                field,
                value,
            } => {
                let now = world.now(phone);
                let Some((id, _)) = world.pick(phone, Kind::Household, pick, false) else {
                    continue;
                };
                world.phones[phone]
                    .replica
                    .edit(id, vec![(field, value)], now)
                    .unwrap();
            }
            Op::Push {
                phone,
                campaign,
                fate,
            } => world.push(phone, CAMPAIGNS[campaign], fate)?,
            Op::Deliver { pick } => world.deliver(pick),
            Op::Pull {
                phone,
                campaign,
                limit,
            } => {
                world.pull(phone, CAMPAIGNS[campaign], limit);
            }
            Op::Restart { phone } => {
                let saved = world.phones[phone].replica.save().unwrap();
                let restored = Replica::restore(&saved).unwrap();
                prop_assert_eq!(&restored, &world.phones[phone].replica);
                world.phones[phone].replica = restored;
            }
            Op::FixClock { phone } => world.phones[phone].offset = 0,
            Op::Wait { ms } => world.pass_time(ms),
        }
    }

    // Every clock is set right; everyone syncs, round after round, as time goes on (a
    // change just past the skew limit goes through once the margin has passed).
    for phone in &mut world.phones {
        phone.offset = 0;
    }
    for _ in 0..4 {
        world.pass_time(RESTAMP_MARGIN_MS * 2);
        for phone in 0..world.phones.len() {
            for campaign in CAMPAIGNS {
                for _ in 0..3 {
                    world.push(phone, campaign, Fate::Answered)?;
                }
            }
        }
        for phone in 0..world.phones.len() {
            for campaign in CAMPAIGNS {
                while world.pull(phone, campaign, 3) {}
            }
        }
    }

    for (index, phone) in world.phones.iter().enumerate() {
        prop_assert!(
            phone.replica.outbox().is_empty(),
            "phone {}: {:?}",
            index,
            phone.replica.outbox()
        );
        let mine = |street: &Uuid| !world.denied(index, *street);
        let expected: BTreeMap<Uuid, _> = world
            .server
            .records
            .iter()
            .filter(|(_, s)| mine(&s.street_id))
            .map(|(&id, s)| (id, (s.kind, s.household_id, s.state.clone())))
            .collect();
        let held: BTreeMap<Uuid, _> = phone
            .replica
            .records()
            .map(|(&id, r)| (id, (r.kind, r.household_id, r.state.clone())))
            .collect();
        prop_assert_eq!(&held, &expected, "phone {}", index);
        for ((visit, field), value) in &phone.allowed {
            let stored = world.server.records.get(visit);
            if phone.doomed.contains(visit) {
                prop_assert!(
                    stored.is_none(),
                    "phone {}: refused visit {} is stored",
                    index,
                    visit
                );
                continue;
            }
            let stored = stored.and_then(|s| s.state.get(*field)).map(|s| &s.value);
            prop_assert_eq!(
                stored,
                value.as_ref(),
                "phone {} visit {} {}",
                index,
                visit,
                field
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn phones_that_restart_lose_answers_and_run_ahead_converge_and_lose_no_accepted_change(
        (offsets, leader, denied, ops) in (2usize..4)
            .prop_flat_map(|phones| (
                prop::collection::vec(0..OFFSETS.len(), phones),
                any::<bool>(),
                prop::collection::vec(prop::bool::weighted(0.3), phones),
                prop::collection::vec(op(phones), 1..40),
            )),
    ) {
        run(offsets, leader, denied, ops)?;
    }
}
