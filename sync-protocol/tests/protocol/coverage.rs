//! Coverage rules (contract §9, §12).

use chrono::DateTime;
use serde_json::json;
use sync_protocol::{
    delta, household_coverage, CounterDelta, Counters, HouseholdCoverage, Outcome, RecordState,
    Review, VisitFacts,
};
use uuid::Uuid;

fn visit(id: u128, at: &str, outcome: Outcome, users: u32, app: u32) -> VisitFacts {
    VisitFacts {
        id: Uuid::from_u128(id),
        visited_at: DateTime::parse_from_rfc3339(at).unwrap(),
        visited_at_text: at.to_owned(),
        outcome,
        smartphone_users: users,
        app_users: app,
        deleted: false,
        review: Review::Pending,
    }
}

#[test]
fn a_household_without_visits_is_counted_but_neither_attempted_nor_reached() {
    let coverage = household_coverage(false, &[]);
    assert_eq!(
        coverage,
        HouseholdCoverage {
            counted: true,
            ..Default::default()
        }
    );
}

#[test]
fn a_household_that_does_not_exist_yet_contributes_nothing() {
    assert!(CounterDelta::of(&HouseholdCoverage::default()).is_zero());
}

#[test]
fn a_deleted_household_counts_nowhere_whatever_its_visits() {
    let visits = [visit(
        1,
        "2020-08-18T09:30:00+07:00",
        Outcome::InstalledNow,
        3,
        2,
    )];
    assert_eq!(
        household_coverage(true, &visits),
        HouseholdCoverage::default()
    );
}

#[test]
fn the_latest_conclusive_visit_gives_the_counts() {
    let visits = [
        visit(1, "2020-08-19T09:30:00+07:00", Outcome::InstalledNow, 4, 4),
        visit(2, "2020-08-18T09:30:00+07:00", Outcome::Declined, 3, 0),
    ];
    let coverage = household_coverage(false, &visits);
    assert_eq!((coverage.smartphone_users, coverage.app_users), (4, 4));
    assert!(coverage.reached && coverage.attempted);
}

#[test]
fn latest_is_by_instant_not_by_text_so_offsets_are_honoured() {
    // 09:30+07:00 is 02:30Z, earlier than 03:00Z although its text sorts later.
    let visits = [
        visit(1, "2020-08-18T09:30:00+07:00", Outcome::InstalledNow, 5, 5),
        visit(2, "2020-08-18T03:00:00Z", Outcome::Declined, 2, 1),
    ];
    let coverage = household_coverage(false, &visits);
    assert_eq!((coverage.smartphone_users, coverage.app_users), (2, 1));
    assert_eq!(coverage.last_visit_at.unwrap().1, "2020-08-18T03:00:00Z");
}

#[test]
fn equal_visited_at_is_broken_by_the_larger_visit_id() {
    let visits = [
        visit(9, "2020-08-18T09:30:00+07:00", Outcome::InstalledNow, 5, 5),
        visit(3, "2020-08-18T02:30:00Z", Outcome::Declined, 2, 1),
    ];
    let coverage = household_coverage(false, &visits);
    assert_eq!((coverage.smartphone_users, coverage.app_users), (5, 5));
    assert_eq!(
        coverage.last_visit_at.unwrap().1,
        "2020-08-18T09:30:00+07:00"
    );
}

#[test]
fn not_home_deleted_and_rejected_visits_are_not_conclusive() {
    let mut deleted = visit(2, "2020-08-20T09:30:00+07:00", Outcome::InstalledNow, 9, 9);
    deleted.deleted = true;
    let mut rejected = visit(3, "2020-08-21T09:30:00+07:00", Outcome::InstalledNow, 8, 8);
    rejected.review = Review::Rejected;
    let visits = [
        visit(1, "2020-08-18T09:30:00+07:00", Outcome::Declined, 3, 1),
        deleted,
        rejected,
        visit(4, "2020-08-22T09:30:00+07:00", Outcome::NotHome, 7, 7),
    ];
    let coverage = household_coverage(false, &visits);
    assert_eq!((coverage.smartphone_users, coverage.app_users), (3, 1));
    assert_eq!(
        coverage.last_visit_at.unwrap().1,
        "2020-08-22T09:30:00+07:00"
    );
}

