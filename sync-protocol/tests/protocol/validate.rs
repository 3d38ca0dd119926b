//! Validation: every rejection code, the creation rules, and the precedence of contract §12.
//! Field value bounds are in `field_values.rs`.

use serde_json::{json, Value};
use sync_protocol::{
    ExistingRecord, HouseholdFacts, Kind, PushContext, RecordState, Rejection, RejectionCode, Role,
    StreetAccess, ValidChange,
};

use crate::support::{
    existing_visit, judge, permissive, visit_change, visit_creation, HOUSE, LAN, MINH, NOW_MS,
    OTHER_STREET, SKEW_MS, STREET, VISIT,
};

const STAMP: &str = "1795931793795-0000-phone-lan";

pub(crate) fn edit(fields: Value) -> Value {
    visit_change(fields)
}

pub(crate) fn field(name: &str, value: Value) -> Value {
    let mut fields = serde_json::Map::new();
    fields.insert(name.to_owned(), json!({"value": value, "hlc": STAMP}));
    Value::Object(fields)
}

/// Judges a one-field edit of an existing visit owned by the pusher, as an admin.
pub(crate) fn judge_visit_field(name: &str, value: Value) -> Result<ValidChange, Rejection> {
    let state = RecordState::new();
    let ctx = PushContext {
        existing: Some(existing_visit(LAN, &state)),
        ..permissive()
    };
    judge(edit(field(name, value)), &ctx)
}

pub(crate) fn household_change(fields: Value) -> Value {
    json!({"kind": "household", "id": HOUSE, "street_id": STREET, "fields": fields})
}

pub(crate) fn existing_household(state: &RecordState) -> ExistingRecord<'_> {
    ExistingRecord {
        kind: Kind::Household,
        street_id: STREET,
        household_id: None,
        volunteer_id: None,
        other_campaign: false,
        state,
    }
}

/// Judges a one-field edit of an existing household, as an admin.
pub(crate) fn judge_household_field(name: &str, value: Value) -> Result<ValidChange, Rejection> {
    let state = RecordState::new();
    let ctx = PushContext {
        existing: Some(existing_household(&state)),
        household: None,
        ..permissive()
    };
    judge(household_change(field(name, value)), &ctx)
}

#[track_caller]
pub(crate) fn assert_accepted(result: Result<ValidChange, Rejection>) -> ValidChange {
    match result {
        Ok(valid) => valid,
        Err(rejection) => panic!("rejected: {rejection}"),
    }
}

#[track_caller]
pub(crate) fn assert_code(result: Result<ValidChange, Rejection>, code: RejectionCode) -> String {
    match result {
        Ok(valid) => panic!("accepted: {valid:?}"),
        Err(rejection) => {
            assert_eq!(rejection.code, code, "{}", rejection.message);
            rejection.message
        }
    }
}

pub(crate) fn vietnamese(chars: usize) -> String {
    // "ễ" is one character and three bytes.
    "ễ".repeat(chars)
}

// ---- rejection codes, one by one -------------------------------------------------------

#[test]
fn a_visit_creation_with_everything_required_is_accepted_as_a_creation() {
    let valid = assert_accepted(judge(visit_creation(STAMP), &permissive()));
    assert!(valid.is_creation());
    assert_eq!(
        (valid.kind(), valid.id(), valid.street_id()),
        (Kind::Visit, VISIT, STREET)
    );
    assert_eq!(valid.household_id(), Some(HOUSE));
    assert_eq!(valid.fields().len(), 4);
    assert_eq!(valid.max_hlc().unwrap().to_string(), STAMP);
}

#[test]
fn an_unknown_street_is_unknown_street() {
    let ctx = PushContext {
        street: StreetAccess::Unknown,
        ..permissive()
    };
    assert_code(
        judge(visit_creation(STAMP), &ctx),
        RejectionCode::UnknownStreet,
    );
}

#[test]
fn a_street_the_pusher_may_not_push_on_is_not_assigned() {
    let ctx = PushContext {
        street: StreetAccess::NotAllowed,
        role: Role::Volunteer,
        ..permissive()
    };
    assert_code(
        judge(visit_creation(STAMP), &ctx),
        RejectionCode::NotAssigned,
    );
}

#[test]
fn an_id_that_belongs_to_the_other_kind_is_kind_mismatch() {
    let state = RecordState::new();
    let ctx = PushContext {
        existing: Some(existing_household(&state)),
        ..permissive()
    };
    let message = assert_code(
        judge(visit_creation(STAMP), &ctx),
        RejectionCode::KindMismatch,
    );
    assert_eq!(message, "the id belongs to a household");
}

