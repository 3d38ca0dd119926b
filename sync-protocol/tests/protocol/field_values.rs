//! Validation of field values: both sides of every bound (contract §6, §12).

use serde_json::{json, Value};
use sync_protocol::{FieldName, PushContext, RecordState, RejectionCode};

use crate::support::{existing_visit, judge, permissive, LAN, NOW_MS, SKEW_MS};
use crate::validate::{
    assert_accepted, assert_code, edit, field, judge_household_field, judge_visit_field, vietnamese,
};

const STAMP: &str = "1795931793795-0000-phone-lan";

#[test]
fn house_number_is_1_to_40_characters_counted_as_characters_not_bytes() {
    assert_accepted(judge_household_field("house_number", json!("7")));
    let forty = vietnamese(40);
    assert_eq!(forty.len(), 120);
    assert_accepted(judge_household_field("house_number", json!(forty)));
    let message = assert_code(
        judge_household_field("house_number", json!(vietnamese(41))),
        RejectionCode::Validation,
    );
    assert_eq!(message, "house_number must be 1 to 40 characters");
    assert_code(
        judge_household_field("house_number", json!("")),
        RejectionCode::Validation,
    );
}

#[test]
fn a_house_number_without_a_letter_or_digit_once_normalized_is_validation() {
    for empty in [
        " ",
        "\u{a0}",
        "Số",
        " số ",
        "\u{200b}",
        "\u{feff}\u{ad}",
        "-",
        "/ -",
        "số -",
    ] {
        let message = assert_code(
            judge_household_field("house_number", json!(empty)),
            RejectionCode::Validation,
        );
        assert_eq!(
            message,
            "house_number holds no letter or digit once normalized"
        );
    }
}

#[test]
fn a_house_number_with_a_control_character_is_validation() {
    for bad in ["12\u{0}", "12\n5", "\u{7f}12", "1\t2"] {
        let message = assert_code(
            judge_household_field("house_number", json!(bad)),
            RejectionCode::Validation,
        );
        assert_eq!(message, "house_number must not contain control characters");
    }
}

#[test]
fn house_number_must_be_a_string_and_never_null() {
    assert_code(
        judge_household_field("house_number", json!(12)),
        RejectionCode::Validation,
    );
    let message = assert_code(
        judge_household_field("house_number", Value::Null),
        RejectionCode::Validation,
    );
    assert_eq!(message, "house_number cannot be null");
}

#[test]
fn notes_are_at_most_500_characters_counted_as_characters_not_bytes() {
    for name in ["note", "review_note"] {
        let five_hundred = vietnamese(500);
        assert_eq!(five_hundred.len(), 1500);
        assert_accepted(judge_visit_field(name, json!(five_hundred)));
        assert_accepted(judge_visit_field(name, json!("")));
        let message = assert_code(
            judge_visit_field(name, json!(vietnamese(501))),
            RejectionCode::Validation,
        );
        assert_eq!(message, format!("{name} is longer than 500 characters"));
        // 501 one-byte characters are as long as 501 three-byte ones.
        assert_code(
            judge_visit_field(name, json!("a".repeat(501))),
            RejectionCode::Validation,
        );
        assert_code(judge_visit_field(name, json!(5)), RejectionCode::Validation);
    }
    assert_accepted(judge_household_field("note", json!(vietnamese(500))));
    assert_code(
        judge_household_field("note", json!(vietnamese(501))),
        RejectionCode::Validation,
    );
}

#[test]
fn null_clears_optional_fields_and_is_refused_for_required_ones() {
    for name in ["note", "lat", "lon", "accuracy_m", "review_note"] {
        let valid = assert_accepted(judge_visit_field(name, Value::Null));
        assert_eq!(valid.fields().values().next().unwrap().value, Value::Null);
    }
    for name in ["note", "lat", "lon"] {
        assert_accepted(judge_household_field(name, Value::Null));
    }
    for name in [
        "outcome",
        "smartphone_users",
        "app_users",
        "visited_at",
        "deleted",
        "review",
    ] {
        let message = assert_code(
            judge_visit_field(name, Value::Null),
            RejectionCode::Validation,
        );
        assert_eq!(message, format!("{name} cannot be null"));
    }
    assert_code(
        judge_household_field("deleted", Value::Null),
        RejectionCode::Validation,
    );
}

#[test]
fn latitude_is_between_minus_90_and_90_for_visits_and_households() {
    for judge_field in [judge_visit_field, judge_household_field] {
        for ok in [
            json!(-90),
            json!(90),
            json!(0),
            json!(10.98),
            json!(-90.0),
            json!(90.0),
        ] {
            assert_accepted(judge_field("lat", ok));
        }
        for bad in [
            json!(-90.000001),
            json!(90.000001),
            json!(1e300),
            json!("10.9"),
            json!(true),
        ] {
            let message = assert_code(judge_field("lat", bad), RejectionCode::Validation);
            assert_eq!(message, "lat must be a number from -90 to 90");
        }
    }
}

#[test]
fn longitude_is_between_minus_180_and_180_for_visits_and_households() {
    for judge_field in [judge_visit_field, judge_household_field] {
        for ok in [json!(-180), json!(180), json!(106.65)] {
            assert_accepted(judge_field("lon", ok));
        }
        for bad in [json!(-180.000001), json!(180.000001), json!("106")] {
            assert_code(judge_field("lon", bad), RejectionCode::Validation);
        }
    }
}

