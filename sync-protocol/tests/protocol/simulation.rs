//! A whole-system property: phones with wrong clocks edit offline and sync with a server
//! in any interleaving; once everyone has pushed and pulled, everyone holds the same state.

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{json, Value};
use sync_protocol::{FieldName, Kind, NewVisit, Outcome, PushResult, PushStatus, Replica, Role};

use crate::support::{TestServer, SKEW_MS, STREET};

/// 2020-08-18 09:20:00 +07:00.
const START_MS: u64 = 1_597_717_200_000;
const HOUSE_NUMBERS: [&str; 3] = ["12/5A", " số 12/5a", "7"];

#[derive(Debug, Clone)]
enum Op {
    /// A phone adds (or re-adds) a house.
    AddHouse {
        phone: usize,
        house: usize,
    },
    /// A phone logs a visit on the n-th household it knows.
    Visit {
        phone: usize,
        pick: usize,
        outcome: Outcome,
        users: u32,
    },
    /// A phone edits the n-th record it knows.
    Edit {
        phone: usize,
        pick: usize,
        field: FieldName,
        value: Value,
    },
    Push {
        phone: usize,
    },
    Pull {
        phone: usize,
    },
    /// Time passes for everyone.
    Wait {
        ms: u64,
    },
}

fn edit_field() -> impl Strategy<Value = (FieldName, Value)> {
    prop_oneof![
        prop_oneof![Just(Value::Null), "[ađ]{0,2}".prop_map(Value::from)]
            .prop_map(|v| (FieldName::Note, v)),
        any::<bool>().prop_map(|b| (FieldName::Deleted, json!(b))),
        (-2i32..2).prop_map(|x| (FieldName::Lat, json!(f64::from(x) * 0.25))),
    ]
}

fn op(phones: usize) -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (0..phones, 0..HOUSE_NUMBERS.len()).prop_map(|(phone, house)| Op::AddHouse { phone, house }),
        3 => (0..phones, 0..8usize, select(Outcome::ALL), 0u32..4)
            .prop_map(|(phone, pick, outcome, users)| Op::Visit { phone, pick, outcome, users }),
        4 => (0..phones, 0..8usize, edit_field())
            .prop_map(|(phone, pick, (field, value))| Op::Edit { phone, pick, field, value }),
        2 => (0..phones).prop_map(|phone| Op::Push { phone }),
        2 => (0..phones).prop_map(|phone| Op::Pull { phone }),
        1 => (0u64..120_000).prop_map(|ms| Op::Wait { ms }),
    ]
}

struct Phone {
    replica: Replica,
    /// How far the phone's wall clock is off, in ms (may be beyond the allowed skew).
    offset: i64,
    cursor: i64,
}

impl Phone {
    fn now(&self, true_ms: u64) -> u64 {
        true_ms.saturating_add_signed(self.offset)
    }

    fn push(&mut self, server: &mut TestServer) -> Vec<PushResult> {
        let batch = self.replica.take_outbox();
        let results: Vec<PushResult> = batch
            .iter()
            .map(|change| server.push(uuid::Uuid::nil(), Role::Admin, change))
            .collect();
        self.replica.acknowledge(&batch, &results);
        results
    }

    fn pull(&mut self, server: &TestServer, true_ms: u64) {
        for record in server.pull(self.cursor) {
            self.replica.apply_pulled(&record, self.now(true_ms));
        }
        self.cursor = server.seq();
    }

    fn pick(&self, kind: Kind, pick: usize) -> Option<(uuid::Uuid, Option<uuid::Uuid>)> {
        let known: Vec<_> = self
            .replica
            .records()
            .filter(|(_, record)| record.kind == kind)
            .map(|(&id, record)| (id, record.household_id))
            .collect();
        (!known.is_empty()).then(|| known[pick % known.len()])
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn phones_with_wrong_clocks_syncing_in_any_interleaving_converge(
        (offsets, ops) in prop::collection::vec(-3_600_000i64..600_000, 2..6)
            .prop_flat_map(|offsets| {
                let phones = offsets.len();
                (Just(offsets), prop::collection::vec(op(phones), 1..40))
            }),
    ) {
        let mut true_ms = START_MS + 3_600_000;
        let mut server = TestServer::new(true_ms, &[STREET]);
        let mut phones: Vec<Phone> = offsets
            .iter()
            .enumerate()
            .map(|(i, &offset)| Phone {
                replica: Replica::new(&format!("phone-{i}"), SKEW_MS).unwrap(),
                offset,
                cursor: 0,
            })
            .collect();

        for op in ops {
            match op {
                Op::AddHouse { phone, house } => {
                    let now = phones[phone].now(true_ms);
                    phones[phone].replica.add_household(STREET, HOUSE_NUMBERS[house], now);
                }
                Op::Visit { phone, pick, outcome, users } => {
                    let now = phones[phone].now(true_ms);
                    let Some((house, _)) = phones[phone].pick(Kind::Household, pick) else { continue };
                    let visit = NewVisit {
                        outcome,
                        visited_at: "2020-08-18T09:00:00+07:00".to_owned(),
                        smartphone_users: Some(users),
                        app_users: Some(users / 2),
                    };
                    phones[phone].replica.record_visit(STREET, house, visit, now);
                }
                Op::Edit { phone, pick, field, value } => {
                    let now = phones[phone].now(true_ms);
                    let kind = if pick % 2 == 0 { Kind::Household } else { Kind::Visit };
                    let Some((id, household)) = phones[phone].pick(kind, pick / 2) else { continue };
                    phones[phone].replica.edit(kind, id, STREET, household, vec![(field, value)], now);
                }
                Op::Push { phone } => {
                    for result in phones[phone].push(&mut server) {
                        // Only a clock beyond the skew, or what depends on its changes, waits.
                        prop_assert!(result.status != PushStatus::Rejected || result.is_retryable(), "{:?}", result);
                    }
                }
                Op::Pull { phone } => phones[phone].pull(&server, true_ms),
                Op::Wait { ms } => {
                    true_ms += ms;
                    server.now_ms = true_ms;
                }
            }
        }

        // Everyone's clock gets fixed; everyone syncs until nothing is left.
        true_ms += 3_600_000;
        server.now_ms = true_ms;
        for _ in 0..3 {
            for phone in &mut phones {
                phone.offset = 0;
                phone.push(&mut server);
            }
        }
        let expected = server.states();
        for phone in &mut phones {
            phone.pull(&server, true_ms);
            prop_assert!(phone.replica.outbox().is_empty(), "{:?}", phone.replica.outbox());
            let held: std::collections::BTreeMap<_, _> = phone
                .replica
                .records()
                .map(|(&id, record)| (id, record.state.clone()))
                .collect();
            prop_assert_eq!(&held, &expected);
        }
    }
}