#[test]
fn moving_a_record_to_another_street_is_immutable_field() {
    let state = RecordState::new();
    let existing = ExistingRecord {
        street_id: OTHER_STREET,
        ..existing_visit(LAN, &state)
    };
    let ctx = PushContext {
        existing: Some(existing),
        ..permissive()
    };
    let message = assert_code(
        judge(visit_creation(STAMP), &ctx),
        RejectionCode::ImmutableField,
    );
    assert_eq!(message, "street_id never changes");
}

#[test]
fn moving_a_visit_to_another_household_is_immutable_field() {
    let state = RecordState::new();
    let other_house = uuid::Uuid::from_u128(99);
    let existing = ExistingRecord {
        household_id: Some(other_house),
        ..existing_visit(LAN, &state)
    };
    let ctx = PushContext {
        existing: Some(existing),
        ..permissive()
    };
    let message = assert_code(
        judge(visit_creation(STAMP), &ctx),
        RejectionCode::ImmutableField,
    );
    assert_eq!(message, "household_id never changes");
}

#[test]
fn a_visit_id_of_another_campaign_is_immutable_field() {
    let state = RecordState::new();
    let existing = ExistingRecord {
        other_campaign: true,
        ..existing_visit(LAN, &state)
    };
    let ctx = PushContext {
        existing: Some(existing),
        ..permissive()
    };
    assert_code(
        judge(visit_creation(STAMP), &ctx),
        RejectionCode::ImmutableField,
    );
}

#[test]
fn review_fields_from_a_volunteer_or_supervisor_are_forbidden_field() {
    let state = RecordState::new();
    for role in [Role::Volunteer, Role::Supervisor] {
        let ctx = PushContext {
            role,
            existing: Some(existing_visit(LAN, &state)),
            ..permissive()
        };
        for (name, value) in [("review", json!("verified")), ("review_note", json!("ok"))] {
            let message = assert_code(
                judge(edit(field(name, value)), &ctx),
                RejectionCode::ForbiddenField,
            );
            assert!(message.contains(name), "{message}");
        }
    }
}

#[test]
fn review_fields_from_a_ward_leader_or_admin_are_accepted() {
    let state = RecordState::new();
    for role in [Role::WardLeader, Role::Admin] {
        let ctx = PushContext {
            role,
            existing: Some(existing_visit(MINH, &state)),
            ..permissive()
        };
        let fields = json!({"review": {"value": "rejected", "hlc": STAMP},
                            "review_note": {"value": "nobody lives here", "hlc": STAMP}});
        assert_accepted(judge(edit(fields), &ctx));
    }
}

#[test]
fn a_volunteer_editing_someone_elses_visit_is_forbidden_field() {
    let state = RecordState::new();
    for role in [Role::Volunteer, Role::Supervisor] {
        let ctx = PushContext {
            role,
            existing: Some(existing_visit(MINH, &state)),
            ..permissive()
        };
        let message = assert_code(
            judge(edit(field("note", json!("x"))), &ctx),
            RejectionCode::ForbiddenField,
        );
        assert_eq!(message, "a volunteer changes only the visits it created");
    }
}

#[test]
fn a_volunteer_edits_its_own_visits_and_any_household_on_its_street() {
    let state = RecordState::new();
    let ctx = PushContext {
        role: Role::Volunteer,
        existing: Some(existing_visit(LAN, &state)),
        ..permissive()
    };
    assert_accepted(judge(edit(field("note", json!("x"))), &ctx));
    let ctx = PushContext {
        role: Role::Volunteer,
        existing: Some(existing_household(&state)),
        ..permissive()
    };
    assert_accepted(judge(household_change(field("note", json!("x"))), &ctx));
    let ctx = PushContext {
        role: Role::Volunteer,
        ..permissive()
    };
    assert_accepted(judge(visit_creation(STAMP), &ctx));
}

#[test]
fn a_ward_leader_may_edit_a_volunteers_visit() {
    let state = RecordState::new();
    let ctx = PushContext {
        role: Role::WardLeader,
        existing: Some(existing_visit(MINH, &state)),
        ..permissive()
    };
    assert_accepted(judge(edit(field("outcome", json!("declined"))), &ctx));
}

#[test]
fn an_hlc_more_than_the_skew_ahead_of_the_server_is_clock_skew() {
    let limit = NOW_MS + SKEW_MS;
    let at_limit = format!("{limit:013}-0000-phone");
    let beyond = format!("{:013}-0000-phone", limit + 1);
    let accepted = assert_accepted(judge(visit_creation(&at_limit), &permissive()));
    assert_eq!(accepted.max_hlc().unwrap().ms(), limit);
    let message = assert_code(
        judge(visit_creation(&beyond), &permissive()),
        RejectionCode::ClockSkew,
    );
    assert!(message.contains("300001 ms ahead"), "{message}");
}

