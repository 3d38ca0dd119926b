//! Property tests: the merge is a join (commutative, associative, idempotent), replicas
//! converge under any order and duplication, incremental counters equal a recount, and HLCs
//! from interleaved clocks are strictly increasing and unique.

use std::collections::{BTreeMap, HashSet};

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{json, Value};
use sync_protocol::{
    decode, delta, household_coverage, join, merge, validate, Change, Clock, CounterDelta,
    Counters, ExistingRecord, FieldName, Hlc, HouseholdCoverage, Kind, Outcome, PushContext,
    RecordState, Review, Stamped, ValidChange, VisitFacts,
};
use uuid::Uuid;

use crate::support::{permissive, LAN, STREET};

/// 2020-08-18 16:20:00 +07:00; generated HLCs sit a few milliseconds after it.
const BASE_MS: u64 = 1_597_742_400_000;

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(1000)
}

/// A small HLC space, so that equal HLCs (and so value tie-breaks) are frequent.
fn small_hlc() -> impl Strategy<Value = Hlc> {
    (0u64..4, 0u16..3, select(vec!["a", "b", "c"]))
        .prop_map(|(ms, counter, node)| Hlc::new(BASE_MS + ms, counter, node).unwrap())
}

fn text_or_null() -> impl Strategy<Value = Value> {
    prop_oneof![Just(Value::Null), "[ađx]{0,2}".prop_map(Value::from)]
}

fn half_steps(low: i32, high: i32) -> impl Strategy<Value = Value> {
    (low..=high).prop_map(|x| json!(f64::from(x) * 0.5))
}

fn names<T: Copy + std::fmt::Display + std::fmt::Debug + 'static>(
    all: &'static [T],
) -> impl Strategy<Value = Value> {
    select(all).prop_map(|x| Value::from(x.to_string()))
}

/// `visited_at` texts: two of them name the same instant with different offsets.
fn visited_at() -> impl Strategy<Value = Value> {
    select(vec![
        "2020-08-18T09:00:00+07:00",
        "2020-08-18T02:00:00Z",
        "2020-08-18T10:00:00+07:00",
        "2020-08-17T23:30:00-05:00",
    ])
    .prop_map(Value::from)
}

/// A valid (field, value) of a visit, null included where the field is optional.
fn visit_field() -> impl Strategy<Value = (FieldName, Value)> {
    prop_oneof![
        names(Outcome::ALL).prop_map(|v| (FieldName::Outcome, v)),
        visited_at().prop_map(|v| (FieldName::VisitedAt, v)),
        (0u32..4).prop_map(|n| (FieldName::SmartphoneUsers, json!(n))),
        (0u32..4).prop_map(|n| (FieldName::AppUsers, json!(n))),
        any::<bool>().prop_map(|b| (FieldName::Deleted, json!(b))),
        names(Review::ALL).prop_map(|v| (FieldName::Review, v)),
        text_or_null().prop_map(|v| (FieldName::Note, v)),
        text_or_null().prop_map(|v| (FieldName::ReviewNote, v)),
        prop_oneof![Just(Value::Null), half_steps(-4, 4)].prop_map(|v| (FieldName::Lat, v)),
        prop_oneof![Just(Value::Null), half_steps(0, 3)].prop_map(|v| (FieldName::AccuracyM, v)),
    ]
}

/// 1–4 fields stamped with one HLC, as a phone's edit is.
fn visit_fields() -> impl Strategy<Value = BTreeMap<FieldName, Stamped>> {
    (prop::collection::vec(visit_field(), 1..5), small_hlc()).prop_map(|(fields, hlc)| {
        let mut fields: BTreeMap<FieldName, Value> = fields.into_iter().collect();
        // app_users ≤ smartphone_users within one change, or validation refuses it.
        if let (Some(smartphone), Some(app)) = (
            fields
                .get(&FieldName::SmartphoneUsers)
                .and_then(Value::as_u64),
            fields.get(&FieldName::AppUsers).and_then(Value::as_u64),
        ) {
            fields.insert(FieldName::AppUsers, json!(app.min(smartphone)));
        }
        fields
            .into_iter()
            .map(|(name, value)| (name, Stamped::new(value, hlc.clone())))
            .collect()
    })
}