#[test]
fn accuracy_is_a_number_of_at_least_zero() {
    for ok in [json!(0), json!(0.0), json!(-0.0), json!(5.5), json!(1e9)] {
        assert_accepted(judge_visit_field("accuracy_m", ok));
    }
    for bad in [json!(-0.001), json!(-1), json!("5")] {
        assert_code(
            judge_visit_field("accuracy_m", bad),
            RejectionCode::Validation,
        );
    }
}

#[test]
fn numbers_are_stored_in_canonical_form() {
    let stored = |name, value| {
        let valid = assert_accepted(judge_visit_field(name, value));
        valid.fields().values().next().unwrap().value.clone()
    };
    assert_eq!(stored("lat", json!(10.0)), json!(10));
    assert_eq!(stored("lat", json!(-0.0)), json!(0));
    assert_eq!(stored("lat", json!(10.5)), json!(10.5));
    assert_eq!(stored("smartphone_users", json!(3)), json!(3));
}

#[test]
fn counts_are_integers_from_0_to_50() {
    for name in ["smartphone_users", "app_users"] {
        for ok in [json!(0), json!(50)] {
            assert_accepted(judge_visit_field(name, ok));
        }
        for bad in [
            json!(-1),
            json!(51),
            json!(3.0),
            json!(2.5),
            json!("3"),
            json!(true),
            json!(u64::MAX),
        ] {
            let message = assert_code(
                judge_visit_field(name, bad.clone()),
                RejectionCode::Validation,
            );
            assert_eq!(
                message,
                format!("{name} must be an integer from 0 to 50"),
                "{bad}"
            );
        }
    }
}

#[test]
fn app_users_above_smartphone_users_in_one_change_is_validation() {
    let counts = |smartphone: u32, app: u32| json!({"smartphone_users": {"value": smartphone, "hlc": STAMP}, "app_users": {"value": app, "hlc": STAMP}});
    let state = RecordState::new();
    let ctx = PushContext {
        existing: Some(existing_visit(LAN, &state)),
        ..permissive()
    };
    assert_accepted(judge(edit(counts(2, 2)), &ctx));
    assert_accepted(judge(edit(counts(0, 0)), &ctx));
    let message = assert_code(judge(edit(counts(1, 2)), &ctx), RejectionCode::Validation);
    assert_eq!(message, "app_users is above smartphone_users");
}

#[test]
fn app_users_alone_is_not_compared_with_the_stored_smartphone_users() {
    let state: RecordState = serde_json::from_value(json!({
        "smartphone_users": {"value": 1, "hlc": STAMP}
    }))
    .unwrap();
    let ctx = PushContext {
        existing: Some(existing_visit(LAN, &state)),
        ..permissive()
    };
    assert_accepted(judge(edit(field("app_users", json!(5))), &ctx));
}

#[test]
fn outcome_is_one_of_the_five_names() {
    for ok in [
        "installed_now",
        "already_installed",
        "declined",
        "not_home",
        "no_smartphone",
    ] {
        assert_accepted(judge_visit_field("outcome", json!(ok)));
    }
    for bad in [
        json!("Installed_now"),
        json!("installed"),
        json!(""),
        json!(1),
    ] {
        assert_code(judge_visit_field("outcome", bad), RejectionCode::Validation);
    }
}

#[test]
fn review_is_pending_verified_or_rejected() {
    for ok in ["pending", "verified", "rejected"] {
        assert_accepted(judge_visit_field("review", json!(ok)));
    }
    for bad in [json!("approved"), json!("Verified"), json!(false)] {
        assert_code(judge_visit_field("review", bad), RejectionCode::Validation);
    }
}

#[test]
fn deleted_is_a_boolean() {
    assert_accepted(judge_visit_field("deleted", json!(true)));
    assert_accepted(judge_household_field("deleted", json!(false)));
    for bad in [json!("true"), json!(1), json!(0)] {
        assert_code(
            judge_visit_field("deleted", bad.clone()),
            RejectionCode::Validation,
        );
        assert_code(
            judge_household_field("deleted", bad),
            RejectionCode::Validation,
        );
    }
}

#[test]
fn visited_at_is_rfc_3339_with_an_offset_and_kept_byte_for_byte() {
    for ok in [
        "2020-08-18T09:30:00+07:00",
        "2020-08-18T02:30:00Z",
        "2020-08-18T09:30:00.123456+07:00",
        "2020-08-18T02:30:00-00:00",
    ] {
        let valid = assert_accepted(judge_visit_field("visited_at", json!(ok)));
        assert_eq!(valid.fields()[&FieldName::VisitedAt].value, json!(ok));
    }
    for bad in [
        json!("2020-08-18T09:30:00"),
        json!("2020-08-18"),
        json!("18/08/2020 09:30"),
        json!("2020-08-18T25:30:00+07:00"),
        json!(1597717800000u64),
    ] {
        let message = assert_code(
            judge_visit_field("visited_at", bad),
            RejectionCode::Validation,
        );
        assert_eq!(
            message,
            "visited_at must be an RFC 3339 date and time with an offset"
        );
    }
}

#[test]
fn visited_at_may_be_at_most_the_skew_in_the_future() {
    let at = |ms: u64| {
        let instant = chrono::DateTime::from_timestamp_millis(i64::try_from(ms).unwrap()).unwrap();
        json!(instant
            .with_timezone(&chrono::FixedOffset::east_opt(7 * 3600).unwrap())
            .to_rfc3339())
    };
    assert_accepted(judge_visit_field("visited_at", at(NOW_MS + SKEW_MS)));
    let message = assert_code(
        judge_visit_field("visited_at", at(NOW_MS + SKEW_MS + 1)),
        RejectionCode::Validation,
    );
    assert_eq!(message, "visited_at is too far in the future");
}