#[test]
fn a_verified_visit_is_conclusive() {
    let mut verified = visit(
        1,
        "2020-08-18T09:30:00+07:00",
        Outcome::AlreadyInstalled,
        2,
        2,
    );
    verified.review = Review::Verified;
    assert!(household_coverage(false, &[verified]).reached);
}

#[test]
fn only_not_home_visits_make_a_household_attempted_but_not_reached() {
    let coverage = household_coverage(
        false,
        &[visit(
            1,
            "2020-08-18T09:30:00+07:00",
            Outcome::NotHome,
            0,
            0,
        )],
    );
    assert!(coverage.attempted && !coverage.reached);
    assert_eq!((coverage.smartphone_users, coverage.app_users), (0, 0));
}

#[test]
fn only_deleted_visits_leave_a_household_unattempted_with_no_last_visit() {
    let mut gone = visit(1, "2020-08-18T09:30:00+07:00", Outcome::InstalledNow, 3, 3);
    gone.deleted = true;
    let coverage = household_coverage(false, &[gone]);
    assert_eq!(
        coverage,
        HouseholdCoverage {
            counted: true,
            ..Default::default()
        }
    );
}

#[test]
fn no_smartphone_counts_zero_and_zero_whatever_was_written() {
    let coverage = household_coverage(
        false,
        &[visit(
            1,
            "2020-08-18T09:30:00+07:00",
            Outcome::NoSmartphone,
            4,
            2,
        )],
    );
    assert!(coverage.reached);
    assert_eq!((coverage.smartphone_users, coverage.app_users), (0, 0));
}

#[test]
fn app_users_are_capped_at_smartphone_users() {
    // Two separate edits can leave app_users above smartphone_users.
    let coverage = household_coverage(
        false,
        &[visit(
            1,
            "2020-08-18T09:30:00+07:00",
            Outcome::InstalledNow,
            2,
            5,
        )],
    );
    assert_eq!((coverage.smartphone_users, coverage.app_users), (2, 2));
}

#[test]
fn visit_facts_read_a_state_with_defaults_and_need_outcome_and_visited_at() {
    let id = Uuid::from_u128(1);
    let state: RecordState = serde_json::from_value(json!({
        "outcome": {"value": "declined", "hlc": "1597742400000-0000-p"},
        "visited_at": {"value": "2020-08-18T09:30:00+07:00", "hlc": "1597742400000-0000-p"}
    }))
    .unwrap();
    let facts = VisitFacts::from_state(id, &state).unwrap();
    assert_eq!(
        (facts.smartphone_users, facts.app_users, facts.deleted),
        (0, 0, false)
    );
    assert_eq!(facts.review, Review::Pending);
    assert_eq!(facts.visited_at_text, "2020-08-18T09:30:00+07:00");

    let mut no_time = state.clone();
    no_time.fields.remove(&sync_protocol::FieldName::VisitedAt);
    assert_eq!(VisitFacts::from_state(id, &no_time), None);
    let mut no_outcome = state;
    no_outcome.fields.remove(&sync_protocol::FieldName::Outcome);
    assert_eq!(VisitFacts::from_state(id, &no_outcome), None);
}

#[test]
fn deltas_sum_to_the_recount() {
    let empty = HouseholdCoverage::default();
    let created = household_coverage(false, &[]);
    let visited = household_coverage(
        false,
        &[visit(
            1,
            "2020-08-18T09:30:00+07:00",
            Outcome::InstalledNow,
            3,
            2,
        )],
    );
    let deleted = household_coverage(true, &[]);
    let steps = [&empty, &created, &visited, &deleted, &visited];
    let total: CounterDelta = steps.windows(2).map(|pair| delta(pair[0], pair[1])).sum();
    let mut counters = Counters::default();
    counters.apply(total);
    assert_eq!(counters, Counters::recount([&visited]));
    assert_eq!(
        counters,
        Counters {
            households_total: 1,
            households_attempted: 1,
            households_reached: 1,
            smartphone_users: 3,
            app_users: 2
        }
    );
    assert!(delta(&visited, &visited).is_zero());
    let mut accumulated = CounterDelta::default();
    accumulated += delta(&empty, &visited);
    accumulated += delta(&visited, &deleted);
    assert!(accumulated.is_zero());
}