/// Validates generated fields as an edit of an existing record (no creation rules).
fn valid_edit(
    kind: Kind,
    id: Uuid,
    household: Option<Uuid>,
    fields: &BTreeMap<FieldName, Stamped>,
) -> ValidChange {
    let state = RecordState::new();
    let ctx = PushContext {
        existing: Some(ExistingRecord {
            kind,
            street_id: STREET,
            household_id: household,
            volunteer_id: Some(LAN),
            other_campaign: false,
            state: &state,
        }),
        ..permissive()
    };
    let change = Change::new(kind, id, STREET, household, fields);
    decode(&change)
        .and_then(|decoded| validate(decoded, &ctx))
        .unwrap_or_else(|rejection| panic!("generated change refused: {rejection}"))
}

const RECORD: Uuid = Uuid::from_u128(0x5157);
const HOUSE: Uuid = Uuid::from_u128(0x4005e);

fn visit_change() -> impl Strategy<Value = ValidChange> {
    visit_fields().prop_map(|fields| valid_edit(Kind::Visit, RECORD, Some(HOUSE), &fields))
}

fn state_from(changes: &[ValidChange]) -> RecordState {
    let mut state = RecordState::new();
    for change in changes {
        merge(&mut state, change);
    }
    state
}

fn record_state() -> impl Strategy<Value = RecordState> {
    prop::collection::vec(visit_change(), 0..6).prop_map(|changes| state_from(&changes))
}