#[test]
fn one_skewed_field_among_good_ones_is_enough_for_clock_skew() {
    let mut change = visit_creation(STAMP);
    change["fields"]["note"] = json!({"value": "x", "hlc": "9999999999999-0000-phone"});
    assert_code(judge(change, &permissive()), RejectionCode::ClockSkew);
}

#[test]
fn a_visit_whose_household_is_not_known_is_unknown_household() {
    let ctx = PushContext {
        household: None,
        ..permissive()
    };
    assert_code(
        judge(visit_creation(STAMP), &ctx),
        RejectionCode::UnknownHousehold,
    );
}

#[test]
fn a_visit_whose_household_stands_on_another_street_is_validation() {
    let ctx = PushContext {
        household: Some(HouseholdFacts {
            street_id: OTHER_STREET,
        }),
        ..permissive()
    };
    let message = assert_code(
        judge(visit_creation(STAMP), &ctx),
        RejectionCode::Validation,
    );
    assert_eq!(message, "the visit's household stands on another street");
}

#[test]
fn an_edit_of_a_visit_never_seen_is_unknown_record() {
    for fields in [
        field("note", json!("x")),
        field("deleted", json!(true)),
        json!({"smartphone_users": {"value": 3, "hlc": STAMP}, "app_users": {"value": 1, "hlc": STAMP}}),
    ] {
        assert_code(
            judge(edit(fields), &permissive()),
            RejectionCode::UnknownRecord,
        );
    }
}

// ---- creation rules --------------------------------------------------------------------

#[test]
fn a_visit_creation_with_only_one_of_outcome_and_visited_at_is_validation() {
    let only_outcome = field("outcome", json!("not_home"));
    let message = assert_code(
        judge(edit(only_outcome), &permissive()),
        RejectionCode::Validation,
    );
    assert_eq!(message, "visited_at is required when a visit is created");
    let only_time = field("visited_at", json!("2020-08-18T09:30:00+07:00"));
    let message = assert_code(
        judge(edit(only_time), &permissive()),
        RejectionCode::Validation,
    );
    assert_eq!(message, "outcome is required when a visit is created");
}

#[test]
fn a_visit_creation_with_a_counting_outcome_needs_both_counts() {
    for outcome in ["installed_now", "already_installed", "declined"] {
        for missing in ["smartphone_users", "app_users"] {
            let mut change = visit_creation(STAMP);
            change["fields"]["outcome"]["value"] = json!(outcome);
            change["fields"].as_object_mut().unwrap().remove(missing);
            let message = assert_code(judge(change, &permissive()), RejectionCode::Validation);
            assert_eq!(
                message,
                format!("{missing} is required when a visit is created with outcome {outcome}")
            );
        }
    }
}

#[test]
fn a_visit_creation_with_not_home_or_no_smartphone_needs_no_counts() {
    for outcome in ["not_home", "no_smartphone"] {
        let fields = json!({"outcome": {"value": outcome, "hlc": STAMP},
                            "visited_at": {"value": "2020-08-18T09:30:00+07:00", "hlc": STAMP}});
        assert!(assert_accepted(judge(edit(fields), &permissive())).is_creation());
    }
}

#[test]
fn an_edit_of_an_existing_visit_needs_no_required_field() {
    let valid = assert_accepted(judge_visit_field("outcome", json!("installed_now")));
    assert!(!valid.is_creation());
}

#[test]
fn a_household_creation_needs_a_house_number() {
    let ctx = PushContext {
        household: None,
        ..permissive()
    };
    let message = assert_code(
        judge(household_change(field("note", json!("x"))), &ctx),
        RejectionCode::Validation,
    );
    assert_eq!(
        message,
        "house_number is required when a household is created"
    );
    let valid = assert_accepted(judge(
        household_change(field("house_number", json!("12/5A"))),
        &ctx,
    ));
    assert!(valid.is_creation());
    assert_accepted(judge_household_field("note", json!("x")));
}

#[test]
fn a_household_change_does_not_need_household_facts() {
    let ctx = PushContext {
        household: None,
        ..permissive()
    };
    assert_accepted(judge(
        household_change(field("house_number", json!("12/5A"))),
        &ctx,
    ));
}

#[test]
fn a_household_creation_must_carry_the_deterministic_id_of_its_street_and_number() {
    let message = assert_code(
        judge(
            household_change(field("house_number", json!("7"))),
            &permissive(),
        ),
        RejectionCode::Validation,
    );
    assert!(message.contains("deterministic id"), "{message}");
    // The same house number written another way is the same house.
    assert_accepted(judge(
        household_change(field("house_number", json!(" Số 12/5\u{200b}a"))),
        &permissive(),
    ));
    // A change of a household the server holds is not judged on its id.
    let state = RecordState::new();
    let ctx = PushContext {
        existing: Some(existing_household(&state)),
        ..permissive()
    };
    assert_accepted(judge(
        household_change(field("house_number", json!("7"))),
        &ctx,
    ));
}
