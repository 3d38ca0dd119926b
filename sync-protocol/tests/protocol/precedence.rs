//! The precedence of rejection codes (contract §12) and their wire text.

use serde_json::json;
use sync_protocol::{
    ExistingRecord, HouseholdFacts, PushContext, RecordState, RejectionCode, Role, StreetAccess,
};

use crate::support::{existing_visit, judge, permissive, MINH, OTHER_STREET, STREET};
use crate::validate::{assert_accepted, assert_code, edit, existing_household, field};

const STAMP: &str = "1795931793795-0000-phone-lan";

/// Breaks every rule at once, then mends one at a time: each step must show the next code
/// of contract §12's order.
#[test]
fn when_several_rules_are_broken_the_first_in_contract_order_is_given() {
    let other_kind = RecordState::new();
    let moved = RecordState::new();
    let mut change = edit(json!({
        "review": {"value": "verified", "hlc": "9999999999999-0000-phone"},
        "note": {"value": "x".repeat(501), "hlc": "9999999999999-0000-phone"},
        "lat": {"value": 1, "hlc": "1795931793795-00A0-phone"}
    }));
    let mut ctx = PushContext {
        role: Role::Volunteer,
        street: StreetAccess::Unknown,
        existing: Some(existing_household(&other_kind)),
        household: Some(HouseholdFacts {
            street_id: OTHER_STREET,
        }),
        ..permissive()
    };
    assert_code(judge(change.clone(), &ctx), RejectionCode::Validation); // malformed HLC

    change["fields"]["lat"]["hlc"] = json!("1795931793795-0000-phone");
    assert_code(judge(change.clone(), &ctx), RejectionCode::UnknownStreet);

    ctx.street = StreetAccess::NotAllowed;
    assert_code(judge(change.clone(), &ctx), RejectionCode::NotAssigned);

    ctx.street = StreetAccess::Allowed;
    assert_code(judge(change.clone(), &ctx), RejectionCode::KindMismatch);

    ctx.existing = Some(ExistingRecord {
        street_id: OTHER_STREET,
        ..existing_visit(MINH, &moved)
    });
    assert_code(judge(change.clone(), &ctx), RejectionCode::ImmutableField);

    ctx.existing = Some(existing_visit(MINH, &moved));
    let message = assert_code(judge(change.clone(), &ctx), RejectionCode::ForbiddenField);
    assert!(message.contains("review"), "{message}");

    change["fields"].as_object_mut().unwrap().remove("review");
    assert_code(judge(change.clone(), &ctx), RejectionCode::ForbiddenField); // not its visit

    ctx.existing = None;
    assert_code(judge(change.clone(), &ctx), RejectionCode::ClockSkew);

    change["fields"]["note"]["hlc"] = json!("1795931793795-0000-phone");
    let message = assert_code(judge(change.clone(), &ctx), RejectionCode::Validation);
    assert_eq!(message, "note is longer than 500 characters");

    change["fields"]["note"]["value"] = json!("x");
    let message = assert_code(judge(change.clone(), &ctx), RejectionCode::Validation);
    assert_eq!(message, "the visit's household stands on another street");

    ctx.household = None;
    assert_code(judge(change.clone(), &ctx), RejectionCode::UnknownRecord);

    change["fields"]["outcome"] = json!({"value": "not_home", "hlc": STAMP});
    change["fields"]["visited_at"] = json!({"value": "2020-08-18T09:30:00+07:00", "hlc": STAMP});
    assert_code(judge(change.clone(), &ctx), RejectionCode::UnknownHousehold);

    ctx.household = Some(HouseholdFacts { street_id: STREET });
    assert_accepted(judge(change, &ctx));
}

#[test]
fn a_missing_required_field_comes_before_unknown_household() {
    let ctx = PushContext {
        household: None,
        ..permissive()
    };
    let message = assert_code(
        judge(edit(field("outcome", json!("declined"))), &ctx),
        RejectionCode::Validation,
    );
    assert_eq!(message, "visited_at is required when a visit is created");
}

#[test]
fn the_rejection_codes_have_the_contracts_text_and_retry_rule() {
    let codes = [
        (RejectionCode::Validation, "validation", false),
        (RejectionCode::NotAssigned, "not_assigned", false),
        (RejectionCode::ForbiddenField, "forbidden_field", false),
        (RejectionCode::ImmutableField, "immutable_field", false),
        (RejectionCode::UnknownStreet, "unknown_street", false),
        (RejectionCode::UnknownHousehold, "unknown_household", true),
        (RejectionCode::UnknownRecord, "unknown_record", true),
        (RejectionCode::ClockSkew, "clock_skew", true),
        (RejectionCode::KindMismatch, "kind_mismatch", false),
    ];
    for (code, text, retryable) in codes {
        assert_eq!(code.as_str(), text);
        assert_eq!(code.to_string(), text);
        assert_eq!(serde_json::to_value(code).unwrap(), json!(text));
        assert_eq!(
            serde_json::from_value::<RejectionCode>(json!(text)).unwrap(),
            code
        );
        assert_eq!(code.is_retryable(), retryable, "{text}");
    }
}