/// Changes plus, for each replica, a delivery order: every change at least once, some
/// twice, shuffled.
fn deliveries<T: Clone + std::fmt::Debug>(
    changes: impl Strategy<Value = Vec<T>>,
    replicas: std::ops::Range<usize>,
) -> impl Strategy<Value = (Vec<T>, Vec<Vec<usize>>)> {
    changes.prop_flat_map(move |changes| {
        let n = changes.len();
        let order = prop::collection::vec(0..n.max(1), 0..=n).prop_flat_map(move |extra| {
            let mut all: Vec<usize> = (0..n).collect();
            all.extend(extra.into_iter().filter(|&i| i < n));
            Just(all).prop_shuffle()
        });
        (
            Just(changes),
            prop::collection::vec(order, replicas.clone()),
        )
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn join_is_commutative(a in record_state(), b in record_state()) {
        prop_assert_eq!(join(&a, &b), join(&b, &a));
    }

    #[test]
    fn join_is_associative(a in record_state(), b in record_state(), c in record_state()) {
        prop_assert_eq!(join(&join(&a, &b), &c), join(&a, &join(&b, &c)));
    }

    #[test]
    fn join_is_idempotent(a in record_state(), b in record_state()) {
        prop_assert_eq!(join(&a, &a), a.clone());
        let ab = join(&a, &b);
        prop_assert_eq!(join(&ab, &b), ab);
    }

    #[test]
    fn merging_a_change_is_joining_its_fields(state in record_state(), change in visit_change()) {
        let mut merged = state.clone();
        let outcome = merge(&mut merged, &change);
        let single: RecordState = change.fields().clone().into_iter().collect();
        prop_assert_eq!(&merged, &join(&state, &single));
        prop_assert_eq!(outcome.applied(), merged != state);
        prop_assert_eq!(outcome.won.len() + outcome.lost.len() + outcome.same.len(), change.fields().len());
    }

    #[test]
    fn merging_the_same_change_twice_changes_nothing_the_second_time(
        state in record_state(),
        change in visit_change(),
    ) {
        let mut once = state;
        merge(&mut once, &change);
        let mut twice = once.clone();
        let outcome = merge(&mut twice, &change);
        prop_assert!(!outcome.applied());
        prop_assert_eq!(twice, once);
    }

    #[test]
    fn merge_sequences_in_any_order_with_duplicates_give_one_state(
        (changes, orders) in deliveries(prop::collection::vec(visit_change(), 1..10), 2..3),
    ) {
        let in_order = state_from(&changes);
        for order in orders {
            let delivered: Vec<ValidChange> = order.iter().map(|&i| changes[i].clone()).collect();
            prop_assert_eq!(state_from(&delivered), in_order.clone());
        }
    }

    #[test]
    fn any_number_of_replicas_receiving_the_same_changes_converge(
        (changes, orders) in deliveries(
            prop::collection::vec((0u128..3, visit_fields()), 1..16)
                .prop_map(|edits| edits.into_iter()
                    .map(|(record, fields)| valid_edit(Kind::Visit, Uuid::from_u128(record), Some(HOUSE), &fields))
                    .collect::<Vec<_>>()),
            2..7,
        ),
    ) {
        let replicas: Vec<BTreeMap<Uuid, RecordState>> = orders
            .iter()
            .map(|order| {
                let mut records: BTreeMap<Uuid, RecordState> = BTreeMap::new();
                for &i in order {
                    merge(records.entry(changes[i].id()).or_default(), &changes[i]);
                }
                records
            })
            .collect();
        for replica in &replicas[1..] {
            prop_assert_eq!(replica, &replicas[0]);
        }
    }
}

// ---- counters --------------------------------------------------------------------------

const HOUSEHOLDS: u128 = 3;
const VISITS: u128 = 6;

fn household_of(visit: u128) -> Uuid {
    Uuid::from_u128(0x4000 + visit % HOUSEHOLDS)
}

/// A change of one of 6 visits (on 3 households) or of a household's `deleted`.
fn coverage_change() -> impl Strategy<Value = ValidChange> {
    prop_oneof![
        3 => (0..VISITS, visit_fields()).prop_map(|(visit, fields)| {
            valid_edit(Kind::Visit, Uuid::from_u128(0x7000 + visit), Some(household_of(visit)), &fields)
        }),
        1 => (0..HOUSEHOLDS, any::<bool>(), small_hlc()).prop_map(|(house, deleted, hlc)| {
            let fields = BTreeMap::from([(FieldName::Deleted, Stamped::new(json!(deleted), hlc))]);
            valid_edit(Kind::Household, Uuid::from_u128(0x4000 + house), None, &fields)
        }),
    ]
}

struct Street {
    records: BTreeMap<Uuid, (Option<Uuid>, RecordState)>,
}

impl Street {
    fn coverage(&self, house: Uuid) -> HouseholdCoverage {
        let Some((_, household)) = self.records.get(&house) else {
            return HouseholdCoverage::default();
        };
        let visits: Vec<VisitFacts> = self
            .records
            .iter()
            .filter(|(_, (of, _))| *of == Some(house))
            .filter_map(|(&id, (_, state))| VisitFacts::from_state(id, state))
            .collect();
        household_coverage(household.deleted(), &visits)
    }

    fn recount(&self) -> Counters {
        let all: Vec<HouseholdCoverage> = (0..HOUSEHOLDS)
            .map(|house| self.coverage(Uuid::from_u128(0x4000 + house)))
            .collect();
        Counters::recount(&all)
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn incremental_counter_deltas_always_equal_a_full_recount(
        changes in prop::collection::vec(coverage_change(), 1..30),
        created in prop::collection::vec(any::<bool>(), HOUSEHOLDS as usize),
    ) {
        // Some households exist from the start, the others are created on the way.
        let mut street = Street { records: BTreeMap::new() };
        for (house, _) in created.iter().enumerate().filter(|(_, exists)| **exists) {
            street.records.insert(Uuid::from_u128(0x4000 + house as u128), (None, RecordState::new()));
        }
        let initial = street.recount();
        let mut counters = initial;
        let mut summed = CounterDelta::default();
        for change in &changes {
            let house = change.household_id().unwrap_or(change.id());
            let before = street.coverage(house);
            let (_, state) = street
                .records
                .entry(change.id())
                .or_insert_with(|| (change.household_id(), RecordState::new()));
            merge(state, change);
            let step = delta(&before, &street.coverage(house));
            counters.apply(step);
            summed += step;
            prop_assert_eq!(counters, street.recount(), "after {:?}", change);
        }
        let mut replayed = initial;
        replayed.apply(summed);
        prop_assert_eq!(replayed, street.recount());
    }
}

// ---- clocks ----------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum ClockOp {
    Tick { clock: usize, now: u64 },
    Observe { clock: usize, from: usize, now: u64 },
    Witness { clock: usize, from: usize },
}

fn wall_clock() -> impl Strategy<Value = u64> {
    prop_oneof![
        8 => (0u64..50).prop_map(|ms| BASE_MS + ms),
        1 => (0u64..1_000_000).prop_map(|ms| BASE_MS + ms),
        1 => Just(BASE_MS - 10_000),
    ]
}

fn clock_ops(clocks: usize) -> impl Strategy<Value = Vec<ClockOp>> {
    let op = prop_oneof![
        4 => (0..clocks, wall_clock()).prop_map(|(clock, now)| ClockOp::Tick { clock, now }),
        2 => (0..clocks, 0..clocks, wall_clock()).prop_map(|(clock, from, now)| ClockOp::Observe { clock, from, now }),
        1 => (0..clocks, 0..clocks).prop_map(|(clock, from)| ClockOp::Witness { clock, from }),
    ];
    prop::collection::vec(op, 1..60)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn hlcs_from_interleaved_clocks_increase_per_clock_and_never_repeat(
        (drift, ops) in (0u64..2_000, 2usize..6).prop_flat_map(|(drift, n)| (Just(drift), clock_ops(n).prop_map(move |ops| (n, ops)))),
    ) {
        let (n, ops) = ops;
        let mut clocks: Vec<Clock> = (0..n).map(|i| Clock::new(&format!("node-{i}"), drift).unwrap()).collect();
        let mut last: Vec<Option<Hlc>> = vec![None; n];
        // The largest HLC each clock has taken in: its next tick must exceed it.
        let mut floor: Vec<Option<Hlc>> = vec![None; n];
        let mut seen = HashSet::new();
        for op in ops {
            match op {
                ClockOp::Tick { clock, now } => {
                    let stamp = clocks[clock].tick(now);
                    if let Some(previous) = &last[clock] {
                        prop_assert!(stamp > *previous, "{} after {}", stamp, previous);
                    }
                    if let Some(taken) = &floor[clock] {
                        prop_assert!(stamp > *taken, "{} after taking in {}", stamp, taken);
                    }
                    prop_assert!(seen.insert(stamp.clone()), "{} issued twice", stamp);
                    prop_assert_eq!(stamp.to_string().parse::<Hlc>().unwrap(), stamp.clone());
                    last[clock] = Some(stamp);
                }
                ClockOp::Observe { clock, from, now } => {
                    let Some(remote) = last[from].clone() else { continue };
                    let before = clocks[clock].clone();
                    match clocks[clock].observe(&remote, now) {
                        Ok(()) => floor[clock] = floor[clock].clone().max(Some(remote)),
                        Err(refused) => {
                            prop_assert!(remote.ms() > now + drift);
                            prop_assert_eq!(refused.remote, remote);
                            prop_assert_eq!(&clocks[clock], &before);
                        }
                    }
                }
                ClockOp::Witness { clock, from } => {
                    let Some(stored) = last[from].clone() else { continue };
                    clocks[clock].witness(&stored);
                    floor[clock] = floor[clock].clone().max(Some(stored));
                }
            }
        }
    }

    #[test]
    fn any_text_either_parses_to_an_hlc_that_prints_back_or_is_an_error(
        text in prop_oneof![
            "[0-9]{13}-[0-9a-f]{4}-[!-~]{1,64}",
            "[0-9]{11,14}-[0-9a-fA-F]{3,5}-[ -~]{0,66}",
            ".{0,30}",
        ],
    ) {
        if let Ok(parsed) = text.parse::<Hlc>() {
            prop_assert_eq!(parsed.to_string(), text);
        }
    }
}
